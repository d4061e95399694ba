"""The "Log outreach" modal and the parsing of its submission.

`build_log_outreach_modal` is opened with `views.open` from the Log outreach button;
`parse_log_outreach` turns the submitted `view.state.values` into `OutreachInput` or into
field errors that the handler returns as `ack(response_action="errors", errors=errors)`, which
Slack shows under each input, keyed by block_id. `build_log_not_saved` tells the manager a
submission whose modal had already closed was not stored, with what they entered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.blocks import ids
from bot.blocks.labels import CHANNEL_LABELS, OUTCOME_LABELS, channel_label, outcome_label
from bot.blocks.limits import MAX_PRIVATE_METADATA, MAX_SECTION_TEXT
from bot.blocks.text import clip, escape, one_line, split_escaped, truncate
from bot.models import OUTREACH_CHANNELS, OUTREACH_OUTCOMES, Subscriber

MAX_NOTE = MAX_SECTION_TEXT  # the note is posted back into a section in the thread


@dataclass(frozen=True)
class OutreachInput:
    """A valid submission of the Log outreach modal."""

    channel: str  # one of OUTREACH_CHANNELS
    outcome: str  # one of OUTREACH_OUTCOMES
    note: str = ""
    follow_up: date | None = None


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def _select_input(
    block_id: str, action_id: str, label: str, options: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "static_select",
            "action_id": action_id,
            "placeholder": {"type": "plain_text", "text": f"Choose {label.lower()}"},
            "options": [_option(v, options[v]) for v in options],
        },
    }


def build_log_outreach_modal(
    task_ids: Sequence[str],
    subscriber: Subscriber,
    private_metadata: str | None = None,
) -> dict[str, Any]:
    """The Log outreach modal for one customer's tasks.

    Args:
        task_ids: the tasks the log closes (an entry's tasks).
        subscriber: whom it is about (shown at the top, escaped).
        private_metadata: what the submission handler needs back (e.g. JSON with the task ids
            and the message's channel/ts); by default `{"task_ids": [...]}` as JSON.

    Raises:
        ValueError: when private_metadata is over Slack's 3000 characters.
    """
    if private_metadata is None:
        private_metadata = json.dumps({"task_ids": list(task_ids)}, separators=(",", ":"))
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError(
            f"private_metadata is {len(private_metadata)} chars; Slack allows "
            f"{MAX_PRIVATE_METADATA}. Keep only ids in it."
        )
    name = clip(one_line(subscriber.display_name), 200)
    about = f"*{name}*"
    if subscriber.email and subscriber.email != subscriber.display_name:
        about += f"  ·  {clip(subscriber.email, 254)}"
    shown_ids = ", ".join(f"`{escape(t)}`" for t in list(task_ids)[:20])
    more = f" and {len(task_ids) - 20} more" if len(task_ids) > 20 else ""
    channel_options = {c: CHANNEL_LABELS[c] for c in OUTREACH_CHANNELS}
    outcome_options = {o: OUTCOME_LABELS[o] for o in OUTREACH_OUTCOMES}
    return {
        "type": "modal",
        "callback_id": ids.VIEW_LOG_OUTREACH,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Log outreach"},
        "submit": {"type": "plain_text", "text": "Log"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": about}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"Closes task {shown_ids}{more}. "
                        "Choose *Follow-up needed* and a date to get it back on that day.",
                    }
                ],
            },
            _select_input(
                ids.BLOCK_LOG_CHANNEL, ids.ACTION_LOG_CHANNEL, "Channel", channel_options
            ),
            _select_input(
                ids.BLOCK_LOG_OUTCOME, ids.ACTION_LOG_OUTCOME, "Outcome", outcome_options
            ),
            {
                "type": "input",
                "block_id": ids.BLOCK_LOG_NOTE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.ACTION_LOG_NOTE,
                    "multiline": True,
                    "max_length": MAX_NOTE,
                    "placeholder": {"type": "plain_text", "text": "What did you learn?"},
                },
            },
            {
                "type": "input",
                "block_id": ids.BLOCK_LOG_FOLLOW_UP,
                "optional": True,
                "label": {"type": "plain_text", "text": "Follow-up date"},
                "hint": {"type": "plain_text", "text": "Needed when the outcome is Follow-up."},
                "element": {"type": "datepicker", "action_id": ids.ACTION_LOG_FOLLOW_UP},
            },
        ],
    }


def _value(values: Mapping[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    block = values.get(block_id) or {}
    element = block.get(action_id) if isinstance(block, Mapping) else None
    return element if isinstance(element, dict) else {}


def parse_log_outreach(
    state_values: Mapping[str, Any], today: date
) -> tuple[OutreachInput | None, dict[str, str]]:
    """Validate a Log outreach submission.

    Args:
        state_values: the submitted `view["state"]["values"]`.
        today: the team's local date (a follow-up may not be in the past).

    Returns:
        `(OutreachInput, {})` when valid, else `(None, errors)` with one message per block_id,
        ready for `ack(response_action="errors", errors=errors)`.
    """
    errors: dict[str, str] = {}
    channel_el = _value(state_values, ids.BLOCK_LOG_CHANNEL, ids.ACTION_LOG_CHANNEL)
    outcome_el = _value(state_values, ids.BLOCK_LOG_OUTCOME, ids.ACTION_LOG_OUTCOME)
    channel = ((channel_el.get("selected_option") or {}).get("value") or "").strip()
    outcome = ((outcome_el.get("selected_option") or {}).get("value") or "").strip()
    note = _value(state_values, ids.BLOCK_LOG_NOTE, ids.ACTION_LOG_NOTE).get("value") or ""
    raw_date = _value(state_values, ids.BLOCK_LOG_FOLLOW_UP, ids.ACTION_LOG_FOLLOW_UP).get(
        "selected_date"
    )

    if not channel:
        errors[ids.BLOCK_LOG_CHANNEL] = "Choose how you reached out."
    elif channel not in OUTREACH_CHANNELS:
        errors[ids.BLOCK_LOG_CHANNEL] = "Unknown channel: choose one from the list."
    if not outcome:
        errors[ids.BLOCK_LOG_OUTCOME] = "Choose what came of it."
    elif outcome not in OUTREACH_OUTCOMES:
        errors[ids.BLOCK_LOG_OUTCOME] = "Unknown outcome: choose one from the list."
    if len(note) > MAX_NOTE:
        errors[ids.BLOCK_LOG_NOTE] = (
            f"The note is {len(note):,} characters; keep it under {MAX_NOTE:,}."
        )
    follow_up: date | None = None
    if raw_date:
        try:
            follow_up = date.fromisoformat(str(raw_date))
        except ValueError:
            errors[ids.BLOCK_LOG_FOLLOW_UP] = "That is not a date: pick one from the calendar."
        else:
            if follow_up < today:
                errors[ids.BLOCK_LOG_FOLLOW_UP] = (
                    "That date is in the past: pick today or a later day."
                )
    if outcome == "follow_up" and not raw_date:
        errors[ids.BLOCK_LOG_FOLLOW_UP] = "Pick the day to follow up on."
    if errors:
        return None, errors
    return OutreachInput(
        channel=channel, outcome=outcome, note=note.strip(), follow_up=follow_up
    ), {}


def build_log_not_saved(
    entered: OutreachInput, task_ids: Sequence[str], reason: str
) -> dict[str, Any]:
    """A private message: the log of `task_ids` was not stored, why, and what was entered.

    Sent when the modal had closed before the store answered, so the form is gone: every
    character of the note comes back (escaped, over as many sections as it needs).

    Args:
        entered: the submission as parsed.
        task_ids: the tasks it was to close.
        reason: why, as Slack mrkdwn (a `bot.care.CareError`'s message, or our own words).
    """
    shown = ", ".join(f"`{escape(t)}`" for t in list(task_ids)[:10]) or "the entry"
    head = f":warning: Your outreach log for {shown} was *not saved*: {truncate(reason, 1500)}"
    fields = (
        f"*Channel:* {channel_label(entered.channel)}  ·  "
        f"*Outcome:* {outcome_label(entered.outcome)}"
    )
    if entered.follow_up is not None:
        fields += f"  ·  *Follow-up:* {entered.follow_up:%a %b} {entered.follow_up.day}"
    note = split_escaped(entered.note, MAX_SECTION_TEXT - 20)
    if note:
        note[0] = "*Your note:*\n" + note[0]
    again = (
        "Nothing was stored. Open the entry's *Log outreach* again and enter it once more "
        "(copy the note from here), or ask a lead if the entry is no longer yours."
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        for text in (head, fields, *note)
    ]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": again}]})
    text = f"{head}\n{fields}" + (f"\nYour note: {escape(entered.note)}" if entered.note else "")
    return {"text": text, "blocks": blocks}
