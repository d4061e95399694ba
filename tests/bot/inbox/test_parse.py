"""The email reader on real messages from other mail systems and on messages written here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.inbox.parse import Attachment, parse_email
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


def test_broken_multipart_is_read_with_a_note():
    parsed = parse_email((CORPUS / "cpython" / "msg_15.txt").read_bytes())

    assert "Some removed test." in parsed.text
    assert any("malformed MIME" in note and "boundary" in note for note in parsed.notes)


def test_headers_running_into_the_body_are_read_with_a_note():
    parsed = parse_email((CORPUS / "cpython" / "msg_35.txt").read_bytes())

    assert parsed.subject == "here's something interesting"
    assert any("headers run into the body" in note for note in parsed.notes)


def test_missing_message_id_is_generated_stably_from_the_raw_bytes():
    raw = b"From: a@example.com\r\nSubject: no id\r\n\r\nhello\r\n"

    first, second = parse_email(raw), parse_email(raw)
    other = parse_email(raw + b"more\r\n")

    assert first.generated_id and first.message_id == second.message_id
    assert first.message_id != other.message_id


def test_encoded_subject_and_sender_are_decoded_and_address_lower_cased():
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9e_M=C3=BCller?= <Renee.Muller+Box@Example.COM>\r\n"
        b"To: Support <support@shop.example>, billing@shop.example\r\n"
        b"Subject: =?iso-8859-1?q?K=FCndigung_meines_Abos?=\r\n"
        b"Message-ID: <abc@mail.example.com>\r\n"
        b"In-Reply-To: <root@shop.example>\r\n"
        b"References: <root@shop.example> <second@mail.example.com>\r\n"
        b"\r\nBitte k\xc3\xbcndigen.\r\n"
    )

    parsed = parse_email(raw)

    assert parsed.from_name == "Renée Müller"
    assert parsed.from_address == "renee.muller+box@example.com"
    assert parsed.subject == "Kündigung meines Abos"
    assert parsed.to == ("support@shop.example", "billing@shop.example")
    assert parsed.in_reply_to == "<root@shop.example>"
    assert parsed.references == ("<root@shop.example>", "<second@mail.example.com>")
    assert parsed.thread_ids == (
        "<root@shop.example>",
        "<second@mail.example.com>",
    )


def test_date_is_aware_utc():
    parsed = parse_email(make_email(date="Mon, 15 Jun 2026 09:30:00 -0400"))

    assert parsed.date == datetime(2026, 6, 15, 13, 30, tzinfo=UTC)


def test_unreadable_date_becomes_none_with_a_note():
    raw = b"From: a@example.com\r\nDate: the day after tomorrow\r\nSubject: x\r\n\r\nhi\r\n"

    parsed = parse_email(raw)

    assert parsed.date is None
    assert any("Date" in note for note in parsed.notes)


def test_html_only_message_becomes_readable_text():
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Hello,</p><p>my box arrived <b>damaged</b>.</p>"
        '<p>See <a href="https://shop.example/orders/1">order 1</a></p></body></html>'
    )

    parsed = parse_email(make_email(body="", html=html))

    assert "my box arrived damaged." in parsed.text
    assert "order 1" in parsed.text
    assert "<p>" not in parsed.text and "color: red" not in parsed.text


def test_undeclared_latin1_is_guessed_and_noted():
    raw = (
        b"From: Zo\xe9 <zoe@example.fr>\r\nSubject: R\xe9siliation\r\nMessage-ID: <l1@example.fr>\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"Bonjour, je voudrais r\xe9silier mon abonnement \xe0 la box caf\xe9. "
        b"Merci de confirmer la r\xe9siliation d\xe8s que possible.\r\n"
    )

    parsed = parse_email(raw)

    assert "résilier mon abonnement à la box café" in parsed.text
    assert parsed.subject == "Résiliation"
    assert parsed.from_name == "Zoé"
    assert any("declares no charset" in note for note in parsed.notes)


def test_wrongly_declared_charset_is_read_another_way_with_a_note():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Je voudrais un remboursement, la commande est arriv\xe9e ab\xeem\xe9e.\r\n"
    )

    parsed = parse_email(raw)

    assert "arrivée abîmée" in parsed.text
    assert any("is not valid utf-8" in note for note in parsed.notes)


def test_unknown_charset_never_raises_and_says_what_happened():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe\x00 plain words\r\n--b--\r\n"
    )

    parsed = parse_email(raw)

    assert "plain words" in parsed.text
    assert any("part 2" in note and "x-unknown" in note for note in parsed.notes)


def test_attachments_are_listed_by_name_and_size_not_kept():
    parsed = parse_email((CORPUS / "flanker" / "attached-pdf.eml").read_bytes())

    assert parsed.attachments == (Attachment("test.pdf", 6940),)
    assert "%PDF" not in parsed.full_text
    assert parsed.text == "Test - body content"


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


def test_attached_message_is_shown_as_forwarded():
    parsed = parse_email((CORPUS / "flanker" / "enclosed.eml").read_bytes())

    assert parsed.text.startswith("Hello")
    assert "Forwarded message" in parsed.text
    assert parsed.forwarded_from == "dan@example.com"


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
