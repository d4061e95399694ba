"""A process that spreads a data directory's tasks over more shard files and is SIGKILLed at a
chosen step, for the re-shard kill test.

Run from the checkout as `python -m tests.bot.reshard_writer DATA_DIR WHEN`. It opens the
store as the bot does, claims one task in a transaction (so the journal's log holds a record
the re-shard must checkpoint first), lowers the task repository's spread bound so the tasks
it holds are past it, creates a task and spreads the tasks as the daily job does.
Every step of the re-shard is announced on stdout before it starts:

- `write tasks/64-00012.json`: a new shard file (`write data/store.json`: the flip);
- `sync`: the new files made durable;
- `remove tasks/03.json`: an old shard file removed.

WHEN is `never`, `KIND:N` (killed as the N-th step of that kind starts: `write`, `sync`,
`meta` for the flip, `remove`) or `in-meta` (killed inside the flip: its temporary file written
but not renamed).
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from bot import datafile
from bot import reshard as reshard_module
from bot import store as store_module
from bot.models import TASK_CLAIMED, Task
from bot.repos import Repos
from bot.repos import tasks as tasks_module
from bot.store import Store

CLAIMED, CREATED = "t0000", "tnew0"


def announce(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_at(when: str) -> None:
    kind, _, number = when.partition(":")
    target, seen = int(number or 0), dict.fromkeys(("write", "sync", "meta", "remove"), 0)
    real_write, real_sync = datafile.atomic_write, datafile.sync_all
    real_remove = reshard_module.remove_file

    def step(what: str, line: str) -> None:
        seen[what] += 1
        announce(line)
        if kind == what and seen[what] == target:
            die()

    def write(path: Path, payload: Any, **kw: Any) -> None:
        meta = path.name == store_module.STORE_META
        if meta or "-" in path.name:  # the flip, or a file of the new generation
            step("meta" if meta else "write", f"write {path.parent.name}/{path.name}")
        if meta and kind == "in-meta":

            def then_die(fh: IO[bytes]) -> None:
                fh.write(payload)
                fh.flush()
                die()

            real_write(path, then_die, binary=True)
        real_write(path, payload, **kw)

    def sync() -> None:
        step("sync", "sync")
        real_sync()

    def remove(path: Path) -> None:
        step("remove", f"remove {path.parent.name}/{path.name}")
        real_remove(path)

    datafile.atomic_write = write  # type: ignore[assignment]
    datafile.sync_all = sync
    reshard_module.remove_file = remove


def claim(task: Any) -> None:
    task.status, task.claimed_by = TASK_CLAIMED, "U1"


def created_task() -> Task:
    """The task the writer creates before the spread."""
    return Task(
        id=CREATED,
        key="cus_new:checkin_30",
        kind="checkin_30",
        subscriber_id="cus_new",
        due=date(2026, 6, 15),
        created_at=datetime(2026, 6, 15, 14, 0, tzinfo=UTC),
    )


def main(data_dir: str, when: str) -> None:
    tasks_module.SPREAD_ABOVE, tasks_module.SPREAD_TO = 2, 1
    repos = Repos.open(Store(data_dir))
    with repos.store.transaction({"action": "claim"}):  # builds the index: no spread inside
        repos.tasks.mutate(CLAIMED, claim)
    kill_at(when)
    repos.tasks.create(created_task())  # below the write's own bound: not spread
    repos.tasks.spread()  # the daily job's, before the engine's run
    announce(f"count {repos.tasks.count()} shards {repos.store.shard_count('tasks')}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
