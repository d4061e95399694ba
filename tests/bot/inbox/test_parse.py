"""The email reader on real messages from other mail systems and on messages written here."""

from __future__ import annotations

import pytest

from bot.inbox.parse import parse_email
from tests.bot.inbox.mail import make_email
from tests.conftest import SHARED

CORPUS = SHARED / "email-corpus"
TALON = sorted((CORPUS / "talon-replies").glob("*.eml"))
CPYTHON = sorted((CORPUS / "cpython").glob("msg_*.txt"))
LAST_RESORT = "could not read this message's structure"


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", TALON, ids=lambda p: p.stem)
def test_talon_replies_keep_only_the_new_text(path):
    parsed = parse_email(path.read_bytes())

    assert parsed.text == "Hello"
    assert "Hi" in parsed.full_text  # the quoted original is still one click away


@pytest.mark.parametrize("name", ["iphone", "sparrow"])
def test_talon_new_text_and_signature_match_the_expected_reply_text(name):
    expected = (CORPUS / "talon-replies" / f"{name}_reply_text").read_text()

    parsed = parse_email((CORPUS / "talon-replies" / f"{name}.eml").read_bytes())

    assert parsed.signature  # the signature is stripped from the text ...
    assert parsed.signature not in parsed.text
    assert _words(f"{parsed.text} {parsed.signature}") == _words(expected)  # ... and kept aside


@pytest.mark.parametrize("path", CPYTHON, ids=lambda p: p.stem)
def test_every_cpython_message_parses_without_falling_back_to_raw(path):
    parsed = parse_email(path.read_bytes())

    assert parsed.message_id.startswith("<") and parsed.message_id.endswith(">")
    assert not any(LAST_RESORT in note for note in parsed.notes)


def test_inline_forward_keeps_the_forwarded_customer_email():
    body = (
        "Can someone handle this one?\n\n"
        "---------- Forwarded message ---------\n"
        "From: Bo Chen <bo@example.com>\n"
        "Date: Sun, 14 Jun 2026 at 10:00\n"
        "Subject: Cancel please\n"
        "To: <sales@shop.example>\n\n"
        "Please cancel my subscription, thanks.\n"
    )

    parsed = parse_email(
        make_email(subject="Fwd: Cancel please", body=body, sender="kim@shop.example")
    )

    assert parsed.text.startswith("Can someone handle this one?")
    assert "Please cancel my subscription" in parsed.text
    assert parsed.forwarded_from == "bo@example.com"


def test_quoted_reply_and_signature_are_stripped_from_the_new_text():
    body = (
        "Yes, please skip next month.\n\nThanks,\nAnn\n\n"
        "On Fri, Jun 12, 2026 at 9:00 AM Care Team <care@shop.example> wrote:\n"
        "> Would you like to skip a month?\n> Just reply to this email.\n"
    )

    parsed = parse_email(make_email(subject="Re: Your next box", body=body))

    assert parsed.text == "Yes, please skip next month."
    assert "Thanks," in parsed.signature
    assert "Would you like to skip" in parsed.full_text
    assert "Would you like to skip" not in parsed.text


def test_outlook_style_original_message_is_stripped():
    body = (
        "Where is my order?\n\n"
        "From: Care Team <care@shop.example>\nSent: Friday, June 12, 2026 9:00 AM\n"
        "To: Ann Lee <ann@example.com>\nSubject: Your order shipped\n\nYour order is on its way.\n"
    )

    parsed = parse_email(make_email(subject="RE: Your order shipped", body=body))

    assert parsed.text == "Where is my order?"


def test_hostile_slack_markup_is_kept_as_plain_text_for_the_slack_side_to_escape():
    body = "<!channel> <!everyone> ping <@U123> and <http://evil.example|click here> &amp;"

    parsed = parse_email(make_email(subject="<!here> urgent", body=body))

    assert parsed.text == body
    assert parsed.subject == "<!here> urgent"
