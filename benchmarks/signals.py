"""Issue 11's figures: webhook receivers, a month-start burst, and time to the alert.

Each size runs in a fresh interpreter (`python -m benchmarks._signals_worker WORKDIR SIZE
ALERTS BURST`). The worker writes the subscribers, starts the real bot (`app.build`, HTTP on
port 0) with STRIPE_WEBHOOK_SECRET against a FakeSlack in the same process, then:
1. posts ALERTS failed payments, signed as Stripe signs, one after another: the HTTP answer
   (target p95 < 50 ms) and the time until the alert reaches the fake Slack's
   chat.postMessage (target p95 < 2 s);
2. posts a burst of BURST subscription updates from 8 connections at once: the rate at which
   they are accepted (answered 200 and journalled; target >= 200/s) and whether every one is
   in the journal and applied afterwards (none lost).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import Options, Report, Row, Section
from benchmarks.core import label
from benchmarks.slack import run_worker

SIZES, QUICK_SIZES = (100_000,), (1_000,)
ALERTS, QUICK_ALERTS = 200, 20
BURST, QUICK_BURST = 10_000, 500
ANSWER_P95_MS, ALERT_P95_MS, ACCEPT_RATE = 50, 2000, 200


def run(options: Options) -> Report:
    sizes = options.sizes or (QUICK_SIZES if options.quick else SIZES)
    alerts = QUICK_ALERTS if options.quick else ALERTS
    burst = QUICK_BURST if options.quick else BURST
    console = Console(stderr=True)
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="care-bench-signals-") as tmp:
        for size in sizes:
            workdir = Path(tmp) / str(size)
            workdir.mkdir()
            with console.status(
                f"signals: {label(size)} subscribers: {alerts} failed payments, burst of {burst}"
            ):
                results[size] = run_worker(
                    "benchmarks._signals_worker", [workdir, size, alerts, burst], timeout=1800
                )
    return report(results)


def report(results: dict[int, dict[str, Any]]) -> Report:
    sizes = sorted(results)
    columns = [label(s) for s in sizes]

    def values(key: str) -> dict[str, float | None]:
        return {label(s): results[s].get(key) for s in sizes}

    rows = [
        Row("Subscribers loaded", values("subscribers")),
        Row("Failed payments posted", values("alerts")),
        Row("Receiver answer, p50", values("answer_p50_ms"), "ms"),
        Row(
            "Receiver answer, p95",
            values("answer_p95_ms"),
            "ms",
            f"< {ANSWER_P95_MS} ms",
            all(results[s]["answer_p95_ms"] < ANSWER_P95_MS for s in sizes),
        ),
        Row("Delivery to alert posted, p50", values("alert_p50_ms"), "ms"),
        Row(
            "Delivery to alert posted, p95",
            values("alert_p95_ms"),
            "ms",
            f"< {ALERT_P95_MS} ms",
            all(results[s]["alert_p95_ms"] < ALERT_P95_MS for s in sizes),
        ),
        Row("Burst deliveries", values("burst")),
        Row(
            "Burst accepted, per second",
            values("accept_rate"),
            "",
            f">= {ACCEPT_RATE}/s",
            all(results[s]["accept_rate"] >= ACCEPT_RATE for s in sizes),
        ),
        Row("Burst: process CPU per delivery", values("accept_cpu_ms"), "ms"),
        Row("Burst: accepted per CPU second", values("accept_rate_per_cpu_s")),
        Row(
            "Burst lost (answered but not journalled)",
            values("burst_lost"),
            "",
            "0",
            all(results[s]["burst_lost"] == 0 for s in sizes),
        ),
        Row("Burst: all applied after", values("applied_s"), "s"),
        Row(
            "Left pending, failed or held",
            values("pending_after"),
            "",
            "0",
            all(results[s]["pending_after"] == 0 for s in sizes),
        ),
        Row("Peak memory (RSS)", values("peak_rss_mb"), "MB"),
    ]
    return Report(
        section="signals",
        title="Issue 11: live signals (receivers, burst, alerts)",
        columns=columns,
        rows=rows,
        data={"sizes": {str(s): results[s] for s in sizes}},
        notes=["Bot and fake Slack share one process: latencies include that contention."],
    )


SECTION = Section(
    name="signals",
    title="webhook receivers, burst, time to alert",
    json_name="issue11",
    run=run,
)
