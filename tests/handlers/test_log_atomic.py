"""A kill during `/care log` leaves the outreach and its closed tasks both stored or neither.

A real process (tests/bot/log_writer.py) logs the outreach on the bot's data directory and is
SIGKILLed at a chosen file write; then the bot starts on that directory, and its data, its
trail and what Slack shows agree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.blocks import ids
from bot.models import TASK_CLAIMED, TASK_DONE
from tests.handlers.conftest import (
    DIGEST,
    MONDAY_MORNING,
    add_checkins,
    click,
    entry_buttons,
    entry_message,
    message_text,
    post_digest,
    tasks_of,
)

ROOT = Path(__file__).resolve().parents[2]
# File writes of one log: the journal's record, then the outreach, task and audit shards.
NEITHER = ["at:1", "in:1"]  # killed before the record is whole in the journal's log
BOTH = ["at:2", "in:2", "at:3", "at:4", "never"]  # killed after: the next start completes it
# The log, then a checkpoint killed at its 1st, 3rd, 4th or 6th fsync (3 files, 3 directories),
# or run to the end: the files are durable and the log empty, or the next start replays it.
CHECKPOINT = ["ck:1", "ck:3", "ck:4", "ck:6", "ck:99"]
# The log past its bound at once: killed at the log's creation (its directory's fsync: neither),
# or in the background checkpoint: at its first fsync, its directories, the old log's removal.
BACKGROUND = ["bg:2", "bg:5", "bg:8", "bg:99"]
INTERRUPTED = ["at:2", "in:2", "at:3", "at:4"]  # the Slack edits never happened


def run_writer(data: Path, task_id: str, when: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.bot.log_writer", str(data), task_id, "U1", when],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CLOCK": MONDAY_MORNING.isoformat()},
    )


@pytest.mark.parametrize("when", NEITHER + BOTH + CHECKPOINT + BACKGROUND)
def test_a_log_killed_at_any_write_is_stored_whole_or_not_at_all(bots, tmp_path, when):
    data = tmp_path / "data"
    bot = bots(data_dir=data)
    add_checkins(bot.repos, 1)
    post_digest(bot)
    task = tasks_of(bot.repos, "cus_000")[0]
    status, _, _ = click(bot, ids.ACTION_CLAIM, task.id, user="U1")
    assert status == 200
    bot.fake.wait_for(lambda: bot.repos.tasks.require(task.id).status == TASK_CLAIMED, timeout=5)
    bot.stop()

    proc = run_writer(data, task.id, when)
    if when in ("never", "ck:99", "bg:99"):
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode == -9, f"not killed ({when}): {proc.stdout} {proc.stderr}"
    writes = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("write ")]
    assert writes[0] == "data/journal.log", writes  # the intent goes first
    if when == "never" or when in CHECKPOINT + BACKGROUND:
        assert sorted(w.split("/")[0] for w in writes[1:]) == ["audit", "outreach", "tasks"]
    if when == "ck:99":
        assert (data / "journal.log").stat().st_size == 0  # checkpointed: nothing to replay
    elif when in ("bg:8", "bg:99"):  # the log became the old log, its files durable: removed
        assert not (data / "journal.log").exists() and not (data / "journal.old.log").exists()
    elif when in BACKGROUND:
        assert (data / "journal.old.log").stat().st_size > 0  # replayed by the next start
    elif when in BOTH + CHECKPOINT:
        assert (data / "journal.log").stat().st_size > 0

    again = bots(data_dir=data)
    stored = again.repos.tasks.require(task.id)
    outreach = again.repos.outreach.for_subscriber("cus_000")
    trail = [e.action for e in again.repos.audit.for_task(task.id, "cus_000")]
    assert not list(data.rglob("*.tmp"))
    assert again.repos.store.recovered == (
        {"action": "log", "tasks": [task.id]} if when in INTERRUPTED else None
    )
    shown = message_text(entry_message(again, task.id))
    if when in NEITHER:
        assert (stored.status, stored.claimed_by, outreach, trail) == (
            TASK_CLAIMED,
            "U1",
            [],
            ["claim"],
        )
        assert ids.ACTION_LOG in entry_buttons(entry_message(again, task.id), task.id)
        assert "Reached" not in shown
    else:
        assert (stored.status, stored.outcome) == (TASK_DONE, "reached")
        assert [(o.task_id, o.outcome, o.by) for o in outreach] == [(task.id, "reached", "U1")]
        assert trail == ["log", "claim"]
        if when in INTERRUPTED:  # the killed process never edited Slack: the restarted bot does
            shown = message_text(
                again.fake.wait_for(
                    lambda: (
                        (m := entry_message(again, task.id)) and "Reached" in message_text(m) and m
                    )
                )
            )
            assert "<@U1>" in shown, shown
            assert entry_buttons(entry_message(again, task.id), task.id) == {}
            replies = again.fake.thread(DIGEST, stored.slack["thread_ts"])
            assert any("spoke about the box" in message_text(m) for m in replies)
