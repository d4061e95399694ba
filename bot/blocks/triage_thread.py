"""What the bot posts in a triage message's thread: the full email, a new reply, a reminder.

`build_full_email_messages` posts an email's whole text ("Show full email"), escaped and split
into as many messages as Slack needs, up to `MAX_FULL_MESSAGES`; `build_triage_reply` does the
same for a new email in a known conversation; `build_triage_reminder` is the one reminder of
an item nobody claimed. The view and the shared text pieces live in `bot.blocks.triage`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import ids
from bot.blocks.limits import MAX_BLOCKS_MESSAGE, MAX_SECTION_TEXT
from bot.blocks.text import duration_minutes, slack_date, split_escaped
from bot.blocks.triage import TriageView, button, context, section, sender_text, subject_text

FULL_SECTIONS_PER_MESSAGE = 40
MAX_FULL_MESSAGES = 20  # ~2.3 MB of text; beyond that the thread would drown


def build_triage_reminder(view: TriageView, waited_minutes: float) -> dict[str, Any]:
    """The one reminder posted in an unclaimed item's thread."""
    text = (
        f":alarm_clock: Still unclaimed after {duration_minutes(waited_minutes)} of business "
        f"hours: *{subject_text(view, 200)}* from {sender_text(view)}. Who takes it?"
    )
    actions = {
        "type": "actions",
        "block_id": ids.BLOCK_TRIAGE_ACTIONS,
        "elements": [
            button("Claim", ids.ACTION_TRIAGE_CLAIM, ids.encode_ids([view.item_id]), "primary")
        ],
    }
    return {
        "text": f"Still unclaimed: {subject_text(view, 150)}",
        "blocks": [section(text), actions],
    }


def build_full_email_messages(
    view: TriageView, text: str | None = None, heading: str | None = None
) -> list[dict[str, Any]]:
    """The full text as thread replies, split to fit (for Show full email, and for replies).

    Args:
        view: the conversation (sender and subject for the heading).
        text: the text to post; `view.text` by default (a reply's own text for replies).
        heading: mrkdwn heading, escaped by the caller; default "Full text of ...".

    Returns:
        One or more {"text", "blocks"} messages, each within 50 blocks of <= 3000 chars; at
        most 20 messages, the last saying how much was left out.
    """
    raw = view.text if text is None else text
    pieces = split_escaped((raw or "").strip(), MAX_SECTION_TEXT - 100) or ["_(no text)_"]
    first = heading or f"Full text of *{subject_text(view, 200)}* from {sender_text(view)}"
    messages: list[dict[str, Any]] = []
    per = min(FULL_SECTIONS_PER_MESSAGE, MAX_BLOCKS_MESSAGE - 2)
    for start in range(0, len(pieces), per):
        if len(messages) == MAX_FULL_MESSAGES:
            left = sum(len(p) for p in pieces[start:])
            messages[-1]["blocks"].append(
                context(
                    f":scissors: About {left:,} more characters not posted: too long for Slack."
                )
            )
            break
        blocks = [section(p) for p in pieces[start : start + per]]
        if not messages:
            blocks.insert(0, context(first))
        part = f" (part {len(messages) + 1})" if len(pieces) > per else ""
        messages.append({"text": f"Email text{part}: {subject_text(view, 150)}", "blocks": blocks})
    return messages


def build_triage_reply(
    view: TriageView, text: str, now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """A new email in a known conversation, for its thread: who wrote, then all of its text."""
    heading = f":leftwards_arrow_with_hook: New reply from {sender_text(view)}  ·  {slack_date(now, tz=tz)}"
    if view.reopened:
        heading += "\nThe conversation was resolved: it is open again."
    return build_full_email_messages(view, text, heading)
