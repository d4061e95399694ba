"""The audit builders: one line per action, the lookup card's history, a task's story."""

from __future__ import annotations

from datetime import timedelta

from bot.audit import AuditEntry
from bot.blocks.audit import build_history_blocks, build_task_history
from bot.blocks.limits import check_message
from tests.bot.blocks.factories import (
    ALICE,
    BOB,
    HOSTILE,
    NOW,
    TODAY,
    TZ,
    assert_no_markup_from_input,
    hostile_task,
    task,
)


def entry(n: int, action: str = "claim", **details: object) -> AuditEntry:
    return AuditEntry.new("cus_1", NOW + timedelta(minutes=n), ALICE, action, "button", **details)


def test_a_reassignment_line_names_who_held_it_and_who_has_it_now() -> None:
    [section] = build_history_blocks(
        [entry(0, "assign", task_ids=["k7qx2"], holder=BOB, assignee=ALICE)], TZ
    )
    text = section["text"]["text"]
    assert f"<@{ALICE}> assigned `k7qx2` to <@{ALICE}> (held by <@{BOB}>) · _button_" in text


def test_history_shows_the_newest_ten_and_counts_the_rest() -> None:
    entries = [entry(n, task_ids=[f"t{n}"]) for n in range(13)][::-1]  # newest first
    [section] = build_history_blocks(entries, TZ)
    lines = section["text"]["text"].splitlines()
    assert lines[1].count("`t12`") == 1 and "`t3`" in lines[10]
    assert lines[-1] == "_3 older entries not shown_"
    assert "nothing recorded yet" in build_history_blocks([], TZ)[0]["text"]["text"]


def test_hostile_details_and_names_ping_nobody() -> None:
    hostile = [
        entry(1, "snooze", task_ids=[HOSTILE], detail=HOSTILE, holder=HOSTILE, assignee=HOSTILE)
    ]
    message = build_task_history(hostile_task(), HOSTILE, hostile, TODAY, TZ)
    assert_no_markup_from_input(message)
    assert_no_markup_from_input(build_history_blocks(hostile, TZ))


def test_a_long_story_stays_within_slack_limits_and_says_what_it_left_out() -> None:
    entries = [entry(n, "snooze", task_ids=["k7qx2"], detail="x" * 150) for n in range(260)]
    message = build_task_history(
        task(claimed_by=BOB, status="claimed"), "Ann", entries[::-1], TODAY, TZ
    )
    check_message(message)
    text = "\n".join(b["text"]["text"] for b in message["blocks"])
    assert "_60 earlier entries not shown_" in text
    assert f"*Now:* claimed by <@{BOB}>" in text
