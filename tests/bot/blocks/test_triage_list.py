"""`/care triage`: the open items in the order given, then the parked emails, escaped."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks.limits import check_message
from bot.blocks.triage import TriageView
from bot.blocks.triage_list import build_triage_list
from bot.inbox.models import DeadLetter
from tests.bot.blocks.factories import ALICE, ANY_VALUE, NOW, TZ, text_of, triage_view


def test_triage_list_shows_open_items_in_the_order_given_and_fits() -> None:
    items = [
        triage_view(item_id=f"i{i}", subject=f"Subject {i}", received_at=NOW - timedelta(minutes=i))
        for i in range(300)
    ]
    items[0].claimed_by = ALICE  # the first given, listed first (the handler ranks them)
    msg = build_triage_list(items, NOW, TZ)
    check_message(msg)
    text = text_of(msg)
    assert text.index("Subject 0") < text.index("Subject 1")
    assert f"claimed by <@{ALICE}>" in text
    assert "and 30 more" in text
    assert "No open inbox items" in build_triage_list([], NOW, TZ)["text"]


def test_parked_emails_are_listed_escaped_with_the_commands_even_under_a_long_list() -> None:
    letters = [
        DeadLetter(
            id=f"d{i:04d}",
            key=f"k{i}",
            parked_at=NOW,
            attempts=3,
            error="RuntimeError: <!channel> broke",
            subject=f"<@U999> cancel {i}",
            sender="ann@example.com",
        )
        for i in range(40)
    ]
    items = [triage_view(item_id=f"i{i}", subject=f"Subject {i}") for i in range(300)]

    msg = build_triage_list(items, NOW, TZ, parked=letters)

    check_message(msg)
    text = text_of(msg)
    assert "40 emails could not be handled" in text and "/care inbox retry ID" in text
    assert "`d0000`" in text and "and 10 more" in text
    assert "<!channel>" not in text and "<@U999>" not in text
    only_parked = text_of(build_triage_list([], NOW, TZ, parked=letters[:1]))
    assert "No open inbox items" in only_parked and "1 email could not be handled" in only_parked


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([f.name for f in dataclasses.fields(TriageView)]), ANY_VALUE)
def test_an_item_with_any_damaged_field_is_listed_or_named_and_the_others_are_listed(
    name: str, value: Any
) -> None:
    bad = triage_view(item_id="bad01", subject="Bad one")
    setattr(bad, name, value)
    items = [triage_view(item_id="good1", subject="Good one"), bad]

    msg = build_triage_list(items, NOW, TZ)

    check_message(msg)
    text = text_of(msg)
    assert "Good one" in text
    if name == "item_id":
        assert "Bad one" in text or "1 item could not be shown" in text
    else:
        assert "bad01" in text  # listed, or named as an item that could not be shown
