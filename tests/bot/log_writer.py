"""A process that logs one outreach on a data directory and is SIGKILLed part-way, for the
atomic-log test.

Run from the checkout as `python -m tests.bot.log_writer DATA_DIR TASK_ID USER WHEN`, where
WHEN is `never`, `at:N` (killed as the N-th file write starts, nothing of it written),
`in:N` (killed inside the N-th file write: a data file's temporary file written but not
renamed into place, or half of the journal's record appended), `ck:N` (the log, then a
checkpoint, killed as its N-th fsync starts) or `bg:N` (the log passes its bound at once: the
process dies at the N-th fsync from the log's creation on, the 2nd and later being the
background checkpoint's). It announces every file write on stdout
(`write tasks/03.json`, `write data/journal.log` for the journal's record) before it starts.

The log is `CareService.log_outreach`, exactly as the bot runs it, on the clock time given in
the CLOCK environment variable (ISO, UTC).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from bot import datafile
from bot import journal as journal_module
from bot.audit import SURFACE_COMMAND
from bot.care import CareService, Permissions
from bot.clock import FixedClock
from bot.repos import Repos
from bot.store import Store


def announce(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_during_writes(when: str) -> None:
    """Wrap the store's `atomic_write` and `append_log` so that the process dies as `when` says."""
    mode, _, number = when.partition(":")
    target, seen = int(number or 0), 0
    real_write, real_append = datafile.atomic_write, datafile.append_log

    def starting(path: Path) -> bool:
        """Announce a write; True when the process is to die inside it."""
        nonlocal seen
        seen += 1
        announce(f"write {path.parent.name}/{path.name}")
        if seen == target and mode == "at":
            die()
        return seen == target and mode == "in"

    def write(path: Path, payload: bytes | Callable[[IO[str]], object], **kw: Any) -> None:
        if starting(path):

            def then_die(fh: IO[str]) -> Any:
                payload(fh) if callable(payload) else fh.write(payload.decode())
                fh.flush()
                die()

            real_write(path, then_die, **kw)
        real_write(path, payload, **kw)

    def append(fd: int, path: Path, record: bytes) -> None:
        if starting(path):
            os.write(fd, record[: len(record) // 2])
            die()
        real_append(fd, path, record)

    datafile.atomic_write = write  # type: ignore[assignment]
    datafile.append_log = append


def kill_during_checkpoint(target: int) -> None:
    """Wrap the store's fsyncs so that the process dies as the `target`-th starts."""
    synced = 0

    def fsync(real: Callable[[Path], None]) -> Callable[[Path], None]:
        def checked(path: Path) -> None:
            nonlocal synced
            synced += 1
            announce(f"fsync {path.parent.name}/{path.name}")
            if synced == target:
                die()
            real(path)

        return checked

    datafile.fsync_file = fsync(datafile.fsync_file)
    datafile.fsync_dir = fsync(datafile.fsync_dir)


def main(data_dir: str, task_id: str, user: str, when: str) -> None:
    clock = FixedClock(datetime.fromisoformat(os.environ["CLOCK"]))
    repos = Repos.open(Store(data_dir))
    care = CareService(repos, clock, ZoneInfo("America/New_York"), Permissions())
    kill_during_writes(when)
    if when.startswith("bg:"):
        journal_module.CHECKPOINT_BYTES = 1
        kill_during_checkpoint(int(when[3:]))
    result = care.log_outreach(
        [task_id], user, "call", "reached", "spoke about the box", surface=SURFACE_COMMAND
    )
    announce(f"logged {result.outreach.id}")
    if when.startswith("ck:"):
        kill_during_checkpoint(int(when[3:]))
        repos.store.checkpoint()
        announce("checkpointed")
    if when.startswith("bg:"):
        repos.store.journal._join()  # type: ignore[union-attr]  # noqa: SLF001
        announce("checkpointed in the background")


if __name__ == "__main__":
    main(*sys.argv[1:5])
