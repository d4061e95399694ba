"""Block Kit limits enforced by the fake on messages: block count, text lengths, ids."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakeslack import FakeSlack
from tests.fakeslack.blockkit import check_blocks


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return {**block, "block_id": block_id} if block_id else block


def button(action_id: str, text: str = "Claim", **extra) -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        **extra,
    }


def actions(*elements: dict) -> dict:
    return {"type": "actions", "elements": list(elements)}


def slack_error(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


def test_fifty_blocks_pass_and_fifty_one_are_invalid_blocks(fake_slack, client):
    client.chat_postMessage(channel="C1", text="ok", blocks=[section(f"b{i}") for i in range(50)])
    data = slack_error(
        lambda: client.chat_postMessage(channel="C1", text="x", blocks=[section("b")] * 51)
    )
    assert data["error"] == "invalid_blocks"
    assert "51 blocks, the limit in a message is 50" in fake_slack.take_violations()[0]
    assert len(fake_slack.messages("C1")) == 1


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([section("x" * 3001)], "3001 characters, the limit is 3000"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "the limit is 150",
        ),
        ([section("a", "same"), section("b", "same")], "'same' used twice"),
        ([section("a", "b" * 256)], "block_id: 256 characters"),
        ([actions(button("claim"), button("claim"))], "'claim' repeated in one block"),
        ([actions(button("a", "t" * 76))], "76 characters, the limit is 75"),
        ([actions(button("a", value="v" * 2001))], "value: 2001 characters"),
        ([actions(button("a", style="loud"))], "'loud', must be primary or danger"),
        ([actions(*[button(f"a{i}") for i in range(26)])], "26 elements, the limit is 25"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "non-empty string"),
        ([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}], "unknown block type"),
    ],
)
def test_block_kit_limits_are_refused_with_what_was_wrong(fake_slack, client, blocks, problem):
    data = slack_error(lambda: client.chat_postMessage(channel="C1", text="x", blocks=blocks))
    assert data["error"] == "invalid_blocks"
    assert problem in data["response_metadata"]["messages"][0]
    assert problem in fake_slack.take_violations()[0]


def test_a_typical_task_message_passes():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Check-ins"}},
        section("*Ann Lee* · ann@example.com · Pro · 14 months", "task:T12"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Risk 62: payment failed"}]},
        {
            "type": "actions",
            "block_id": "actions:T12",
            "elements": [
                {
                    "type": "button",
                    "action_id": "claim",
                    "value": "T12",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Claim"},
                },
                {
                    "type": "static_select",
                    "action_id": "snooze",
                    "placeholder": {"type": "plain_text", "text": "Snooze"},
                    "options": [{"text": {"type": "plain_text", "text": "3 days"}, "value": "3"}],
                },
            ],
        },
        {"type": "divider"},
    ]
    assert check_blocks(blocks) == []
