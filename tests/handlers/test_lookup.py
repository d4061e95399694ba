"""Looking things up: /care mine, lookup, stats, help and a mistyped subcommand; all ephemeral."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.models import TASK_EXPIRED, Task
from bot.repos.digests import DigestRecord
from tests.handlers.conftest import (
    DAY_30,
    TODAY,
    CareBot,
    add_checkins,
    add_subscriber,
    message_text,
    post_digest,
    tasks_of,
)


def _ask(bot: CareBot, text: str, user: str = "U1") -> tuple[dict, str]:
    """Run `/care <text>`; returns the ack body and all of its text."""
    status, _, body = bot.sender.command(text, user_id=user)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    return answer, message_text(answer)


def _digest(bot: CareBot) -> DigestRecord:
    add_checkins(bot.repos, 3)
    add_subscriber(
        bot.repos,
        "cus_both",
        "Bo Both",
        "bo@example.com",
        DAY_30,
        plan="Family Box",
        owner="Dana",
        cancel_at_period_end=True,
    )
    return post_digest(bot)


def _first(bot: CareBot, sid: str) -> str:
    return tasks_of(bot.repos, sid)[0].id


def test_mine_lists_my_claimed_tasks_with_log_buttons(care_bot):
    _digest(care_bot)
    _ask(care_bot, f"claim {_first(care_bot, 'cus_both')}", user="U2")
    _ask(care_bot, f"claim {_first(care_bot, 'cus_001')}", user="U2")
    _ask(care_bot, f"claim {_first(care_bot, 'cus_002')}", user="U3")

    answer, text = _ask(care_bot, "mine", user="U2")

    assert "you have *3* claimed tasks" in text  # Bo Both's two tasks and one check-in
    assert "Bo Both" in text and "Customer 001" in text and "Customer 002" not in text
    buttons = [b["accessory"]["text"]["text"] for b in answer["blocks"] if "accessory" in b]
    assert buttons == ["Log outreach"] * 3
    _, nothing = _ask(care_bot, "mine", user="U1")
    assert "no claimed tasks" in nothing


def test_mine_reads_no_task_but_the_claimants_after_the_digest_posted(care_bot):
    """`/care mine` read every stored task to find the asker's (271k at 1M subscribers). It
    reads the ledger the App Home keeps current from the task repository's change reports,
    brought up to date before the digest posts: claims and a closed task since are seen."""
    _digest(care_bot)  # posting warmed the ledger
    tasks = care_bot.repos.tasks
    every_task, every_active = tasks.raw, tasks.active
    scans: list[str] = []

    def counted(name, read):  # noqa: ANN001, ANN202 - the repository's own bulk reads, counted
        return lambda: scans.append(name) or read()

    tasks.raw, tasks.active = counted("raw", every_task), counted("active", every_active)
    try:
        _ask(care_bot, f"claim {_first(care_bot, 'cus_both')}", user="U2")
        _ask(care_bot, f"claim {_first(care_bot, 'cus_001')}", user="U2")
        _, text = _ask(care_bot, "mine", user="U2")
        assert "you have *3* claimed tasks" in text and "Customer 001" in text
        _ask(care_bot, f"log {_first(care_bot, 'cus_001')} call saved", user="U2")
        _, text = _ask(care_bot, "mine", user="U2")
        assert "you have *2* claimed tasks" in text and "Customer 001" not in text
    finally:
        del tasks.raw, tasks.active
    assert scans == []


def test_lookup_by_email_shows_stage_risk_reasons_and_recent_outreach_by_whom(care_bot):
    _digest(care_bot)
    _ask(care_bot, "log bo@example.com call left message voicemail", user="U3")

    _, text = _ask(care_bot, "lookup <mailto:bo@example.com|bo@example.com>")

    assert "Bo Both" in text and "bo@example.com" in text
    assert "Family Box" in text and "Dana" in text
    assert "*Stage*\nEarly (day 30)" in text
    assert "*Risk*" in text and "Scheduled to cancel at the end of the period" in text
    assert "<@U3>" in text and "Left a message" in text and "voicemail" in text


def test_lookup_by_part_of_a_name_finds_one_or_lists_several(care_bot):
    _digest(care_bot)

    _, one = _ask(care_bot, "lookup bo both")
    _, several = _ask(care_bot, "lookup customer")
    _, none = _ask(care_bot, "lookup nobody@nowhere.example")

    assert "*Stage*" in one and "Bo Both" in one
    assert "3 subscribers match" in several and "c002@example.com" in several
    assert "No subscriber `nobody@nowhere.example`" in none


def test_stats_count_due_claimed_done_expired_per_manager_and_median_time_to_claim(care_bot):
    record = _digest(care_bot)
    care_bot.clock.advance(minutes=30)
    _ask(care_bot, f"claim {_first(care_bot, 'cus_000')}", user="U1")
    care_bot.clock.advance(minutes=60)
    _ask(care_bot, f"claim {_first(care_bot, 'cus_001')}", user="U2")
    _ask(care_bot, f"log {_first(care_bot, 'cus_001')} call saved", user="U2")
    expired = Task(
        id="old01",
        key="cus_old:checkin_30",
        kind="checkin_30",
        subscriber_id="cus_old",
        due=TODAY - timedelta(days=20),
        created_at=care_bot.clock.now() - timedelta(days=20),
        status=TASK_EXPIRED,
        outcome="expired",
        closed_at=care_bot.clock.now() - timedelta(days=5),
    )
    assert care_bot.repos.tasks.create(expired)
    # The digest's edits (and the parent's tally) are made off the answer path; let them land.
    assert care_bot.publisher.edits.drain()

    _, week = _ask(care_bot, "stats 7d")
    _, month = _ask(care_bot, "stats 30d")

    assert "Last 7 days" in week
    assert "*5* came due  ·  *2* claimed  ·  *1* done  ·  *1* expired" in week
    assert "Came due: tasks whose due date fell in the last 7 days" in week
    # Today's digest, counted as its parent message counts it: the same numbers.
    parent = message_text(care_bot.fake.message(record.channel, record.parent_ts))
    listed = re.search(r"\*(\d+) proactive touches due today", parent).group(1)
    progress = "*1* claimed  ·  *1* done  ·  *3* still open"  # claimed now, not in the week
    assert listed == "5" and progress in parent
    assert f"*Today's digest* (Mon Jun 15): *{listed}* due today  ·  {progress}" in week
    assert "Median time to claim: *1 h*" in week  # 30 min and 90 min
    assert "<@U2>: 1 claimed  ·  1 done  ·  1 outreach  ·  1 saved" in week
    assert "<@U1>: 1 claimed  ·  0 done" in week
    assert "Last 30 days" in month and "*6* came due" in month
    _, wrong = _ask(care_bot, "stats 90d")
    assert "Usage" in wrong


def test_help_lists_every_subcommand(care_bot):
    _, text = _ask(care_bot, "help")
    _, empty = _ask(care_bot, "")

    for usage in ("/care mine", "/care lookup", "/care claim", "/care log", "/care stats"):
        assert usage in text
    assert empty == text


def test_unknown_subcommand_answers_with_the_nearest_match_and_the_help(care_bot):
    _, text = _ask(care_bot, "claimm k7qx2")
    _, other = _ask(care_bot, "lokup ann")

    assert "I don't know `claimm`" in text
    assert "Did you mean `/care claim &lt;task-id&gt;`?" in text
    assert "/care stats" in text  # the help follows
    assert "Did you mean `/care lookup" in other
