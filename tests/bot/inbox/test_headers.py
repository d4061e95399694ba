"""Headers: the remembering policy (same answers as the stdlib's, bounded memory), and the
values read from them through `parse_email`: Message-IDs, sender, recipients, date."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from bot.inbox import headers
from bot.inbox.headers import CACHED_HEADERS, CACHED_VALUE, POLICY
from bot.inbox.parse import parse_email
from tests.bot.inbox.mail import make_email


def _both(raw: bytes) -> tuple:
    ours, stdlib = (
        message_from_bytes(raw, policy=POLICY),
        message_from_bytes(raw, policy=policy.default),
    )
    return ours, stdlib


def test_headers_read_the_same_as_the_stdlib_policy_and_again_from_memory():
    raw = (
        b"From: =?utf-8?q?Jos=C3=A9?= <jose@example.com>\r\n"
        b'Content-Type: text/plain; charset="iso-8859-1"; format=flowed\r\n'
        b"Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt\r\n"
        b"Subject: Hello\r\n\r\nbody\r\n"
    )
    for _ in range(2):  # the second round is answered from what the first parsed
        ours, stdlib = _both(raw)
        for name in ("from", "content-type", "content-disposition", "subject"):
            assert str(ours[name]) == str(stdlib[name])
        assert ours.get_content_charset() == stdlib.get_content_charset() == "iso-8859-1"
        assert ours.get_filename() == stdlib.get_filename() == "résumé.txt"
        assert ours["from"].addresses[0].username == "jose"


def test_what_is_remembered_stays_bounded():
    headers._parsed.clear()
    for i in range(CACHED_HEADERS + 500):
        msg = message_from_bytes(
            f"Content-Type: text/plain; charset=utf-8; x-n={i}\r\n\r\nhi\r\n".encode(),
            policy=POLICY,
        )
        assert msg.get_param("x-n") == str(i)
        assert len(headers._parsed) <= CACHED_HEADERS
    long_value = "x" * (CACHED_VALUE + 1)
    msg = message_from_bytes(f"Subject: {long_value}\r\n\r\nhi\r\n".encode(), policy=POLICY)
    assert str(msg["subject"]) == long_value
    assert all(len(value) <= CACHED_VALUE for _, value in headers._parsed)


def test_parsing_an_email_twice_gives_the_same_result():
    raw = make_email(
        subject="Où est ma commande ?", body="Bonjour,\n\nMa commande n'est pas arrivée."
    )
    assert parse_email(raw) == parse_email(raw)


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
