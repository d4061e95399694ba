"""The email modal: exact recipient, the draft in its inputs, within Slack's limits; its parsing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks import ids
from bot.blocks.compose import (
    MAX_BODY,
    Recipient,
    build_email_modal,
    build_email_sending,
    build_email_sent,
    parse_email_modal,
)
from bot.blocks.limits import check_message
from tests.fakeslack.blockkit import check_view
from tests.slackreq import text_input

META = json.dumps({"task_ids": ["k7qx2"]})


def values(subject: str | None, body: str | None, after: str | None = ids.EMAIL_CLOSE) -> dict:
    chosen = {"selected_option": {"value": after}} if after else {"selected_option": None}
    return {
        ids.BLOCK_EMAIL_SUBJECT: {ids.ACTION_EMAIL_SUBJECT: text_input(subject)},
        ids.BLOCK_EMAIL_BODY: {ids.ACTION_EMAIL_BODY: text_input(body)},
        ids.BLOCK_EMAIL_AFTER: {ids.ACTION_EMAIL_AFTER: {"type": "radio_buttons", **chosen}},
    }


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def test_the_modal_shows_the_exact_recipient_and_holds_the_draft() -> None:
    to = Recipient("ann@example.com", "Ann <!channel> Lee", "support@shop.example")
    view = build_email_modal(to, "Hi Ann", "Hello\n\nBest", META, about="30-day check-in")

    check_message(view)
    text = view["blocks"][0]["text"]["text"]
    assert text == (
        "*To:* Ann &lt;!channel&gt; Lee &lt;ann@example.com&gt;\n*From:* support@shop.example"
    )
    fields = inputs(view)
    assert fields[ids.BLOCK_EMAIL_SUBJECT]["initial_value"] == "Hi Ann"
    assert fields[ids.BLOCK_EMAIL_BODY]["initial_value"] == "Hello\n\nBest"
    assert fields[ids.BLOCK_EMAIL_BODY]["multiline"] is True
    assert fields[ids.BLOCK_EMAIL_AFTER]["initial_option"]["value"] == ids.EMAIL_CLOSE
    assert (view["submit"]["text"], view["callback_id"]) == ("Send", ids.VIEW_EMAIL)


def test_a_failed_send_comes_back_with_the_reason_and_the_managers_choice() -> None:
    to = Recipient("ann@example.com")
    view = build_email_modal(to, "S", "B", META, close=False, error="535 <b>auth</b> failed")

    assert (
        view["blocks"][0]["text"]["text"]
        == ":warning: *Not sent.* 535 &lt;b&gt;auth&lt;/b&gt; failed"
    )
    assert inputs(view)[ids.BLOCK_EMAIL_AFTER]["initial_option"]["value"] == ids.EMAIL_KEEP


@given(
    name=st.text(max_size=500),
    subject=st.text(max_size=400),
    body=st.text(max_size=5000),
    quoted=st.text(max_size=5000),
    error=st.text(max_size=4000),
)
def test_any_text_fits_the_modal(
    name: str, subject: str, body: str, quoted: str, error: str
) -> None:
    to = Recipient("a@b.example", name, "s@b.example")
    view = build_email_modal(to, subject, body, META, quoted=quoted, error=error)
    check_message(view)
    assert check_view(view) == []
    check_message(build_email_sent(to, subject, [error, name], META))
    check_message(build_email_sending(to, META))


def test_a_valid_submission_is_one_subject_line_and_the_body() -> None:
    parsed, errors = parse_email_modal(values("Hi\r\nBcc: x@y", " Hello \n", ids.EMAIL_KEEP))
    assert errors == {}
    assert parsed is not None
    assert (parsed.subject, parsed.body, parsed.close) == ("Hi Bcc: x@y", "Hello", False)


@pytest.mark.parametrize(
    ("subject", "body", "wrong"),
    [
        (None, "x", {ids.BLOCK_EMAIL_SUBJECT}),
        ("  ", None, {ids.BLOCK_EMAIL_SUBJECT, ids.BLOCK_EMAIL_BODY}),
        ("s", "x" * (MAX_BODY + 1), {ids.BLOCK_EMAIL_BODY}),
    ],
)
def test_missing_or_oversized_fields_are_errors_under_them(subject, body, wrong) -> None:
    parsed, errors = parse_email_modal(values(subject, body))
    assert parsed is None and set(errors) == wrong
