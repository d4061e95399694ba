"""check_message says exactly which Block Kit limit a payload breaks."""

from __future__ import annotations

from typing import Any

import pytest

from bot.blocks.limits import check_message


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str = "Go", value: str = "v", action_id: str = "a") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "value": value,
        "action_id": action_id,
    }


def test_a_valid_message_passes() -> None:
    check_message({"text": "hi", "blocks": [section("hi"), {"type": "divider"}]})


@pytest.mark.parametrize(
    ("payload", "surface", "complaint"),
    [
        ([section("x")] * 51, "message", "51 blocks > 50"),
        ({"type": "home", "blocks": [section("x")] * 101}, "message", "101 blocks > 100"),
        ([section("x" * 3001)], "message", "3001 chars > 3000"),
        ([section("")], "message", "empty text"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "message",
            "> 150",
        ),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "message", "plain_text"),
        ([{"type": "actions", "elements": [button("b" * 76)]}], "message", "76 chars > 75"),
        ([{"type": "actions", "elements": [button(value="v" * 2001)]}], "message", "2001 chars"),
        (
            [{"type": "actions", "elements": [button(), button()]}],
            "message",
            "repeated in one block",
        ),
        ([section("a", block_id="b"), section("c", block_id="b")], "message", "'b' repeated"),
        ([section("a", block_id="b" * 256)], "message", "1 to 255"),
        ([{"type": "input", "label": {"type": "plain_text", "text": "x"}}], "message", "modals"),
        ([{"type": "wobble"}], "message", "unknown block type"),
        ({"text": "x" * 40_001, "blocks": []}, "message", "40000"),
        (
            {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []},
            "modal",
            "title: 25 chars > 24",
        ),
        (
            {
                "type": "modal",
                "title": {"type": "plain_text", "text": "t"},
                "private_metadata": "m" * 3001,
                "blocks": [],
            },
            "modal",
            "private_metadata",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "static_select",
                            "action_id": "s",
                            "options": [
                                {"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}
                            ],
                        }
                    ],
                }
            ],
            "message",
            "1 to 150",
        ),
    ],
)
def test_each_broken_limit_is_named(payload: Any, surface: str, complaint: str) -> None:
    with pytest.raises(ValueError) as info:
        check_message(payload, surface)
    assert complaint in str(info.value)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ValueError) as info:
        check_message([section("x" * 3001), section("")])
    assert "blocks[0]" in str(info.value) and "blocks[1]" in str(info.value)


def test_an_unknown_surface_is_refused() -> None:
    with pytest.raises(ValueError, match="surface must be one of"):
        check_message([], "tab")
