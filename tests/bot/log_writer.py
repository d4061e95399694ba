"""A process that logs one outreach on a data directory and is SIGKILLed part-way, for the
atomic-log test.

Run from the checkout as `python -m tests.bot.log_writer DATA_DIR TASK_ID USER WHEN`, where
WHEN is `never`, `at:N` (killed as the N-th file write starts, nothing of it written) or
`in:N` (killed inside the N-th file write, its temporary file written but not renamed into
place). It announces every file write on stdout (`write tasks/03.json`) before it starts.

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

from bot import store as store_module
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
    """Wrap the store's `atomic_write` so that the process dies as `when` says."""
    mode, _, number = when.partition(":")
    target, seen = int(number or 0), 0
    real_write = store_module.atomic_write

    def write(path: Path, payload: bytes | Callable[[IO[str]], object]) -> None:
        nonlocal seen
        seen += 1
        announce(f"write {path.parent.name}/{path.name}")
        if seen == target and mode == "at":
            die()
        if seen == target and mode == "in":

            def then_die(fh: IO[str]) -> Any:
                payload(fh) if callable(payload) else fh.write(payload.decode())
                fh.flush()
                die()

            real_write(path, then_die)
        real_write(path, payload)

    store_module.atomic_write = write


def main(data_dir: str, task_id: str, user: str, when: str) -> None:
    clock = FixedClock(datetime.fromisoformat(os.environ["CLOCK"]))
    repos = Repos.open(Store(data_dir))
    care = CareService(repos, clock, ZoneInfo("America/New_York"), Permissions())
    kill_during_writes(when)
    result = care.log_outreach(
        [task_id], user, "call", "reached", "spoke about the box", surface=SURFACE_COMMAND
    )
    announce(f"logged {result.outreach.id}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
