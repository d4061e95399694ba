"""Linking an unknown sender: the search modal, the options it offers as the manager types, and
the private notes that follow a submission whose modal closed before the link was stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.blocks import ids
from bot.blocks.limits import MAX_OPTION_TEXT, MAX_OPTION_VALUE, MAX_OPTIONS
from bot.blocks.replies import build_error, build_info
from bot.blocks.text import clip, one_line, truncate
from bot.models import Subscriber

MAX_MATCHES = 20


def build_link_modal(item_id: str, sender: str, subject: str) -> dict[str, Any]:
    """The modal that links `sender` (an unknown address) to a subscriber found by search."""
    about = (
        f"Link *{clip(one_line(sender), 254)}* to a subscriber. This email "
        f"(“{clip(one_line(subject), 200) or 'no subject'}”) and all later mail from the address "
        "will show as theirs."
    )
    return {
        "type": "modal",
        "callback_id": ids.VIEW_TRIAGE_LINK,
        "private_metadata": item_id,
        "title": {"type": "plain_text", "text": "Link sender"},
        "submit": {"type": "plain_text", "text": "Link"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": about}},
            {
                "type": "input",
                "block_id": ids.BLOCK_LINK_SUBSCRIBER,
                "label": {"type": "plain_text", "text": "Subscriber"},
                "hint": {
                    "type": "plain_text",
                    "text": "Type at least 2 letters of a name or email.",
                },
                "element": {
                    "type": "external_select",
                    "action_id": ids.ACTION_LINK_SEARCH,
                    "min_query_length": 2,
                    "placeholder": {"type": "plain_text", "text": "Name or email"},
                },
            },
        ],
    }


def build_link_options(matches: Sequence[Subscriber]) -> list[dict[str, Any]]:
    """Options for the external_select: "Name · email", valued by subscriber id."""
    options = []
    for sub in matches[: min(MAX_MATCHES, MAX_OPTIONS)]:
        if not sub.id or len(sub.id) > MAX_OPTION_VALUE:
            continue
        name = one_line(sub.name)
        label = f"{name} · {sub.email}" if name and sub.email else (name or sub.email or sub.id)
        label = label if len(label) <= MAX_OPTION_TEXT else label[: MAX_OPTION_TEXT - 1] + "…"
        options.append({"text": {"type": "plain_text", "text": label}, "value": sub.id})
    return options


def selected_subscriber(values: dict[str, Any]) -> str:
    """The chosen subscriber id in a link modal submission, or ""."""
    block = values.get(ids.BLOCK_LINK_SUBSCRIBER) or {}
    chosen = (block.get(ids.ACTION_LINK_SEARCH) or {}).get("selected_option") or {}
    return str(chosen.get("value") or "")


def selected_label(values: dict[str, Any]) -> str:
    """The chosen subscriber's label ("Name · email") in a link modal submission, or ""."""
    block = values.get(ids.BLOCK_LINK_SUBSCRIBER) or {}
    chosen = (block.get(ids.ACTION_LINK_SEARCH) or {}).get("selected_option") or {}
    return str((chosen.get("text") or {}).get("text") or "")


def build_linked(sender: str, label: str) -> dict[str, Any]:
    """The sender is now the chosen subscriber's (said once the modal has closed)."""
    return build_info(
        f"Linked {one_line(sender)} to {one_line(label)}: this email and all later mail from the address show as theirs."
    )


def build_link_not_saved(label: str, reason: str) -> dict[str, Any]:
    """The link to `label` was not stored: why (mrkdwn) and how to make it again."""
    return build_error(
        f"The link to *{clip(one_line(label), 200)}* was *not saved*: {truncate(reason, 1500)} "
        "Nothing was stored: click *Link* on the email's triage message and choose again.",
        mrkdwn=True,
    )
