"""A process that runs the engine for the day before and is SIGKILLed while it plans the next
day ahead, for the plan-ahead kill test.

Run from the checkout as `python -m tests.bot.ahead_writer DATA_DIR WHEN`: it opens the store
as the bot does and runs `run_engine` for the day before TODAY. WHEN is `never`, `planning`
(killed inside the next day's dry run) or `in-note` (killed inside the record's rewrite with
its note: the new record's temporary file written, not yet renamed over the old one).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot import engine, enginerun
from bot.clock import FixedClock
from bot.repos import Repos
from bot.store import Store
from config import load_settings
from tests.bot.builders import TODAY, at_noon

YESTERDAY = TODAY - timedelta(days=1)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_at(when: str) -> None:
    real_plan, real_write = engine.plan_changes, enginerun.atomic_write

    def plan(day: Any, *args: Any, **kwargs: Any) -> Any:
        if when == "planning" and day == TODAY:
            die()
        return real_plan(day, *args, **kwargs)

    def write(path: Path, payload: Any, **kwargs: Any) -> None:
        if (
            when == "in-note"
            and path.name == enginerun.RECORD
            and enginerun.AHEAD.encode() in payload
        ):
            fd, _ = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.write(fd, payload[: len(payload) // 2])
            die()
        real_write(path, payload, **kwargs)

    engine.plan_changes = plan  # type: ignore[assignment]
    enginerun.atomic_write = write  # type: ignore[assignment]


def main(data: Path, when: str) -> None:
    kill_at(when)
    settings = load_settings({"CARE_DATA_DIR": str(data)}, dotenv=False)
    with Store(data) as store:
        engine.run_engine(YESTERDAY, Repos.open(store), settings, FixedClock(at_noon(YESTERDAY)))
    print("done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
