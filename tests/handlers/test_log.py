"""Logging outreach: the Log outreach modal (open, field errors, submit) and `/care log`."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.blocks import ids
from bot.models import TASK_CLAIMED, TASK_DONE, TASK_OPEN
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    TODAY,
    CareBot,
    add_checkins,
    add_subscriber,
    click,
    entry_buttons,
    entry_message,
    message_text,
    post_digest,
    tasks_of,
)
from tests.slackreq import app_home_opened, datepicker, static_select, text_input


def _digest(bot: CareBot) -> tuple[str, list[str]]:
    add_checkins(bot.repos, 2)
    add_subscriber(
        bot.repos, "cus_both", "Bo Both", "bo@example.com", DAY_30, cancel_at_period_end=True
    )
    post_digest(bot)
    return tasks_of(bot.repos, "cus_000")[0].id, [t.id for t in tasks_of(bot.repos, "cus_both")]


def _open_modal(bot: CareBot, task_id: str, user: str = "U1") -> dict:
    status, _, body = click(bot, ids.ACTION_LOG, task_id, user=user)
    assert (status, body) == (200, "")
    modals = bot.fake.wait_for(lambda: bot.fake.modals(user))  # views.open follows the ack
    assert len(modals) == 1
    return modals[0]


def _values(
    channel: str | None = None, outcome: str | None = None, note: str = "", on: str | None = None
) -> dict:
    return {
        ids.BLOCK_LOG_CHANNEL: {ids.ACTION_LOG_CHANNEL: static_select(channel)},
        ids.BLOCK_LOG_OUTCOME: {ids.ACTION_LOG_OUTCOME: static_select(outcome)},
        ids.BLOCK_LOG_NOTE: {ids.ACTION_LOG_NOTE: text_input(note or None)},
        ids.BLOCK_LOG_FOLLOW_UP: {ids.ACTION_LOG_FOLLOW_UP: datepicker(on)},
    }


def _submit(bot: CareBot, modal: dict, values: dict, user: str = "U1") -> tuple[int, str]:
    status, _, body = bot.sender.submit(ids.VIEW_LOG_OUTREACH, values, view=modal, user_id=user)
    return status, body


def _thread_texts(bot: CareBot) -> list[str]:
    parent = bot.fake.messages(DIGEST)[0]
    return [message_text(m) for m in bot.fake.thread(DIGEST, parent["ts"])[1:]]


def test_log_outreach_button_opens_the_modal_for_the_whole_entry(care_bot):
    _, both = _digest(care_bot)

    modal = _open_modal(care_bot, both[0])

    assert modal["callback_id"] == ids.VIEW_LOG_OUTREACH
    assert modal["title"]["text"] == "Log outreach"
    assert sorted(json.loads(modal["private_metadata"])["task_ids"]) == sorted(both)
    assert "*Bo Both*  ·  bo@example.com" in message_text(modal)
    block_ids = [b.get("block_id") for b in modal["blocks"]]
    for block_id in (ids.BLOCK_LOG_CHANNEL, ids.BLOCK_LOG_OUTCOME, ids.BLOCK_LOG_NOTE):
        assert block_id in block_ids


def test_missing_fields_come_back_as_errors_under_each_field_and_change_nothing(care_bot):
    lone, _ = _digest(care_bot)
    modal = _open_modal(care_bot, lone)

    status, body = _submit(care_bot, modal, _values(note="tried"))

    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {ids.BLOCK_LOG_CHANNEL, ids.BLOCK_LOG_OUTCOME}
    assert care_bot.repos.tasks.require(lone).status == TASK_OPEN
    assert list(care_bot.repos.outreach.all()) == []


def test_follow_up_without_a_date_or_on_today_is_an_error_on_the_date_field(care_bot):
    lone, _ = _digest(care_bot)
    modal = _open_modal(care_bot, lone)

    _, no_date = _submit(care_bot, modal, _values("call", "follow_up"))
    _, today = _submit(care_bot, modal, _values("call", "follow_up", on=TODAY.isoformat()))

    assert set(json.loads(no_date)["errors"]) == {ids.BLOCK_LOG_FOLLOW_UP}
    assert set(json.loads(today)["errors"]) == {ids.BLOCK_LOG_FOLLOW_UP}
    assert care_bot.repos.tasks.require(lone).status == TASK_OPEN


def test_valid_submission_closes_the_entry_posts_in_the_thread_and_edits_the_message(care_bot):
    _, both = _digest(care_bot)
    modal = _open_modal(care_bot, both[0], user="U2")

    status, body = _submit(
        care_bot, modal, _values("call", "saved", note="Offered a pause"), user="U2"
    )

    assert (status, body) == (200, "")  # an empty ack closes the modal
    assert {care_bot.repos.tasks.require(t).status for t in both} == {TASK_DONE}
    [outreach] = care_bot.repos.outreach.for_subscriber("cus_both")
    assert (outreach.by, outreach.channel, outreach.outcome) == ("U2", "call", "saved")
    care_bot.fake.wait_for(
        lambda: any("<@U2>" in t and "Offered a pause" in t for t in _thread_texts(care_bot))
    )
    message = care_bot.fake.wait_for(
        lambda: (m := entry_message(care_bot, both[0])) and not entry_buttons(m, both[0]) and m
    )
    assert "by <@U2>" in message_text(message)
    care_bot.fake.wait_for(lambda: "*2* done" in message_text(care_bot.fake.messages(DIGEST)[0]))


def test_follow_up_outcome_creates_a_claimed_task_on_its_date(care_bot):
    lone, _ = _digest(care_bot)
    kind = care_bot.repos.tasks.require(lone).kind
    modal = _open_modal(care_bot, lone)
    on = TODAY + timedelta(days=4)

    status, body = _submit(care_bot, modal, _values("email", "follow_up", on=on.isoformat()))

    assert (status, body) == (200, "")
    assert care_bot.repos.tasks.require(lone).status == TASK_DONE
    follow = [t for t in tasks_of(care_bot.repos, "cus_000") if t.id != lone]
    assert [(t.due, t.kind, t.status, t.claimed_by) for t in follow] == [
        (on, kind, TASK_CLAIMED, "U1")
    ]
    care_bot.fake.wait_for(lambda: any("Follow-up on" in t for t in _thread_texts(care_bot)))


def test_log_command_with_a_task_id_closes_it_and_replies_in_the_thread(care_bot):
    lone, _ = _digest(care_bot)

    status, _, body = care_bot.sender.command(f"log {lone} call reached All good, loves it")

    assert status == 200
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral" and "Logged" in answer["text"]
    task = care_bot.repos.tasks.require(lone)
    assert (task.status, task.outcome, task.closed_by) == (TASK_DONE, "reached", "U1")
    [outreach] = care_bot.repos.outreach.for_subscriber("cus_000")
    assert outreach.note == "All good, loves it"
    care_bot.fake.wait_for(lambda: any("All good, loves it" in t for t in _thread_texts(care_bot)))


def test_log_command_with_an_email_finds_the_customer_and_reads_two_word_outcomes(care_bot):
    _, both = _digest(care_bot)

    # Slack sends a typed email wrapped as a mailto link when the command escapes its text.
    status, _, body = care_bot.sender.command(
        "log <mailto:bo@example.com|bo@example.com> call left message rang twice", user_id="U3"
    )

    assert status == 200 and "Logged" in json.loads(body)["text"]
    [outreach] = care_bot.repos.outreach.for_subscriber("cus_both")
    assert (outreach.outcome, outreach.note, outreach.by) == ("left_message", "rang twice", "U3")
    assert {care_bot.repos.tasks.require(t).status for t in both} == {TASK_DONE}


def test_log_command_with_a_plain_email_works_too(care_bot):
    _digest(care_bot)

    status, _, body = care_bot.sender.command("log c001@example.com email no answer")

    assert status == 200 and "Logged" in json.loads(body)["text"]
    [outreach] = care_bot.repos.outreach.for_subscriber("cus_001")
    assert (outreach.channel, outreach.outcome) == ("email", "no_answer")


def test_log_command_refuses_a_task_someone_else_claimed(care_bot):
    lone, _ = _digest(care_bot)
    care_bot.sender.command(f"claim {lone}", user_id="U2")

    _, _, body = care_bot.sender.command(f"log {lone} call reached")

    assert "claimed by <@U2>" in json.loads(body)["text"]
    assert care_bot.repos.tasks.require(lone).status == TASK_CLAIMED
    assert list(care_bot.repos.outreach.all()) == []


def test_log_command_explains_a_wrong_channel_or_outcome(care_bot):
    lone, _ = _digest(care_bot)

    _, _, channel = care_bot.sender.command(f"log {lone} pigeon reached")
    _, _, outcome = care_bot.sender.command(f"log {lone} call maybe")

    assert "Unknown channel 'pigeon'" in json.loads(channel)["text"]
    assert "Unknown outcome 'maybe'" in json.loads(outcome)["text"]
    assert care_bot.repos.tasks.require(lone).status == TASK_OPEN


def test_submission_after_someone_else_claimed_is_refused_in_the_modal_in_plain_text(care_bot):
    lone, _ = _digest(care_bot)
    modal = _open_modal(care_bot, lone)
    care_bot.sender.command(f"claim {lone}", user_id="U2")

    status, body = _submit(care_bot, modal, _values("call", "reached"))

    assert status == 200
    error = json.loads(body)["errors"][ids.BLOCK_LOG_OUTCOME]
    assert "claimed by @U2" in error and "<@" not in error
    assert care_bot.repos.tasks.require(lone).status == TASK_CLAIMED


def test_log_button_on_an_entry_closed_meanwhile_opens_no_modal_and_says_so(care_bot):
    lone, _ = _digest(care_bot)
    stale = entry_message(care_bot, lone)
    care_bot.sender.command(f"done {lone}", user_id="U2")

    status, _, _ = care_bot.sender.action(
        ids.ACTION_LOG,
        entry_buttons(stale, lone)[ids.ACTION_LOG]["value"],
        user_id="U1",
        channel_id=DIGEST,
        message=stale,
    )

    assert status == 200
    note = care_bot.fake.wait_for(lambda: care_bot.fake.ephemerals("U1"))[0]
    assert "already closed" in note["text"]
    assert care_bot.fake.modals("U1") == []


def test_log_for_a_customer_without_an_open_task_leaves_every_view_working(bots):
    """Issue 8: the outreach was stored without its empty task_id, and every reader then
    failed (stats, App Home, lookup) with a 500; after a restart too."""
    bot = bots()
    add_subscriber(
        bot.repos, "cus_quiet", "Quinn Quiet", "quinn@example.com", DAY_30 - timedelta(200)
    )
    status, _, body = bot.sender.command(
        "log quinn@example.com call reached all fine", user_id="U2"
    )
    assert status == 200 and "Logged" in json.loads(body)["text"]
    [outreach] = bot.repos.outreach.for_subscriber("cus_quiet")
    assert (outreach.task_id, outreach.note) == ("", "all fine")
    bot.stop()

    bot = bots()  # the same data directory, read back from its files
    for text in ("stats", "lookup quinn@example.com"):
        status, _, body = bot.sender.command(text, user_id="U1")
        assert status == 200, (text, body)
    assert "all fine" in message_text(json.loads(body))  # the lookup shows the logged touch
    status, _, _ = bot.sender.event(app_home_opened("U1"))
    assert status == 200
    bot.fake.wait_for(lambda: bot.fake.home("U1") is not None)
    assert "Hi <@U1>!" in message_text(bot.fake.home("U1"))
