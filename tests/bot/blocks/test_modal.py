"""The Log outreach modal and the field errors of its submission."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.limits import check_message
from bot.blocks.modal import (
    OutreachInput,
    build_log_not_saved,
    build_log_outreach_modal,
    parse_log_outreach,
)
from tests.bot.blocks.factories import TODAY, subscriber


def state(
    channel: str | None = "call",
    outcome: str | None = "reached",
    note: str | None = None,
    follow_up: str | None = None,
) -> dict[str, Any]:
    def select(value: str | None) -> dict[str, Any]:
        option = {"value": value, "text": {"type": "plain_text", "text": "x"}} if value else None
        return {"type": "static_select", "selected_option": option}

    return {
        ids.BLOCK_LOG_CHANNEL: {ids.ACTION_LOG_CHANNEL: select(channel)},
        ids.BLOCK_LOG_OUTCOME: {ids.ACTION_LOG_OUTCOME: select(outcome)},
        ids.BLOCK_LOG_NOTE: {ids.ACTION_LOG_NOTE: {"type": "plain_text_input", "value": note}},
        ids.BLOCK_LOG_FOLLOW_UP: {
            ids.ACTION_LOG_FOLLOW_UP: {"type": "datepicker", "selected_date": follow_up}
        },
    }


def test_modal_has_the_four_inputs_and_fits_slack() -> None:
    view = build_log_outreach_modal(["k7qx2", "a3b4c"], subscriber())
    check_message(view)
    assert view["callback_id"] == ids.VIEW_LOG_OUTREACH
    assert view["title"]["text"] == "Log outreach"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == [
        ids.BLOCK_LOG_CHANNEL,
        ids.BLOCK_LOG_OUTCOME,
        ids.BLOCK_LOG_NOTE,
        ids.BLOCK_LOG_FOLLOW_UP,
    ]
    channels = [o["value"] for o in inputs[ids.BLOCK_LOG_CHANNEL]["element"]["options"]]
    assert channels == ["email", "call", "sms", "slack", "other"]
    outcomes = [o["value"] for o in inputs[ids.BLOCK_LOG_OUTCOME]["element"]["options"]]
    assert outcomes == ["reached", "left_message", "no_answer", "saved", "lost", "follow_up"]
    assert inputs[ids.BLOCK_LOG_NOTE]["optional"] and inputs[ids.BLOCK_LOG_FOLLOW_UP]["optional"]
    assert json.loads(view["private_metadata"]) == {"task_ids": ["k7qx2", "a3b4c"]}


def test_modal_keeps_the_callers_private_metadata() -> None:
    view = build_log_outreach_modal(["k7qx2"], subscriber(), '{"ts":"1.2"}')
    assert view["private_metadata"] == '{"ts":"1.2"}'


def test_oversized_private_metadata_is_refused() -> None:
    with pytest.raises(ValueError, match="Keep only ids"):
        build_log_outreach_modal(["k7qx2"], subscriber(), "x" * 3001)


def test_a_complete_submission_parses() -> None:
    values, errors = parse_log_outreach(
        state("email", "follow_up", "  Call back after payday  ", str(TODAY + timedelta(days=7))),
        TODAY,
    )
    assert errors == {}
    assert values == OutreachInput(
        channel="email",
        outcome="follow_up",
        note="Call back after payday",
        follow_up=TODAY + timedelta(days=7),
    )


@pytest.mark.parametrize(
    ("submitted", "block_id", "message"),
    [
        (state(channel=None), ids.BLOCK_LOG_CHANNEL, "Choose how you reached out"),
        (state(channel="pigeon"), ids.BLOCK_LOG_CHANNEL, "Unknown channel"),
        (state(outcome=None), ids.BLOCK_LOG_OUTCOME, "Choose what came of it"),
        (state(outcome="great"), ids.BLOCK_LOG_OUTCOME, "Unknown outcome"),
        (state(outcome="follow_up"), ids.BLOCK_LOG_FOLLOW_UP, "Pick the day to follow up"),
        (state(follow_up=str(TODAY - timedelta(days=1))), ids.BLOCK_LOG_FOLLOW_UP, "in the past"),
        (state(follow_up="next week"), ids.BLOCK_LOG_FOLLOW_UP, "not a date"),
        (state(note="n" * 3001), ids.BLOCK_LOG_NOTE, "3,001 characters"),
    ],
)
def test_each_bad_field_gets_its_own_error(
    submitted: dict[str, Any], block_id: str, message: str
) -> None:
    values, errors = parse_log_outreach(submitted, TODAY)
    assert values is None
    assert list(errors) == [block_id]
    assert message in errors[block_id]


def test_an_empty_submission_reports_every_missing_field() -> None:
    values, errors = parse_log_outreach({}, TODAY)
    assert values is None
    assert set(errors) == {ids.BLOCK_LOG_CHANNEL, ids.BLOCK_LOG_OUTCOME}


def test_a_follow_up_today_is_allowed() -> None:
    values, errors = parse_log_outreach(state(follow_up=str(TODAY)), TODAY)
    assert errors == {} and values is not None and values.follow_up == TODAY


def test_a_log_not_saved_gives_back_every_character_of_a_long_hostile_note() -> None:
    note = ("<@U1> & <!channel> *bold*\n" * 200)[:3000]
    entered = OutreachInput("call", "follow_up", note, TODAY + timedelta(days=3))

    message = build_log_not_saved(entered, ["k7qx2"], "the disk <failed>")

    check_message(message)
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert "*not saved*" in texts[0] and "`k7qx2`" in texts[0]
    assert "*Follow-up:*" in texts[1] and "Follow-up needed" in texts[1]
    shown = "\n".join(texts[2:]).removeprefix("*Your note:*\n")
    unescaped = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == note and "<@U1>" not in shown and "<!channel>" not in shown
