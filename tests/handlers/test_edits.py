"""A claim's answer never depends on editing the digest: failed edits are retried or dropped.

Slack refuses `chat.update` when a channel is archived (`is_inactive`), a message was deleted
(`message_not_found`), or it is down (500). The command must answer as usual every time; the
edit is retried by the scheduler's job until it lands, or logged and dropped when it never can.
"""

from __future__ import annotations

import json
import logging

from bot.blocks import ids
from tests.handlers.conftest import (
    CareBot,
    add_checkins,
    entry_buttons,
    entry_message,
    message_text,
    post_digest,
    tasks_of,
)


def _command(bot: CareBot, text: str, user: str = "U1") -> str:
    status, _, body = bot.sender.command(text, user_id=user)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    return str(answer["text"])


def _retry_turn(bot: CareBot) -> None:
    """The scheduler's edit-retry job, then wait for the edits it queued."""
    for job in bot.runtime.scheduler.get_jobs("digest-edits"):
        job.run()
    assert bot.publisher.edits.drain()


def test_claims_and_releases_answer_normally_while_slack_refuses_edits_then_the_edit_lands(
    care_bot,
):
    add_checkins(care_bot.repos, 3)
    post_digest(care_bot)
    task = tasks_of(care_bot.repos, "cus_000")[0].id
    care_bot.fake.fail_next("chat.update", error="is_inactive", times=1000)  # channel archived

    for _ in range(6):
        assert "You claimed" in _command(care_bot, f"claim {task}")
        assert "Released" in _command(care_bot, f"release {task}")
    assert "You claimed" in _command(care_bot, f"claim {task}", user="U2")

    assert care_bot.publisher.edits.drain()
    assert care_bot.publisher.edits.pending, "the failed edit was not kept for a retry"
    assert "Claimed by" not in message_text(entry_message(care_bot, task))
    care_bot.fake.fail_next("chat.update", status=500)  # cleared below: the channel is back
    _retry_turn(care_bot)
    assert care_bot.publisher.edits.pending  # the 500 kept it pending once more
    care_bot.fake._failures.clear()  # noqa: SLF001 - unarchived: Slack accepts edits again

    _retry_turn(care_bot)

    message = entry_message(care_bot, task)
    assert "Claimed by <@U2>" in message_text(message)
    assert ids.ACTION_RELEASE in entry_buttons(message, task)
    parent = message_text(care_bot.fake.messages("C0DIGEST")[0])
    assert "*1* claimed" in parent
    assert care_bot.publisher.edits.pending == {}


def test_an_edit_of_a_deleted_message_is_logged_and_dropped(care_bot, caplog):
    add_checkins(care_bot.repos, 3)
    post_digest(care_bot)
    task = tasks_of(care_bot.repos, "cus_000")[0].id
    ts = entry_message(care_bot, task)["ts"]
    care_bot.services.client.chat_delete(channel="C0DIGEST", ts=ts)

    with caplog.at_level(logging.ERROR, logger="bot.edits"):
        assert "You claimed" in _command(care_bot, f"claim {task}")
        assert care_bot.publisher.edits.drain()

    assert care_bot.publisher.edits.pending == {}
    assert any("message_not_found" in r.getMessage() for r in caplog.records)
    assert care_bot.repos.tasks.require(task).claimed_by == "U1"
