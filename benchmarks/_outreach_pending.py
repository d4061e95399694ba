"""By hand: `python -m benchmarks._outreach_pending [N]` (default 50,000).

CPU per turn of the triage minute job's outreach posts (`OutreachThreads.post_pending`) on a
file store holding N inbox items of which 5 await their post, side by side in one run: the
old turn (every item read and decoded, then filtered) and the current one (only the items
`InboxRepo.awaiting_post` names). Slack is down in both, so a turn reads and posts nothing.
Measured at 50k (load 2.7): old 654 ms, new 0.12 ms CPU per turn; the first read after a
start (the id index, built anyway) 0.77 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import FixedClock
from bot.inbox.delivery import PostFailed
from bot.inbox.models import ITEM_RESOLVED, SOURCE_OUTREACH, TriageItem
from bot.outreach.thread import OutreachThreads
from bot.repos import Repos
from bot.repos.inbox import ITEMS
from bot.store import Store, rewrite

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
PENDING = 5
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def build(root: Path) -> None:
    store = Store(root)
    by_table: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    for n in range(N):
        pending = n < PENDING
        item = TriageItem(
            id=f"i{n:06d}",
            key=f"<m{n}@example.com>",
            subject=f"Subject {n}",
            normalized_subject=f"subject {n}",
            sender=f"c{n}@example.com",
            created_at=T0 + timedelta(minutes=n),
            last_message_at=T0 + timedelta(minutes=n),
            status="awaiting" if pending else ITEM_RESOLVED,
            source=SOURCE_OUTREACH if pending or n % 3 == 0 else "webhook",
            slack={} if pending else {"channel": "C1", "ts": f"{n}.1"},
            snapshot={"text": "Hello, " * 40, "sender_name": "Ann"},
        )
        table = store.shard_table(ITEMS, item.id)
        by_table.setdefault(id(table), (table, []))[1].append(item.to_doc())
    for table, docs in by_table.values():
        rewrite(table, lambda d, docs=docs: d.update({i + 1: doc for i, doc in enumerate(docs)}))
    store.close()


class Down:
    def post_outreach(self, item: TriageItem, check_first: bool) -> tuple[str, str]:
        raise PostFailed("down")  # Slack down: every turn reads, posts nothing


def old_turn(repos: Repos) -> int:
    """The turn before the pending set: every item read, then filtered."""
    pending = [
        i
        for i in repos.inbox.items()
        if i.source == SOURCE_OUTREACH
        and not i.slack.get("ts")
        and not i.snapshot.get("post_on_answer")
    ]
    return len(sorted(pending, key=lambda i: i.created_at)[:20])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="care-bench-pending-") as tmp:
        measure(Path(tmp) / "data")


def measure(root: Path) -> None:
    t = time.process_time()
    build(root)
    print(f"built {N} items in {time.process_time() - t:.1f} s CPU")
    with Store(root) as store:
        repos = Repos.open(store)
        threads = OutreachThreads(repos, FixedClock(T0), Down())
        t = time.process_time()
        first = len(repos.inbox.awaiting_post())
        took = time.process_time() - t
        print(f"first read after a start (the id index and the set): {took:.3f} s, {first} pending")
        for name, turn in (("old", lambda: old_turn(repos)), ("new", threads.post_pending)):
            turn()
            rounds = 5
            t = time.process_time()
            for _ in range(rounds):
                turn()
            print(f"{name}: {(time.process_time() - t) / rounds * 1000:.2f} ms CPU per turn")


if __name__ == "__main__":
    main()
