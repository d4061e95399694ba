"""The remembering email policy: same answers as the stdlib's, and bounded memory."""

from __future__ import annotations

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
