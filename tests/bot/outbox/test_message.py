"""Composing mail from untrusted text: no header injection, addresses checked, threading."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.outbox.message import Draft, InvalidDraft, clean_address, compose, reply_subject

SENDER = Address("Acme Support", "care", "example.com")
WHEN = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
HEADERS = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references",
           "content-type", "content-transfer-encoding", "mime-version"}  # fmt: skip
HOSTILE = st.one_of(
    st.text(max_size=120),
    st.lists(
        st.sampled_from(
            [
                "\r\n",
                "\n",
                "\r",
                "Bcc: evil@x.example",
                ":",
                " ",
                "=?utf-8?q?x?=",
                "=?utf-8?q?=0D=0ABcc=3A_e=40x.example?=",
                "=?utf-8?b?DQpCY2M6IGVAeC5leGFtcGxl?=",
                "\x00",
                "\u2028",
                "<",
                ">",
                '"',
                "{{",
                "é",
                "a" * 80,
                ",",
            ]
        ),  # fmt: skip
        max_size=12,
    ).map("".join),
)


@settings(max_examples=150, deadline=None)
@given(subject=HOSTILE, name=HOSTILE, text=HOSTILE, reply_to=HOSTILE)
def test_no_text_can_add_a_header_or_a_recipient(subject, name, text, reply_to):
    draft = Draft("ann@customer.example", subject, text or "x", to_name=name, in_reply_to=reply_to)
    try:
        msg = compose(draft, SENDER, "<id-1@example.com>", WHEN)
    except InvalidDraft:
        assert not text.strip() or not (text or "x").strip()
        return
    raw = msg.as_bytes(policy=policy.SMTP)
    head = raw.split(b"\r\n\r\n", 1)[0]
    parsed = message_from_bytes(raw, policy=policy.default)
    assert {k.lower() for k in parsed} <= HEADERS
    assert len(parsed.get_all("To")) == 1 and len(parsed.get_all("Subject")) == 1
    assert [a.addr_spec for a in parsed["To"].addresses] == ["ann@customer.example"]
    assert b"\nBcc" not in head and b"\rBcc" not in head
    assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])


@pytest.mark.parametrize(
    "word",
    ["=?utf-8?q?Ann=0D=0ABcc=3A_evil=40x.example?=", "=?utf-8?b?DQpCY2M6IGV2aWxAeC5leGFtcGxl?="],
)
def test_an_encoded_word_in_a_name_or_subject_cannot_add_a_bcc(word):
    draft = Draft("ann@customer.example", word, "x", to_name=word)
    raw = compose(draft, SENDER, "<id-1@example.com>", WHEN).as_bytes(policy=policy.SMTP)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None and b"\r\nBcc" not in raw.split(b"\r\n\r\n", 1)[0]
    assert [a.addr_spec for a in parsed["To"].addresses] == ["ann@customer.example"]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ann",
        "ann@",
        "@x.example",
        "a b@x.example",
        "ann@x.example\r\nBcc: e@x.example",
        "ann@x",
        "a,b@x.example",
        "<ann@x.example>",
        "ann@-x.example",
        "ann..lee@x.example",
    ],  # fmt: skip
)
def test_anything_but_one_plain_address_is_refused(bad):
    with pytest.raises(InvalidDraft):
        clean_address(bad)


def test_addresses_are_normalised_and_idn_domains_encoded():
    assert clean_address(" Ann.Lee+box@Customer.EXAMPLE ") == "Ann.Lee+box@customer.example"
    assert clean_address("ann@bücher.example") == "ann@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Where is my box?", "Re: Where is my box?"),
        ("RE: hi", "RE: hi"),
        ("AW: Hallo", "AW: Hallo"),
        ("", "Re: your message"),
        ("Hi\r\nBcc: x@y.example", "Re: Hi Bcc: x@y.example"),
    ],  # fmt: skip
)
def test_reply_subjects_do_not_stack(subject, expected):
    assert reply_subject(subject) == expected


def test_an_html_part_is_an_alternative_of_the_text():
    draft = Draft("ann@customer.example", "Hi", "plain words", html="<p>plain <b>words</b></p>")
    msg = compose(draft, SENDER, "<id-2@example.com>", WHEN)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_empty_text_is_refused():
    with pytest.raises(InvalidDraft, match="empty"):
        compose(Draft("ann@customer.example", "Hi", " \n "), SENDER, "<id@example.com>", WHEN)
