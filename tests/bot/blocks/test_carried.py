"""The compact "still open from earlier days" message and the moved-on entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.blocks import ids
from bot.blocks.carried import build_carried_message
from bot.blocks.digest import build_entry_message
from bot.blocks.limits import check_message
from tests.bot.blocks.factories import (
    ALICE,
    NOW,
    TODAY,
    TZ,
    assert_no_markup_from_input,
    claimed,
    done,
    entry,
    hostile_entry,
    subscriber,
    task,
)

TOMORROW = TODAY + timedelta(days=1)


def _lines(message: dict) -> list[dict]:
    return [b for b in message["blocks"] if b.get("block_id", "").startswith(ids.BLOCK_CARRIED)]


def test_each_customer_is_one_line_with_the_button_its_state_needs():
    open_one = entry(task("a1b2c", "checkin_30", due=TODAY - timedelta(days=9)))
    held = claimed(entry(task("d3e4f"), sub=subscriber("Bo Park")))
    finished = done(entry(task("g5h6i"), sub=subscriber("Cy Li")))

    message = build_carried_message([open_one, held, finished], TOMORROW, first=True, total=3)

    check_message(message)
    title, *_ = message["blocks"]
    assert title["text"]["text"] == "Still open from earlier days (3)"
    first, second, third = _lines(message)
    assert "due Sat Jun 6 (10 days ago)" in first["text"]["text"]
    assert "`a1b2c`" in first["text"]["text"]
    assert (first["accessory"]["action_id"], first["accessory"]["value"]) == (
        ids.ACTION_CLAIM,
        "a1b2c",
    )
    assert f"<@{ALICE}>" in second["text"]["text"]
    assert second["accessory"]["action_id"] == ids.ACTION_LOG
    assert "accessory" not in third and ":white_check_mark:" in third["text"]["text"]


def test_fifteen_customers_fit_one_message_and_later_messages_have_no_title():
    entries = [entry(task(f"t{i:04d}"), sub=subscriber(f"C {i}")) for i in range(15)]

    first = build_carried_message(entries, TOMORROW, first=True, total=30)
    later = build_carried_message(entries, TOMORROW, first=False)

    check_message(first)
    assert len(_lines(first)) == 15 and len(first["blocks"]) == 17
    assert len(later["blocks"]) == 15


def test_outside_text_in_a_line_pings_nobody():
    message = build_carried_message([hostile_entry()], TOMORROW)
    assert_no_markup_from_input(message)


def test_an_entry_that_moved_on_says_where_and_has_no_buttons():
    moved = replace(entry(task()), moved_to=TOMORROW)

    message = build_entry_message(moved, TODAY, TZ, NOW)

    assert "Moved on: still open, now in the digest of Tue Jun 16" in str(message["blocks"])
    assert all(b["type"] != "actions" for b in message["blocks"])
    assert "(moved on)" in message["text"]
