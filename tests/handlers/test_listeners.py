"""An acknowledgement never waits behind work done after other acks (`handlers.listeners`).

While the disk stalls, every claim waits for the store's journal. Twelve Claim clicks made
then are acked at once and their claims wait as lazy work; the next click and a `/care help`
must still be answered within Slack's 3 s. With one pool for both, ten waiting claims held
all its threads and Bolt answered the next requests 404 after 3 s.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.blocks import ids
from bot.models import TASK_CLAIMED
from tests.handlers.conftest import (
    DIGEST,
    CareBot,
    add_checkins,
    entry_buttons,
    entry_message,
    post_digest,
    tasks_of,
)

CLICKS = 12  # more than the ten listener threads Bolt's work used to share with the acks


def claim_click(bot: CareBot, task_id: str, user: str) -> Callable[[], int]:
    """A click on Claim of `task_id`'s entry, read now (the store will be held up), sent later."""
    message = entry_message(bot, task_id)
    button = entry_buttons(message, task_id)[ids.ACTION_CLAIM]
    return lambda: bot.sender.action(
        ids.ACTION_CLAIM,
        button["value"],
        user_id=user,
        channel_id=DIGEST,
        message=message,
        block_id=button["block_id"],
    )[0]


def test_acks_are_not_held_up_by_claims_waiting_for_a_stalled_disk(bots, monkeypatch):
    bot = bots()
    add_checkins(bot.repos, CLICKS + 1)
    post_digest(bot)
    task_ids = [tasks_of(bot.repos, f"cus_{i:03d}")[0].id for i in range(CLICKS + 1)]
    clicks = [claim_click(bot, t, f"UM{n:02d}") for n, t in enumerate(task_ids)]
    release, stalled, real = threading.Event(), threading.Event(), os.fdatasync

    def fdatasync(fd: int) -> None:
        stalled.set()
        release.wait(20)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    try:
        with ThreadPoolExecutor(CLICKS) as clickers:
            sent = [clickers.submit(send) for send in clicks[:CLICKS]]
            assert [s.result(timeout=10) for s in sent] == [200] * CLICKS
        assert stalled.wait(5)

        help_status, _, help_text = bot.sender.command("help", user_id="U1")
        last_status = clicks[CLICKS]()

        assert (help_status, last_status) == (200, 200) and "/care claim" in help_text
        assert not release.is_set()  # all answered while the disk was stalled
    finally:
        release.set()
    claimed = bot.fake.wait_for(
        lambda: all(bot.repos.tasks.require(t).status == TASK_CLAIMED for t in task_ids)
    )
    assert claimed
