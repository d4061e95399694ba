"""`/care triage`: the open inbox items in priority order, then the parked emails.

`build_triage_list` lists the conversations in the order it is given (`bot.priority`, ranked
by the handler), with who holds each; `build_parked_blocks` lists the emails parked after
repeated failures, with the commands that retry or drop them. Each row is made alone
(`bot.guard`): an item or email whose row cannot be made is named at the top of its list
instead. The view and the shared text pieces live in `bot.blocks.triage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.labels import intent_label
from bot.blocks.limits import MAX_BLOCKS_MESSAGE, MAX_SECTION_TEXT
from bot.blocks.text import bullet_list, clip, escape, one_line, slack_date, unshown_note, user_ref
from bot.blocks.triage import TriageView, context, section, subject_text
from bot.guard import each_record
from bot.inbox.models import SOURCE_OUTREACH, DeadLetter

WHAT = "inbox item in /care triage"  # the items, in the log's words (bot.guard)


def build_triage_list(
    items: Sequence[TriageView],
    now: datetime,
    tz: ZoneInfo,
    parked: Sequence[DeadLetter] = (),
    unshown: Sequence[str] = (),
) -> dict[str, Any]:
    """`/care triage`: the open items in the order given (`bot.priority`), with who has
    each; then parked emails.

    Args:
        unshown: ids of items the caller could not make a view of (`bot.guard`); with those
            whose row cannot be made here, the list names them instead of failing.
    """
    parked_blocks = build_parked_blocks(parked, tz)
    rows = each_record(items, lambda view: _row(view, tz), WHAT, id_of=lambda v: v.item_id)
    lines, failed = rows.rows, [*unshown, *rows.failed]
    if not lines and not failed:
        text = "No open inbox items. :tada:"
        return {"text": text, "blocks": [section(text), *parked_blocks][:MAX_BLOCKS_MESSAGE]}
    blocks: list[dict[str, Any]] = [
        section(f"*{len(lines)} open inbox item{'s' if len(lines) != 1 else ''}*")
    ]
    if failed:
        blocks.append(context(unshown_note(failed)))
    rows_per_section = 6  # a row is at most ~420 chars: 6 fit one section
    max_sections = 45 - len(parked_blocks)  # parked emails are always shown
    for start in range(0, min(len(lines), rows_per_section * max_sections), rows_per_section):
        blocks.append(
            section(bullet_list(lines[start : start + rows_per_section], MAX_SECTION_TEXT))
        )
    if len(lines) > rows_per_section * max_sections:
        blocks.append(context(f"and {len(lines) - rows_per_section * max_sections} more"))
    blocks += parked_blocks
    return {"text": f"{len(lines)} open inbox items", "blocks": blocks[:MAX_BLOCKS_MESSAGE]}


def _row(view: TriageView, tz: ZoneInfo) -> str:
    state = f"claimed by {user_ref(view.claimed_by)}" if view.claimed_by else "unclaimed"
    when = slack_date(view.received_at, "{date_short} {time}", tz=tz) if view.received_at else ""
    return (
        f"*{subject_text(view, 120)}*  ·  {clip(one_line(view.sender_name or view.sender_email), 80)}"
        f"  ·  {intent_label(view.intent)}  ·  {when}  ·  {state}  ·  `{escape(view.item_id)}`"
    )


def build_parked_blocks(letters: Sequence[DeadLetter], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Emails parked after repeated failures, with the commands that retry or drop them."""
    if not letters:
        return []
    count = len(letters)
    head = (
        f":warning: *{count} email{'s' if count != 1 else ''} could not be handled* and "
        f"{'are' if count != 1 else 'is'} parked. `/care inbox retry ID` runs one again, "
        "`/care inbox drop ID` forgets it."
    )
    rows = each_record(letters[:30], lambda letter: _parked_row(letter, tz), "parked email")
    lines = rows.rows
    blocks = [section(head)]
    if rows.failed:
        blocks.append(context(unshown_note(rows.failed, "parked email")))
    if any(letter.source == SOURCE_OUTREACH for letter in letters):
        blocks.append(
            context(
                "A triage post of our email: the email was sent, and the customer's answer "
                "still lands in triage (and posts it). Slack refused the post itself: retry it "
                "after the bot is updated, or drop it."
            )
        )
    for start in range(0, len(lines), 5):
        blocks.append(section(bullet_list(lines[start : start + 5], MAX_SECTION_TEXT)))
    if count > 30:
        blocks.append(context(f"and {count - 30} more"))
    return blocks


def _parked_row(letter: DeadLetter, tz: ZoneInfo) -> str:
    who = clip(one_line(letter.sender), 60) or "unknown sender"
    subject = clip(one_line(letter.subject), 80) or "(no subject)"
    if letter.source == SOURCE_OUTREACH:
        subject = f"triage post of our email: {subject}"
    return (
        f"`{escape(letter.id)}`  ·  {subject}  ·  {who}  ·  "
        f"{slack_date(letter.parked_at, '{date_short} {time}', tz=tz)}  ·  "
        f"{letter.attempts} tries: {clip(one_line(letter.error), 120)}"
    )
