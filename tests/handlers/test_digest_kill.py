"""A kill while the digest posts: the next start posts each message once and every task is
linked to the message that shows it, so a claim edits that message.

A real process (tests/bot/post_writer.py) posts the day's digest on the bot's data directory
against the fake Slack and is SIGKILLed at a chosen file write after a chosen post; then the
bot starts on that directory and finishes the day. A message's ts and its tasks' link are one
write (the link is derived from the message's document), so no kill point can leave a posted
message whose tasks are not linked to it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.handlers.conftest import (
    DIGEST,
    MONDAY_MORNING,
    TODAY,
    add_checkins,
    digest_messages,
    digest_task_ids,
    fake_env,
    join_digest_jobs,
    message_text,
    thread_replies,
    wait_posted,
)

ROOT = Path(__file__).resolve().parents[2]
# Posts: the parent (1), then three replies of 5, 5, 2 entries (2-4). at/in: killed at / inside
# the first write after that post (its ts); next: at the second (the old code's task link).
KILLS = ["at:1", "in:1", "at:2", "in:2", "next:2", "next:3", "at:4", "never"]


def run_writer(fake, data: Path, when: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    env = {**os.environ, **fake_env(fake, data), "CLOCK": MONDAY_MORNING.isoformat()}
    return subprocess.run(
        [sys.executable, "-m", "tests.bot.post_writer", str(data), when],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def shown_in_slack(replies: list[dict]) -> dict[str, str]:
    """Task id -> ts of the thread reply that shows it, read from what Slack holds."""
    return {
        task_id: reply["ts"]
        for reply in replies
        for task_id in re.findall(r"`([a-z0-9]{5})`", message_text(reply))
    }


@pytest.mark.parametrize("when", KILLS)
def test_a_digest_killed_after_any_post_is_posted_and_linked_once_on_restart(
    bots, fake_slack, tmp_path, when
):
    data = tmp_path / "data"
    seed = bots(data_dir=data)
    add_checkins(seed.repos, 12)
    seed.stop()

    proc = run_writer(fake_slack, data, when)
    posts = [line for line in proc.stdout.splitlines() if line.startswith("post ")]
    writes = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("write ")]
    assert not [w for w in writes if w.startswith("tasks/")], "posting wrote a task"
    if when == "never":
        assert proc.returncode == 0 and len(posts) == 4, proc.stderr
    else:
        assert proc.returncode == -9, f"not killed ({when}): {proc.stdout} {proc.stderr}"
        after = int(when.partition(":")[2])  # "next": the next post, if its ts is the next write
        assert after <= len(posts) <= after + when.startswith("next:")

    again = bots(data_dir=data)
    again.runtime.scheduler.run_all()  # what run_bot does at start: finish today's digest
    record = wait_posted(again)
    join_digest_jobs(again)

    replies = thread_replies(again, record)
    assert [m["ts"] for m in again.fake.messages(DIGEST)] == [record.parent_ts]
    keys = Counter(m["metadata"]["event_payload"]["key"] for m in replies)
    assert keys == Counter(f"{TODAY}:{i}" for i in range(3)), "a reply was posted twice"
    assert [m.ts for m in digest_messages(again)] == [m["ts"] for m in replies]
    shown = shown_in_slack(replies)
    assert sorted(shown) == sorted(digest_task_ids(again)) and len(shown) == 12
    for task_id, ts in shown.items():
        link = again.repos.tasks.require(task_id).slack
        assert link == {"channel": DIGEST, "ts": ts, "thread_ts": record.parent_ts}, task_id

    task_id = next(t for t, ts in shown.items() if ts == replies[0]["ts"])
    status, _, _ = again.sender.command(f"claim {task_id}", user_id="U2")
    assert status == 200
    edited = again.fake.wait_for(
        lambda: (
            "Claimed by <@U2>" in message_text(m := again.fake.message(DIGEST, replies[0]["ts"]))
            and m
        )
    )
    assert task_id in message_text(edited)
