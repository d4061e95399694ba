"""The `inbox` section's workers, each in a fresh interpreter (see benchmarks/inbox.py).

    python -m benchmarks._inbox_worker imap|parse|memory|traced WORKDIR N

Prints one JSON object of figures as its last line. The IMAP worker uses the test suite's
Dovecot helper (tests/inbox_server.py) and FakeSlack (tests/fakeslack).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks._mail import (
    CORPUS,
    START,
    corpus_messages,
    crafted_emails,
    kind_of,
    subscribers,
    synthetic_email,
)
from benchmarks.slack import percentile

TRIAGE = "C0TRIAGE"


def imap_worker(workdir: Path, count: int) -> dict[str, Any]:
    """Deliver `count` messages to Dovecot, start the bot on it, time until all are handled."""
    from tests.inbox_server import USERS, DovecotServer, find_dovecot

    binary = find_dovecot()
    if binary is None:
        return {"skipped": "dovecot is not installed: run `make imap-server` (make bench does)"}
    server = DovecotServer(binary)
    server.start()
    try:
        with server.client() as conn:
            for i in range(count):
                typ, data = conn.append("INBOX", None, None, synthetic_email(i))
                if typ != "OK":
                    raise RuntimeError(f"APPEND of message {i} failed: {data}")
        last_uid = max(server.uids())
        env = {
            "CARE_TRIAGE_CHANNEL": TRIAGE,
            "IMAP_HOST": server.host,
            "IMAP_PORT": str(server.port),
            "IMAP_USER": "care",
            "IMAP_PASSWORD": USERS["care"],
            "IMAP_SSL": "false",
            "IMAP_POLL_SECONDS": "3600",
        }
        out = _run_imap_bot(workdir / "data", server, last_uid, env)
        with server.client() as conn:
            conn.select("INBOX", readonly=True)
            _, data = conn.uid("SEARCH", "UNKEYWORD", "$CareHandled")
            out["unflagged"] = len(data[0].split())
    finally:
        server.cleanup()
    out["appended"] = count
    out["per_message_ms"] = out["handled_s"] * 1000 / count
    return out


def _run_imap_bot(data_dir: Path, server: Any, last_uid: int, env: dict[str, str]) -> dict:
    from benchmarks._slack_worker import start_bot
    from bot.posting import Pacer
    from bot.repos import Repos
    from bot.store import Store
    from tests.fakeslack.server import FakeSlack

    with Store(data_dir) as store:
        Repos.open(store).subscribers.put_many(subscribers())
    with FakeSlack() as fake:
        runtime = None
        try:
            runtime = start_bot(fake, data_dir, Pacer(0), start=False, **env)
            inbox = runtime.services.repos.inbox
            start = time.perf_counter()
            runtime.start(serve_http=True)
            connector = runtime.services.triage.connector
            deadline = start + 300
            while inbox.sync_state(server.host, "care", "INBOX").last_uid < last_uid:
                if connector.stopped or time.perf_counter() > deadline:
                    raise RuntimeError(f"the IMAP connector did not finish: {connector.status}")
                time.sleep(0.01)
            handled_s = time.perf_counter() - start
            noise = sum(inbox.noise_counts().values())
            posted = len(fake.messages(TRIAGE))
            status = inbox.connector_status(connector.key)
        finally:
            if runtime is not None:
                runtime.stop()
        if fake.violations:
            raise RuntimeError(f"the bot broke Slack's API contract: {fake.violations[:5]}")
    return {
        "handled_s": handled_s,
        "posted": posted,
        "noise": noise,
        "threaded": last_uid - posted - noise,
        "connector_errors": status.consecutive_failures if status else None,
    }


def parse_worker(count: int, repeat: int = 3, crafted_runs: int = 30) -> dict[str, Any]:
    """Time parse + classify on each corpus message, `count` synthetic ones, and the crafted
    ones (`crafted_runs` runs each: their 99th percentile is the figure)."""
    from bot.inbox.filters import classify
    from bot.inbox.parse import parse_email

    def timed(raw: bytes) -> float:
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            classify(parse_email(raw))
            runs.append((time.perf_counter() - start) * 1000)
        return statistics.median(runs)

    corpus = {p.relative_to(CORPUS).as_posix(): timed(p.read_bytes()) for p in corpus_messages()}
    if not corpus:
        raise RuntimeError(f"no email corpus in {CORPUS}: the bench reads ../shared/email-corpus")
    synthetic = {f"synthetic {i} ({kind_of(i)})": timed(synthetic_email(i)) for i in range(count)}
    every = {**corpus, **synthetic}
    slowest = max(every, key=lambda k: every[k])
    crafted_times: dict[str, list[float]] = {}
    for name, raw in crafted_emails().items():
        classify(parse_email(raw))  # warm: first-use imports and compiled patterns
        crafted_times[name] = []
        for _ in range(crafted_runs):
            start = time.perf_counter()
            classify(parse_email(raw))
            crafted_times[name].append((time.perf_counter() - start) * 1000)
    crafted_all = [t for runs in crafted_times.values() for t in runs]
    worst = max(crafted_times, key=lambda k: percentile(crafted_times[k], 99))
    return {
        "crafted": {name: statistics.median(runs) for name, runs in crafted_times.items()},
        "crafted_p99_ms": percentile(crafted_all, 99),
        "crafted_worst": worst,
        "crafted_worst_p99_ms": percentile(crafted_times[worst], 99),
        "messages": len(every),
        "corpus_messages": len(corpus),
        "median_ms": statistics.median(every.values()),
        "corpus_median_ms": statistics.median(corpus.values()),
        "synthetic_median_ms": statistics.median(synthetic.values()),
        "p95_ms": percentile(list(every.values()), 95),
        "max_ms": every[slowest],
        "slowest": slowest,
    }


class CountingPoster:
    """A `TriagePoster` that keeps nothing but counts, and the snapshot the Slack poster sets."""

    def __init__(self) -> None:
        self.items = self.replies = 0

    def post_item(
        self, item: Any, parsed: Any, context: Any, check_first: bool = False
    ) -> tuple[str, str]:
        from handlers.triage_post import email_snapshot

        item.snapshot = email_snapshot(parsed)  # as SlackTriagePoster does: the item keeps it
        self.items += 1
        return TRIAGE, f"1781000000.{self.items:06d}"

    def post_reply(self, item: Any, parsed: Any, context: Any, check_first: bool = False) -> str:
        self.replies += 1
        return f"1781500000.{self.replies:06d}"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _store_bytes(store: Any) -> int:
    from bot.repos.inbox import ITEMS, MESSAGES
    from bot.store import raw_docs

    tables = store.shard_tables(ITEMS) + store.shard_tables(MESSAGES)
    return sum(len(json.dumps(raw_docs(t), separators=(",", ":"))) for t in tables)


def memory_worker(count: int, traced: bool = False) -> dict[str, Any]:
    """Stream `count` messages through parse, classify and ingest; sample memory as it goes.

    Args:
        count: how many messages (generated one at a time, never held).
        traced: measure with tracemalloc (exact Python heap, about 2x slower, and its own
            records inflate RSS) instead of RSS alone.
    """
    from bot.clock import FixedClock
    from bot.inbox.ingest import Ingestor
    from bot.repos import Repos
    from bot.store import Store
    from config import load_settings
    from handlers import triage_post  # noqa: F401  # the poster's snapshot: loaded at start, as in the bot

    store = Store(None)  # the bot's shards, in memory: the disk is not what is measured
    repos = Repos.open(store)
    repos.subscribers.put_many(subscribers())
    clock = FixedClock(START)
    ingestor = Ingestor(repos, load_settings({}, dotenv=False), clock, CountingPoster())
    marks = {max(count // 10, 1), max(count // 2, 1), count}
    samples: list[dict[str, float]] = []
    statuses: dict[str, int] = {}
    if traced:
        tracemalloc.start()
    start, sampling = time.perf_counter(), 0.0
    for i in range(count):
        result = ingestor.ingest(synthetic_email(i), "imap:bench/INBOX", uid=i + 1)
        statuses[result.status] = statuses.get(result.status, 0) + 1
        clock.advance(minutes=1)  # one email a minute: about a week of mail for 10,000
        if i + 1 in marks:
            paused = time.perf_counter()
            gc.collect()
            mb = tracemalloc.get_traced_memory()[0] / 2**20 if traced else _rss_mb()
            samples.append({"at": i + 1, "mb": mb, "store": _store_bytes(store)})
            sampling += time.perf_counter() - paused
    stream_s = time.perf_counter() - start - sampling
    if traced:
        tracemalloc.stop()
    first, last = samples[0], samples[-1]
    return {
        "messages": count,
        "statuses": statuses,
        "stream_s": stream_s,
        "samples": samples,
        "growth_mb": last["mb"] - first["mb"],
        "store_growth_mb": (last["store"] - first["store"]) / 2**20,
        "store_bytes_per_message": last["store"] / count,
        "items": repos.inbox.count_items(),
    }


if __name__ == "__main__":
    _mode, _dir, _n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    if _mode == "imap":
        print(json.dumps(imap_worker(_dir, _n)))
    elif _mode == "parse":
        print(json.dumps(parse_worker(_n)))
    else:
        print(json.dumps(memory_worker(_n, traced=_mode == "traced")))
