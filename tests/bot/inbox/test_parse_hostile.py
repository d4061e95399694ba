"""Hostile and oversized email: raw UTF-8 headers, crafted forwards, huge parts, any bytes.

No timing is asserted here (speed is measured in `make bench`); the crafted cases below took
minutes before their scans were bounded, so the suite's timeout catches a regression.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.policy import SMTP

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.inbox.filters import classify
from bot.inbox.htmltext import html_to_text
from bot.inbox.parse import ParsedEmail, parse_email
from bot.inbox.shrink import PART_LIMIT, shrink
from bot.inbox.text import split_new_text
from tests.bot.inbox.mail import make_email

UTF8_EMAIL = (
    "From: José Núñez <josé@exämple.com>\r\n"
    "To: support@shop.example\r\n"
    "Subject: Annulation, s'il vous plaît\r\n"
    "Message-ID: <ça-1@exämple.com>\r\n"
    "Date: Mon, 15 Jun 2026 13:00:00 +0000\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Bonjour, merci.\r\n"
).encode()


def _storable(parsed: ParsedEmail) -> None:
    """Every string the parser hands over encodes as UTF-8 JSON (what the store writes)."""
    json.dumps(
        [parsed.message_id, parsed.subject, parsed.from_name, parsed.from_address, parsed.text]
        + [parsed.full_text, parsed.signature, parsed.forwarded_from, *parsed.to]
        + [*parsed.references, *parsed.notes, *(a.filename for a in parsed.attachments)]
        + [v for values in parsed.headers.values() for v in values],
        ensure_ascii=False,
    ).encode("utf-8")


def test_raw_utf8_address_and_message_id_are_decoded_per_rfc_6532():
    parsed = parse_email(UTF8_EMAIL)

    assert parsed.from_address == "josé@exämple.com"
    assert parsed.from_name == "José Núñez"
    assert parsed.message_id == "<ça-1@exämple.com>"
    assert parsed.subject == "Annulation, s'il vous plaît"
    _storable(parsed)


def test_invalid_8bit_header_bytes_are_read_as_windows_1252_not_kept_as_surrogates():
    raw = b"From: Ren\xe9 <ren\xe9@example.com>\r\nMessage-ID: <\xff\xfe@x>\r\n\r\nhi"

    parsed = parse_email(raw)

    assert parsed.from_address == "rené@example.com" and parsed.from_name == "René"
    _storable(parsed)


def test_crafted_forward_with_a_120k_letter_from_line_is_read():
    body = (
        "see below\n\n---------- Forwarded message ----------\nFrom: "
        + "a" * 120_000
        + "\nDate: today\n\nPlease cancel, bo@example.com"
    )
    parsed = parse_email(make_email(subject="Fwd: x", body=body))

    assert parsed.text.startswith("see below")
    assert "Forwarded message" in parsed.text
    assert parsed.forwarded_from == ""  # the From line holds no address in what is read


def test_attached_forward_with_a_120k_letter_from_header_is_read():
    inner = EmailMessage(policy=SMTP)
    inner["From"] = "a" * 120_000
    inner["Subject"] = "Cancel"
    inner.set_content("Please cancel, thanks.")
    outer = EmailMessage(policy=SMTP)
    outer["From"], outer["Subject"], outer["Message-ID"] = (
        "kim@shop.example",
        "Fwd: Cancel",
        "<o@x>",
    )
    outer.set_content("Can someone take this?")
    outer.add_attachment(inner)

    parsed = parse_email(outer.as_bytes())

    assert parsed.text.startswith("Can someone take this?")
    assert "Please cancel, thanks." in parsed.text


def test_long_runs_that_defeat_naive_patterns_are_read():
    for body in ("On " + "a" * 50_000, "\n" * 50_000 + "x", "> " * 50_000, "a\n\n" * 20_000):
        parsed = parse_email(make_email(subject="Re: " + " re:" * 5_000, body=body))
        assert parsed.message_id
        classify(parsed)


def test_a_2_mb_attachment_is_listed_with_about_its_size_and_the_text_kept():
    msg = EmailMessage(policy=SMTP)
    msg["From"], msg["Subject"], msg["Message-ID"] = "ann@example.com", "Photos", "<p@x>"
    msg.set_content("Here are the photos.")
    msg.add_attachment(b"\x89PNG" * 500_000, maintype="image", subtype="png", filename="a.png")

    parsed = parse_email(msg.as_bytes())

    assert parsed.text == "Here are the photos."
    [attachment] = parsed.attachments
    assert attachment.filename == "a.png"
    assert 1_900_000 < attachment.size < 2_100_000
    assert any("very large" in note for note in parsed.notes)


def test_a_2_mb_text_part_is_cut_with_a_note():
    parsed = parse_email(make_email(body="A line of text.\n" * 130_000))

    assert parsed.text.startswith("A line of text.")
    assert len(parsed.full_text) <= PART_LIMIT
    assert parsed.size > 2_000_000
    assert any("only" in note for note in parsed.notes)


def test_shrink_leaves_ordinary_mail_alone_and_keeps_multipart_structure():
    small = make_email()
    assert shrink(small) == (small, ())
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "ann@example.com"
    msg.set_content("first")
    for i in range(3):
        msg.add_attachment(
            b"x" * 300_000, maintype="application", subtype="pdf", filename=f"{i}.pdf"
        )

    cut, notes = shrink(msg.as_bytes())
    parsed = parse_email(msg.as_bytes())

    assert len(cut) < 400_000 and notes
    assert [a.filename for a in parsed.attachments] == ["0.pdf", "1.pdf", "2.pdf"]
    assert parsed.text == "first"


def test_html_blockquote_becomes_quoted_lines_that_the_reply_splitter_drops():
    html = (
        "<div>Yes please.</div><div>On Mon, Bob wrote:</div>"
        "<blockquote><p>Shall we skip?</p><blockquote>older</blockquote></blockquote>"
        "<style>p{color:red}</style><script>alert(1)</script>"
    )

    text = html_to_text(html)

    assert "> Shall we skip?" in text and "> > older" in text
    assert "color" not in text and "alert" not in text
    assert split_new_text(text).text == "Yes please."


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_give_a_parsed_message_never_an_exception(raw):
    parsed = parse_email(raw)

    assert parsed.message_id.startswith("<")
    assert parsed.size == len(raw)
    _storable(parsed)
    classify(parsed)


_HEADER_LINE = st.tuples(
    st.sampled_from(["From", "To", "Subject", "Message-ID", "References", "Content-Type", "Date"]),
    st.text(max_size=300),
).map(lambda kv: f"{kv[0]}: {kv[1]}")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_HEADER_LINE, max_size=8),
    st.text(max_size=2000),
    st.sampled_from(["utf-8", "latin-1"]),
)
def test_any_headers_and_body_text_give_a_storable_parse(headers, body, encoding):
    raw = ("\r\n".join(headers) + "\r\n\r\n" + body).encode(
        encoding, errors="surrogateescape" if encoding == "utf-8" else "replace"
    )

    parsed = parse_email(raw)

    _storable(parsed)
    classify(parsed)
