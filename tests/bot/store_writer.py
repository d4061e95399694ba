"""A process that writes to a Store in a tight loop, for the kill-during-write test.

Run from the checkout as `python -m tests.bot.store_writer DATA_DIR [LAST_GEN]`. Each
generation `g` makes three writes, announcing each on stdout before it starts (`subs g`,
`task g`, `event g`) and `done g` after the last; the store's own `atomic_write` is wrapped
to announce `write FILE` when a file write starts. The test kills the process on one of
these lines, so the kill lands before, inside or after a chosen write:

- subscribers: `BASE + STEP * g` subscribers, all named `gen g` (one growing file);
- task `kill1`: `risk_score = g` (a mutate in a shard);
- event `ev-g` (an add in a shard).

On start it resumes from the newest generation on disk (the subscribers' generation, which
is written first), redoing it: every write is idempotent, so a killed writer can be restarted
on the same directory any number of times.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot import datafile
from bot.models import Event, Subscriber, Subscription, Task
from bot.repos import Repos
from bot.store import Store

BASE, STEP, SHARDS = 200, 300, 4
TASK_ID, SUBSCRIBER = "kill1", "cus_0"
AT = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
PADDING = "x" * 200  # makes each write take long enough to be killed in the middle of


def subscribers(gen: int) -> list[Subscriber]:
    return [
        Subscriber(
            id=f"cus_{n}",
            email=f"person{n}@example.com",
            name=f"gen {gen}",
            subscriptions=[Subscription(id=f"sub_{n}", plan="Box", cancellation_reason=PADDING)],
            first_started=date(2026, 1, 1),
        )
        for n in range(BASE + STEP * gen)
    ]


def announce(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def announce_writes() -> None:
    real_write = datafile.atomic_write

    def write(path: Path, payload: Any, **kw: Any) -> None:
        announce(f"write {path.parent.name}/{path.name}")
        real_write(path, payload, **kw)

    datafile.atomic_write = write


def main(data_dir: str, last_gen: int) -> None:
    announce_writes()
    repos = Repos.open(Store(data_dir, shards=SHARDS))
    names = {doc["name"] for doc in repos.subscribers.raw()}
    task = repos.tasks.get(TASK_ID)
    if task is None:
        announce("create 0")
        repos.tasks.create(
            Task(
                id=TASK_ID,
                key="cus_0:churn_risk",
                kind="churn_risk",
                subscriber_id=SUBSCRIBER,
                due=AT.date(),
                created_at=AT,
            )
        )
        task = repos.tasks.require(TASK_ID)
    gen = max([int(name.split()[1]) for name in names] + [task.risk_score, 1])
    while gen <= last_gen:
        announce(f"subs {gen}")
        repos.subscribers.put_many(subscribers(gen))
        announce(f"task {gen}")
        repos.tasks.mutate(TASK_ID, lambda t, g=gen: setattr(t, "risk_score", g))
        announce(f"event {gen}")
        repos.events.add(
            Event(id=f"ev-{gen}", subscriber_id=SUBSCRIBER, type="order", at=AT, value=gen)
        )
        announce(f"done {gen}")
        gen += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)
