"""The `signals` section's worker: one size, in a fresh interpreter (see benchmarks/signals.py).

    python -m benchmarks._signals_worker WORKDIR SUBSCRIBERS ALERTS BURST

Prints one JSON object of figures as its last line. The bot runs as `app.build` builds it,
with STRIPE_WEBHOOK_SECRET set, against the test suite's FakeSlack; deliveries are signed as
Stripe signs them and posted over HTTP to `/hooks/stripe`.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._slack_worker import build_data, start_bot
from benchmarks.core import peak_rss_mb
from benchmarks.slack import percentile
from tests.hooks import STRIPE_SECRET, stripe_event, stripe_signature

ALERTS = "C0ALERTS"
T0 = 1781530200
SENDERS = 8  # concurrent connections for the burst


def _watched_slack() -> Any:
    """A FakeSlack noting when each alert (by its metadata key) reached chat.postMessage."""
    from tests.fakeslack.server import FakeSlack

    class AlertSlack(FakeSlack):
        def __init__(self) -> None:
            super().__init__()
            self.posted: dict[str, float] = {}

        def dispatch(self, method: str, args: dict[str, Any], token: str | None) -> Any:
            answer = super().dispatch(method, args, token)
            if method == "chat.postMessage":
                meta = args.get("metadata")
                meta = json.loads(meta) if isinstance(meta, str) else (meta or {})
                key = (meta.get("event_payload") or {}).get("key")
                if key:
                    self.posted[str(key)] = time.perf_counter()
            return answer

    return AlertSlack()


def _post(conn: http.client.HTTPConnection, body: bytes) -> int:
    conn.request(
        "POST",
        "/hooks/stripe",
        body=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": stripe_signature(body)},
    )
    answer = conn.getresponse()
    answer.read()
    return answer.status


def measure_alerts(runtime: Any, fake: Any, count: int, size: int) -> dict[str, Any]:
    """`count` failed payments one after another: answer time, and time to the alert's post."""
    port = runtime.server.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    answers, alerts = [], []
    step = max(size // count, 1)
    for n in range(count):
        sid = f"cus_{(n * step) % size:06d}"
        event = stripe_event(
            "invoice.payment_failed",
            f"evt_fail_{n}",
            T0 + n,
            customer=sid,
            attempt_count=1,
            amount_due=4900,
            next_payment_attempt=T0 + n + 3 * 86400,
        )
        body = json.dumps(event).encode()
        start = time.perf_counter()
        if _post(conn, body) != 200:
            raise RuntimeError(f"delivery {n} was refused")
        answers.append((time.perf_counter() - start) * 1000)
        key = f"stripe:evt_fail_{n}:payment_failed"
        deadline = time.monotonic() + 30
        while key not in fake.posted:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no alert for delivery {n}")
            time.sleep(0.001)
        alerts.append((fake.posted[key] - start) * 1000)
    conn.close()
    return {
        "alerts": count,
        "answer_p50_ms": statistics.median(answers),
        "answer_p95_ms": percentile(answers, 95),
        "alert_p50_ms": statistics.median(alerts),
        "alert_p95_ms": percentile(alerts, 95),
    }


def measure_burst(runtime: Any, count: int, size: int) -> dict[str, Any]:
    """`count` subscription updates from SENDERS connections at once: accept rate, none lost."""
    port = runtime.server.port
    bodies = []
    for n in range(count):
        sid = f"cus_{n % size:06d}"
        event = stripe_event(
            "customer.subscription.updated",
            f"evt_burst_{n}",
            T0 - count + n,  # the month's renewals, up to the bot's clock (never ahead of it)
            id=f"sub_{sid}",
            customer=sid,
            status="past_due" if n % 2 else "active",
        )
        bodies.append(json.dumps(event).encode())
    statuses: dict[int, int] = defaultdict(int)
    lock = threading.Lock()

    def send(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in chunk:
            status = _post(conn, body)
            with lock:
                statuses[status] += 1
        conn.close()

    chunks = [bodies[i::SENDERS] for i in range(SENDERS)]
    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, chunks))
    accepted_s = time.perf_counter() - start
    accepted_cpu_s = time.process_time() - cpu
    intake = runtime.services.signals.intake
    journal = intake.journal
    while not intake.idle():
        time.sleep(0.05)
    applied_s = time.perf_counter() - start
    counts = journal.counts().get("stripe", {})
    stored = sum(v for k, v in counts.items() if k != "last_received")
    burst_keys = sum(1 for n in range(count) if journal.get(f"stripe:evt_burst_{n}") is not None)
    return {
        "burst": count,
        "burst_answered_200": statuses.get(200, 0),
        "burst_stored": burst_keys,
        "burst_lost": count - burst_keys,
        "journal_total": stored,
        "accept_rate": count / accepted_s,
        # The process's CPU while the burst was accepted (receivers, the applier running beside
        # them, and the senders, which share the process) per delivery: how fast one free core
        # could accept, whatever the machine's load.
        "accept_cpu_ms": accepted_cpu_s * 1000 / count,
        "accept_rate_per_cpu_s": count / accepted_cpu_s if accepted_cpu_s else None,
        "accepted_s": accepted_s,
        "applied_s": applied_s,
        "pending_after": sum(counts.get(status, 0) for status in ("pending", "failed", "held")),
    }


def main(workdir: str, size: int, alerts: int, burst: int) -> dict[str, Any]:
    data_dir = Path(workdir) / "data"
    start = time.perf_counter()
    build_data(data_dir, size, due=1)
    built = time.perf_counter() - start
    fake = _watched_slack().start()
    fake.add_channel(ALERTS, "care-alerts")
    from bot.posting import Pacer

    runtime = start_bot(
        fake,
        data_dir,
        Pacer(interval=0),
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        CARE_ALERTS_CHANNEL=ALERTS,
    )
    try:
        result = {"subscribers": size, "build_s": built}
        result.update(measure_alerts(runtime, fake, alerts, size))
        result.update(measure_burst(runtime, burst, size))
        result["peak_rss_mb"] = peak_rss_mb()
        return result
    finally:
        runtime.stop()
        fake.stop()


if __name__ == "__main__":
    figures = main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps(figures))
