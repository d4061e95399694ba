"""The audit trail through Slack: every surface leaves an entry saying where it came from,
`/care history ID` tells a task's story, `/care lookup` shows a customer's recent history,
triage buttons are recorded too, and the trail survives restarts across days."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.audit import AuditEntry
from bot.blocks import ids
from bot.clock import FixedClock
from bot.models import TASK_CLAIMED, Outreach
from tests.bot.inbox.mail import make_email
from tests.handlers.conftest import (
    MONDAY_MORNING,
    CareBot,
    add_checkins,
    add_subscriber,
    click,
    message_text,
    post_digest,
    tasks_of,
)
from tests.handlers.test_log import _submit, _values
from tests.handlers.test_triage import SECRET, post_inbox
from tests.slackreq import app_home_opened
from tests.stored import edit_stored


def _command(bot: CareBot, text: str, user: str = "U1") -> dict:
    status, _, body = bot.sender.command(text, user_id=user, channel_id="C1")
    assert status == 200, body
    return json.loads(body)


def _trail(bot: CareBot, task_id: str) -> list[tuple[str, str, str]]:
    """(action, by, surface) of the task's entries, oldest first."""
    task = bot.repos.tasks.require(task_id)
    return [
        (e.action, e.by, e.surface) for e in bot.repos.audit.for_task(task_id, task.subscriber_id)
    ][::-1]


def test_each_surface_is_recorded_with_who_did_what(care_bot):
    bot = care_bot
    add_checkins(bot.repos, 2)
    post_digest(bot)
    first, second = (tasks_of(bot.repos, f"cus_00{i}")[0].id for i in range(2))

    click(bot, ids.ACTION_CLAIM, first, user="U1")  # a digest button
    bot.fake.wait_for(lambda: _trail(bot, first))
    _command(bot, f"release {first}")  # a slash command
    bot.sender.event(app_home_opened("U2"))  # the Home tab lists it; claimed from there
    home = bot.fake.wait_for(lambda: bot.fake.home("U2"))
    bot.sender.action(ids.ACTION_CLAIM, ids.encode_ids([first]), user_id="U2", view=home)
    bot.fake.wait_for(lambda: len(_trail(bot, first)) == 3)
    _command(bot, f"release {first}", user="U2")
    click(bot, ids.ACTION_CLAIM, second, user="U3")
    bot.fake.wait_for(lambda: _trail(bot, second))
    click(bot, ids.ACTION_LOG, second, user="U3")  # the log form
    [modal] = bot.fake.wait_for(lambda: bot.fake.modals("U3"))
    status, _ = _submit(bot, modal, _values("call", "reached", "all good"), user="U3")
    assert status == 200

    assert _trail(bot, first) == [
        ("claim", "U1", "button"),
        ("release", "U1", "command"),
        ("claim", "U2", "home"),
        ("release", "U2", "command"),
    ]
    assert _trail(bot, second) == [("claim", "U3", "button"), ("log", "U3", "modal")]
    [log] = [e for e in bot.repos.audit.history("cus_001") if e.action == "log"]
    assert log.detail == "call, reached"


def test_history_command_tells_a_tasks_story_oldest_first(bots):
    bot = bots(CARE_LEADS="U3")
    add_checkins(bot.repos, 1)
    post_digest(bot)
    task = tasks_of(bot.repos, "cus_000")[0].id
    _command(bot, f"claim {task}", user="U1")
    _command(bot, f"assign {task} <@U2|bo>", user="U3")  # a lead takes it from U1
    _command(bot, f"snooze {task} 2", user="U2")

    text = message_text(_command(bot, f"history {task}", user="U1"))

    lines = [line for line in text.splitlines() if "· _" in line]
    assert len(lines) == 3, text
    assert "<@U1> claimed" in lines[0] and "_slash command_" in lines[0]
    assert "<@U3> assigned" in lines[1] and "to <@U2>" in lines[1] and "held by <@U1>" in lines[1]
    assert "<@U2> snoozed" in lines[2] and "until 2026-06-17" in lines[2]
    assert "Customer 000" in text and "opened" in text
    assert "*Now:* claimed by <@U2>" in text
    unknown = _command(bot, "history zzzzz")
    assert "No task `zzzzz`" in unknown["text"]


def test_lookup_shows_the_last_ten_entries_newest_first_and_counts_the_rest(care_bot):
    bot = care_bot
    add_checkins(bot.repos, 1)
    post_digest(bot)
    task = tasks_of(bot.repos, "cus_000")[0].id
    for _ in range(6):  # twelve entries, a minute apart
        _command(bot, f"claim {task}", user="U1")
        bot.clock.advance(minutes=1)
        _command(bot, f"release {task}", user="U1")
        bot.clock.advance(minutes=1)

    card = _command(bot, "lookup c000@example.com")

    history = next(
        b["text"]["text"]
        for b in card["blocks"]
        if b.get("text", {}).get("text", "").startswith("*History*")
    )
    lines = [line for line in history.splitlines() if line.startswith("• ")]
    assert len(lines) == 10
    assert "released" in lines[0] and "claimed" in lines[1]  # newest first
    assert "_2 older entries not shown_" in history


