"""Issue 9's figures: the Reply modal opens fast and a reply is sent fast, with 100k subscribers.

The worker (benchmarks/_reply_worker.py) writes the subscribers, starts the real bot against
the test suite's FakeSlack and the test SMTP server (aiosmtpd, STARTTLS + AUTH, loopback),
posts REPLIES customer emails through the signed inbox webhook, then for each triage message:
clicks Reply (a signed block_actions request) and times until the fake Slack answers
views.open (target p95 < 300 ms); submits the modal and times until the modal is updated to
"Sent", i.e. the email was accepted by the SMTP server (target p95 < 1 s). Without the copy
in Sent (no IMAP server in this bench).
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
REPLIES, QUICK_REPLIES = 40, 10
OPEN_P95_MS, SEND_P95_MS = 300, 1000


def run(options: Options) -> Report:
    sizes = options.sizes or (QUICK_SIZES if options.quick else SIZES)
    replies = QUICK_REPLIES if options.quick else REPLIES
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="care-bench-mail-") as tmp:
        for size in sizes:
            workdir = Path(tmp) / str(size)
            workdir.mkdir()
            with Console(stderr=True).status(f"mail: {label(size)} subscribers, {replies} replies"):
                results[size] = run_worker("benchmarks._reply_worker", [workdir, size, replies])
    return report(results)


def report(results: dict[int, dict[str, Any]]) -> Report:
    sizes = sorted(results)

    def values(key: str) -> dict[str, float | None]:
        return {label(s): results[s].get(key) for s in sizes}

    def below(key: str, limit: float) -> bool:
        return all(results[s][key] < limit for s in sizes)

    rows = [
        Row("Subscribers loaded", values("subscribers")),
        Row("Replies sent / delivered", values("delivered")),
        Row("Reply clicked to views.open, p50", values("open_p50_ms"), "ms"),
        Row("Reply clicked to views.open, p95", values("open_p95_ms"), "ms", f"< {OPEN_P95_MS} ms", below("open_p95_ms", OPEN_P95_MS)),
        Row("  slowest", values("open_max_ms"), "ms"),
        Row("Send to 'Sent' (SMTP accepted), p50", values("send_p50_ms"), "ms"),
        Row("Send to 'Sent' (SMTP accepted), p95", values("send_p95_ms"), "ms", f"< {SEND_P95_MS:,} ms", below("send_p95_ms", SEND_P95_MS)),
        Row("  slowest", values("send_max_ms"), "ms"),
        Row("Peak memory (RSS)", values("peak_rss_mb"), "MB"),
    ]  # fmt: skip
    return Report(
        section="mail",
        title="Issue 9: replying by email (Reply modal, send)",
        columns=[label(s) for s in sizes],
        rows=rows,
        data={"sizes": {str(s): results[s] for s in sizes}},
        notes=["Bot and fake Slack share one process; the SMTP server is its own process."],
    )


SECTION = Section(
    name="mail", title="Reply modal open, send by SMTP", json_name="issue9", run=run, order=35
)
