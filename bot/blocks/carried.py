"""The compact "still open from earlier days" message at the top of a digest thread.

Customers listed by an earlier digest and still open are not posted in full again: each is
one line (who, what, how late, the task ids and who holds it) with one button, oldest first:
Claim when unclaimed, Log outreach when claimed. The full card is `/care lookup`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.blocks import ids
from bot.blocks.entry import (
    CLAIMED,
    DONE,
    MOVED,
    UNCLAIMED,
    EntryLike,
    entry_fallback,
    entry_key,
    entry_state,
    task_button,
)
from bot.blocks.labels import kind_label, kind_rank, outcome_label
from bot.blocks.limits import MAX_SECTION_TEXT
from bot.blocks.text import clip, day_label, escape, one_line, truncate, user_ref
from bot.models import TASK_OPEN

CARRIED_TITLE = "Still open from earlier days"


def build_carried_message(
    entries: Sequence[EntryLike], today: date, first: bool = True, total: int = 0
) -> dict[str, Any]:
    """One compact message of carried-over customers, one section (with a button) each.

    Args:
        entries: the customers, oldest due first (at most ~45 fit Slack's 50 blocks).
        today: the team's date, for "due Mon Jun 1 (14 days ago)".
        first: it opens the list (title and hint).
        total: carried-over tasks in all (shown in the title line of the first message).

    Returns:
        {"text": fallback, "blocks": [...]}
    """
    blocks: list[dict[str, Any]] = []
    if first:
        count = f" ({total})" if total else ""
        blocks.append(
            {"type": "header", "text": {"type": "plain_text", "text": CARRIED_TITLE + count}}
        )
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": ":hourglass: Listed before and not done yet, oldest first. "
                        "Claim here or with `/care claim ID`; `/care lookup EMAIL` shows the "
                        "whole card.",
                    }
                ],
            }
        )
    for entry in entries:
        blocks.append(_line(entry, today))
    if not entries:
        blocks.append(_section("_Nothing left to show here: these tasks are gone._"))
    text = "; ".join(entry_fallback(e) for e in entries) or "No tasks left in this message"
    text = f"{CARRIED_TITLE}: {text}"
    return {"text": truncate(text, 3000), "blocks": blocks}


def _line(entry: EntryLike, today: date) -> dict[str, Any]:
    tasks = sorted(entry.tasks, key=lambda t: (kind_rank(t.kind), t.due))
    sub = entry.subscriber
    due = min(t.due for t in tasks)
    late = (today - due).days
    kinds = ", ".join(dict.fromkeys(kind_label(t.kind) for t in tasks))
    when = f"due {day_label(due, today)}" + (f" ({late} days ago)" if late > 1 else "")
    task_ids = " ".join(f"`{escape(t.id)}`" for t in tasks)
    text = f"*{clip(one_line(sub.display_name), 150)}*  ·  {kinds}  ·  {when}  ·  {task_ids}"
    state = entry_state(entry)
    note = _state_note(entry, state, today)
    if note:
        text += f"\n{note}"
    block = _section(
        truncate(text, MAX_SECTION_TEXT), ids.block_id(ids.BLOCK_CARRIED, entry_key(entry))
    )
    active = [t for t in tasks if t.active]
    if state == UNCLAIMED:
        open_tasks = [t for t in active if t.status == TASK_OPEN]
        block["accessory"] = task_button("Claim", ids.ACTION_CLAIM, open_tasks, "primary")
    elif state == CLAIMED:
        block["accessory"] = task_button("Log outreach", ids.ACTION_LOG, active)
    return block


def _state_note(entry: EntryLike, state: str, today: date) -> str:
    if state == MOVED:
        moved_to = getattr(entry, "moved_to", None)
        return f":arrow_right: Moved on to the digest of {day_label(moved_to)}" if moved_to else ""
    if state == DONE:
        return "  ".join(
            (":wastebasket:" if t.outcome == "expired" else ":white_check_mark:")
            + f" {outcome_label(t.outcome or t.status)}"
            + (f" by {user_ref(t.closed_by)}" if t.closed_by else "")
            for t in entry.tasks
        )
    holders = dict.fromkeys(t.claimed_by for t in entry.tasks if t.active and t.claimed_by)
    notes = [f":raised_hand: {user_ref(u)}" for u in holders]
    snoozed = [t.snoozed_until for t in entry.tasks if t.active and t.snoozed_until]
    if snoozed and max(snoozed) > today:
        notes.append(f":zzz: until {day_label(max(snoozed), today)}")
    return "  ".join(notes)


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block
