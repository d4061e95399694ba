"""The audit trail in Slack: a customer's recent history on the `/care lookup` card, and a
task's whole story for `/care history ID`.

Pure builders. Who acted are our own Slack users (mentions); anything else is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.blocks.labels import kind_label
from bot.blocks.limits import MAX_SECTION_TEXT
from bot.blocks.text import (
    clip,
    day_label,
    escape,
    one_line,
    slack_date,
    truncate,
    unshown_note,
    user_ref,
)
from bot.guard import Guarded, each_record
from bot.models import Task

VERBS = {
    "claim": "claimed",
    "release": "released",
    "assign": "assigned",
    "snooze": "snoozed",
    "done": "closed",
    "log": "logged outreach on",
    "triage_claim": "claimed inbox item",
    "triage_release": "released inbox item",
    "triage_resolve": "resolved inbox item",
    "triage_reply": "replied by email to inbox item",
    "triage_reopen": "reopened inbox item",
    "triage_snooze": "snoozed inbox item",
    "triage_cancel_confirm": "confirmed the cancel request in inbox item",
    "triage_cancel_dismiss": "dismissed the cancel request in inbox item",
}
SURFACE_LABELS = {
    "button": "button",
    "command": "slash command",
    "modal": "log form",
    "home": "Home tab",
    "auto": "tech touch",
}
LOOKUP_LINES = 10  # the card shows this many entries, newest first
HISTORY_LINES = 200  # `/care history` shows at most this many, oldest first
_MAX_SECTIONS = 40  # of a message's 50 blocks
ENTRY = ("history entry", "history entries")  # what `unshown_note` calls an entry


def audit_line(entry: AuditEntry, tz: ZoneInfo) -> str:
    """One entry: "Jun 15 09:31 @ann assigned `k7qx2` to @bob (held by @cy) · slash command"."""
    when = slack_date(entry.at, "{date_short} {time}", tz=tz)
    what = VERBS.get(entry.action, escape(entry.action))
    targets = [f"`{clip(t, 20)}`" for t in entry.task_ids[:10]]
    if entry.item_id:
        targets.append(f"`{clip(entry.item_id, 20)}`")
    line = f"{when} {user_ref(entry.by)} {what} {', '.join(targets)}".rstrip()
    if entry.assignee:
        line += f" to {user_ref(entry.assignee)}"
    if entry.holder and entry.holder != entry.by:
        line += f" (held by {user_ref(entry.holder)})"
    if entry.detail:
        line += f": {clip(one_line(entry.detail), 200)}"
    surface = SURFACE_LABELS.get(entry.surface, escape(entry.surface))
    return f"{line} · _{surface}_"


def build_history_blocks(
    entries: Sequence[AuditEntry], tz: ZoneInfo, limit: int = LOOKUP_LINES
) -> list[dict[str, Any]]:
    """The card's "History" section: the `limit` most recent entries, and how many are older.

    Args:
        entries: the customer's entries, most recent first.
    """
    recent = entries[: max(limit, 0)]
    rows = audit_lines(recent, tz, "on /care lookup")
    older = len(entries) - len(recent)
    text = "\n".join(f"• {line}" for line in rows.rows) if recent else "nothing recorded yet"
    if older > 0:
        text += f"\n_{older} older {'entry' if older == 1 else 'entries'} not shown_"
    if rows.failed:
        text += "\n" + unshown_note(rows.failed, *ENTRY)
    return [_section(f"*History*\n{text}")]


def audit_lines(entries: Sequence[AuditEntry], tz: ZoneInfo, where: str) -> Guarded[str]:
    """Each entry's line, made alone (`bot.guard`): one that cannot be shown is named."""
    return each_record(entries, lambda e: audit_line(e, tz), f"audit entry {where}")


def build_task_history(
    task: Task,
    subscriber_name: str,
    entries: Sequence[AuditEntry],
    today: date,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """`/care history ID`: every recorded action on a task, oldest first, then where it stands.

    Args:
        task: the task as it is now.
        subscriber_name: its customer's display name (outside text).
        entries: the task's entries, most recent first (as `AuditRepo.for_task` gives them).
        today: the team's local date.
        tz: the team's timezone.
    """
    head = (
        f"*History of `{clip(task.id, 20)}`*: {escape(kind_label(task.kind))} for "
        f"{clip(one_line(subscriber_name), 140) or 'a customer'}, due {day_label(task.due, today)}"
    )
    ordered = sorted(entries[::-1], key=lambda e: e.at)
    skipped = max(len(ordered) - HISTORY_LINES, 0)
    lines = [f"{slack_date(task.created_at, '{date_short} {time}', tz=tz)} opened"]
    if skipped:
        lines.append(f"_{skipped} earlier entries not shown_")
    rows = audit_lines(ordered[skipped:], tz, "in /care history")
    lines += rows.rows
    if rows.failed:
        lines.append(unshown_note(rows.failed, *ENTRY))
    lines.append(f"*Now:* {_standing(task, today)}")
    blocks = [_section(head)] + [_section(chunk) for chunk in _chunks(lines)][:_MAX_SECTIONS]
    return {"text": f"History of {task.id}", "blocks": blocks}


def _standing(task: Task, today: date) -> str:
    if task.status == "claimed":
        return f"claimed by {user_ref(task.claimed_by)}"
    if task.status == "open":
        if task.snoozed_until and task.snoozed_until > today:
            return f"open, snoozed until {day_label(task.snoozed_until, today)}"
        return "open, unclaimed"
    by = f" by {user_ref(task.closed_by)}" if task.closed_by else ""
    outcome = f" ({escape(task.outcome.replace('_', ' '))})" if task.outcome else ""
    return f"{escape(task.status)}{by}{outcome}"


def _chunks(lines: list[str]) -> list[str]:
    """Join lines into texts that each fit one section."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, MAX_SECTION_TEXT - 10)
        if current and len(current) + 1 + len(line) > MAX_SECTION_TEXT - 10:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
