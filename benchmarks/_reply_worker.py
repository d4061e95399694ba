"""The `mail` section's worker: Reply modal and send, in a fresh interpreter (benchmarks/mail.py).

    python -m benchmarks._reply_worker WORKDIR SUBSCRIBERS REPLIES

Prints one JSON object of figures as its last line. Drives the real bot as the end-to-end tests
do: signed Slack requests over HTTP, the test suite's FakeSlack, and the test SMTP server
(tests/smtp_server.py: aiosmtpd in its own process, STARTTLS + AUTH) on loopback.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks._slack_worker import MONDAY_MORNING, build_data
from benchmarks.core import peak_rss_mb
from benchmarks.slack import percentile

TRIAGE, SECRET = "C0TRIAGE", "bench-inbox-secret"


def _watched_slack() -> Any:
    """A FakeSlack that timestamps views.open and views.update as it answers them."""
    from tests.fakeslack.server import FakeSlack

    class WatchedSlack(FakeSlack):
        def __init__(self) -> None:
            super().__init__()
            self.seen: dict[str, list[float]] = defaultdict(list)
            self._cond = threading.Condition()

        def dispatch(self, method: str, args: dict[str, Any], token: str | None) -> Any:
            answer = super().dispatch(method, args, token)
            if method in ("views.open", "views.update"):
                view = args.get("view")
                text = view if isinstance(view, str) else json.dumps(view)
                key = method if method == "views.open" else ("sent" if "Sent*" in text else "other")
                with self._cond:
                    self.seen[key].append(time.perf_counter())
                    self._cond.notify_all()
            return answer

        def wait(self, key: str, count: int, timeout: float = 30.0) -> float:
            with self._cond:
                if not self._cond.wait_for(lambda: len(self.seen[key]) >= count, timeout):
                    raise RuntimeError(f"no {key} #{count} after {timeout}s")
                return self.seen[key][count - 1]

    return WatchedSlack()


def main(workdir: Path, size: int, replies: int) -> dict[str, Any]:
    from bot.blocks import ids
    from bot.clock import FixedClock
    from bot.inbox.webhook import sign
    from tests.handlers.conftest import start_bot
    from tests.slackreq import text_input
    from tests.smtp_server import USERS, SmtpServer

    started = time.perf_counter()
    build_data(workdir / "data", size, due=10)
    build_s = time.perf_counter() - started
    smtp = SmtpServer()
    smtp.start()
    os.environ["SSL_CERT_FILE"] = str(smtp.cert)  # trust the throwaway certificate
    user = next(iter(USERS))
    fake = _watched_slack().start()
    bot = start_bot(
        fake, workdir / "data", FixedClock(MONDAY_MORNING),
        CARE_TRIAGE_CHANNEL=TRIAGE, INBOX_WEBHOOK_SECRET=SECRET,
        SMTP_HOST=smtp.host, SMTP_PORT=str(smtp.port), SMTP_SECURITY="starttls",
        SMTP_USER=user, SMTP_PASSWORD=USERS[user], SMTP_FROM=f"Support <{user}>",
    )  # fmt: skip
    try:
        import http.client

        from tests.bot.inbox.mail import make_email

        port = bot.runtime.server.port  # type: ignore[attr-defined]
        step = max(size // replies, 1)
        for n in range(replies):
            raw = make_email(
                subject=f"Question {n}", body="When does my next box ship?",
                sender=f"Customer <customer{n * step}@example.com>", message_id=f"<q{n}@bench.example>",
            )  # fmt: skip
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/inbox", raw, {"X-Care-Signature": sign(raw, SECRET)})
            assert conn.getresponse().status == 200
            conn.close()
        messages = fake.messages(TRIAGE)
        opens, sends = [], []
        for n, message in enumerate(messages):
            t0 = time.perf_counter()
            bot.sender.action(
                ids.ACTION_TRIAGE_REPLY, message=message, channel_id=TRIAGE, user_id="U1"
            )
            opens.append((fake.wait("views.open", n + 1) - t0) * 1000)
            modal = fake.modals("U1")[-1]
            values = {
                ids.BLOCK_REPLY_TEXT: {
                    ids.ACTION_REPLY_TEXT: text_input("Hi, it ships on Friday.")
                },
                ids.BLOCK_REPLY_OPTIONS: {ids.ACTION_REPLY_OPTIONS: {"selected_options": []}},
            }
            t1 = time.perf_counter()
            bot.sender.submit(ids.VIEW_REPLY, values, view=modal, user_id="U1")
            sends.append((fake.wait("sent", n + 1) - t1) * 1000)
        delivered = smtp.count()
    finally:
        bot.stop()
        fake.stop()
        smtp.stop()
    return {
        "subscribers": size,
        "build_s": build_s,
        "replies": len(opens),
        "delivered": delivered,
        "open_p50_ms": statistics.median(opens),
        "open_p95_ms": percentile(opens, 95),
        "open_max_ms": max(opens),
        "send_p50_ms": statistics.median(sends),
        "send_p95_ms": percentile(sends, 95),
        "send_max_ms": max(sends),
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
