"""The body's MIME walk, through `parse_email`: text parts, charsets, HTML, attachments,
attached messages, and notes on malformed structure."""

from __future__ import annotations

import pytest

from bot.inbox.body import Attachment
from bot.inbox.parse import parse_email
from tests.bot.inbox.mail import make_email
from tests.conftest import SHARED

CORPUS = SHARED / "email-corpus"


def test_broken_multipart_is_read_with_a_note():
    parsed = parse_email((CORPUS / "cpython" / "msg_15.txt").read_bytes())

    assert "Some removed test." in parsed.text
    assert any("malformed MIME" in note and "boundary" in note for note in parsed.notes)


def test_headers_running_into_the_body_are_read_with_a_note():
    parsed = parse_email((CORPUS / "cpython" / "msg_35.txt").read_bytes())

    assert parsed.subject == "here's something interesting"
    assert any("headers run into the body" in note for note in parsed.notes)


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


def test_attached_message_is_shown_as_forwarded():
    parsed = parse_email((CORPUS / "flanker" / "enclosed.eml").read_bytes())

    assert parsed.text.startswith("Hello")
    assert "Forwarded message" in parsed.text
    assert parsed.forwarded_from == "dan@example.com"


@pytest.mark.parametrize("size", ["9" * 5_000, "\u00b2", "12345678901234567890"])
def test_a_senders_own_size_header_on_an_attachment_never_spoils_the_email(size):
    # Only the bot's own cut (shrink) writes this header; a sender can write it too.
    raw = (
        "From: Ann <ann@example.com>\r\nSubject: Photo\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nMy box arrived broken.\r\n"
        '--b\r\nContent-Type: image/jpeg; name="box.jpg"\r\n'
        f'Content-Disposition: attachment; filename="box.jpg"\r\nX-Care-Original-Size: {size}\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n"
    ).encode()

    parsed = parse_email(raw)

    assert parsed.text == "My box arrived broken."
    assert [a.filename for a in parsed.attachments] == ["box.jpg"]
    assert parsed.attachments[0].size < 10**12