def test_triage_buttons_are_recorded_for_the_customer(bots):
    bot = bots(CARE_TRIAGE_CHANNEL="C0TRIAGE", INBOX_WEBHOOK_SECRET=SECRET)
    add_subscriber(bot.repos, "cus_ann", "Ann Lee", "ann@example.com", date(2025, 3, 1))
    post_inbox(bot, make_email())
    [message] = bot.fake.messages("C0TRIAGE")
    item = bot.repos.inbox.active_items()[0]

    def press(action_id: str, user: str, count: int) -> None:
        now = bot.fake.wait_for(  # the message as the last action left it, showing the button
            lambda: (m := bot.fake.message("C0TRIAGE", message["ts"])) and action_id in str(m) and m
        )
        bot.sender.action(action_id, message=now, channel_id="C0TRIAGE", user_id=user)
        bot.fake.wait_for(lambda: len(bot.repos.audit.history("cus_ann")) == count, timeout=5)

    press(ids.ACTION_TRIAGE_CLAIM, "U1", 1)
    press(ids.ACTION_TRIAGE_RELEASE, "U1", 2)
    press(ids.ACTION_TRIAGE_CLAIM, "U2", 3)
    press(ids.ACTION_TRIAGE_RESOLVE, "U2", 4)
    press(ids.ACTION_TRIAGE_REOPEN, "U1", 5)

    trail = [(e.action, e.by, e.item_id) for e in bot.repos.audit.history("cus_ann")][::-1]
    assert trail == [
        ("triage_claim", "U1", item.id),
        ("triage_release", "U1", item.id),
        ("triage_claim", "U2", item.id),
        ("triage_resolve", "U2", item.id),
        ("triage_reopen", "U1", item.id),
    ]
    card = message_text(_command(bot, "lookup ann@example.com"))
    assert "<@U2> resolved inbox item" in card


def test_the_trail_survives_restarts_across_days(bots, tmp_path):
    clock = FixedClock(MONDAY_MORNING)
    bot = bots(clock=clock)
    add_checkins(bot.repos, 1)
    post_digest(bot)
    task = tasks_of(bot.repos, "cus_000")[0].id
    _command(bot, f"claim {task}", user="U1")
    bot.stop()

    clock.advance(days=1)
    bot = bots(clock=clock, data_dir=tmp_path / "data")
    _command(bot, f"release {task}", user="U1")
    _command(bot, f"claim {task}", user="U2")
    bot.stop()

    clock.advance(days=2)
    bot = bots(clock=clock, data_dir=tmp_path / "data")
    entries = bot.repos.audit.for_task(task, "cus_000")[::-1]
    assert [(e.action, e.by, e.at.date()) for e in entries] == [
        ("claim", "U1", MONDAY_MORNING.date()),
        ("release", "U1", (MONDAY_MORNING + timedelta(days=1)).date()),
        ("claim", "U2", (MONDAY_MORNING + timedelta(days=1)).date()),
    ]
    assert bot.repos.tasks.require(task).status == TASK_CLAIMED
    text = message_text(_command(bot, f"history {task}"))
    assert text.index("<@U1> claimed") < text.index("<@U1> released") < text.index("<@U2> claimed")
    assert "Jun 15" in text and "Jun 16" in text


def test_an_entry_or_outreach_the_views_cannot_show_is_named_and_the_rest_shown(bots, caplog):
    bot = bots()
    add_checkins(bot.repos, 1)
    post_digest(bot)
    task = tasks_of(bot.repos, "cus_000")[0].id
    for verb in ("claim", "release", "claim"):
        _command(bot, f"{verb} {task}")
    _command(bot, f"log {task} call reached the bad call")
    bot.repos.outreach.add(
        Outreach("o_good", "cus_000", task, "U1", "email", "reached", MONDAY_MORNING, "good call")
    )
    first_claim = _trail_entries(bot, task)[0].id
    bad_call = next(o.id for o in bot.repos.outreach.for_subscriber("cus_000") if o.id != "o_good")
    bot.stop()
    year_1 = "0001-01-01T00:00:00Z"  # a hand edit: it reads, and has no place in New York's day
    edit_stored(bot.data_dir, "audit", first_claim, at=year_1)
    edit_stored(bot.data_dir, "outreach", bad_call, at=year_1)
    bot = bots(clock=bot.clock, data_dir=bot.data_dir)

    card = message_text(_command(bot, "lookup c000@example.com"))
    story = message_text(_command(bot, f"history {task}"))

    assert "released" in card and "good call" in card
    assert f"1 history entry could not be shown (id `{first_claim}`)" in card
    assert f"1 outreach log could not be shown (id `{bad_call}`)" in card
    assert "released" in story and "logged outreach on" in story
    assert f"1 history entry could not be shown (id `{first_claim}`)" in story
    logged = [r.getMessage() for r in caplog.records if r.exc_info]
    assert any(first_claim in m for m in logged) and any(bad_call in m for m in logged)


def _trail_entries(bot: CareBot, task_id: str) -> list[AuditEntry]:
    """The task's audit entries, oldest first."""
    task = bot.repos.tasks.require(task_id)
    return bot.repos.audit.for_task(task_id, task.subscriber_id)[::-1]
