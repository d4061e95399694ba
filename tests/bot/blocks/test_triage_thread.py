"""A triage message's thread: the full email split to fit, a new reply, the reminder."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.limits import check_message
from bot.blocks.plain import unmark
from bot.blocks.triage_thread import (
    build_full_email_messages,
    build_triage_reminder,
    build_triage_reply,
)
from tests.bot.blocks.factories import NOW, TZ, buttons, text_of, triage_view


def test_the_full_text_is_split_into_thread_replies_that_lose_nothing() -> None:
    body = "\n".join(f"Line {i}: <b>bold</b> & more text here" for i in range(4000))
    messages = build_full_email_messages(triage_view(text=body))
    assert len(messages) > 1
    sections = []
    for msg in messages:
        check_message(msg)
        sections += [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert unmark("\n".join(sections)) == body


def test_an_enormous_body_stops_after_twenty_replies_and_says_so() -> None:
    messages = build_full_email_messages(triage_view(text="word " * 2_000_000))
    assert len(messages) == 20
    assert "more characters not posted" in text_of(messages[-1])
    for msg in messages:
        check_message(msg)


def test_reminder_has_a_claim_button() -> None:
    msg = build_triage_reminder(triage_view(), 130)
    check_message(msg)
    assert "Still unclaimed after 2 h 10 min" in msg["blocks"][0]["text"]["text"]
    assert buttons(msg)[ids.ACTION_TRIAGE_CLAIM]["value"] == "m9r2t"


def test_reply_in_a_resolved_conversation_says_it_reopened() -> None:
    messages = build_triage_reply(triage_view(reopened=True), "Still waiting!", NOW, TZ)
    text = text_of(messages[0])
    assert "New reply from *Ann Lee*" in text and "open again" in text
    assert "Still waiting!" in text
