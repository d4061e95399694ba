"""The App Home tab: my claimed tasks, today's unclaimed tasks, the team's week.

Published with `views.publish(user_id=..., view=build_home(...))` when the tab is opened and
again when tasks change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import ids
from bot.blocks.cards import Stats, manager_lines, stats_text
from bot.blocks.entry import EntryLike, entry_risk
from bot.blocks.labels import band_label, kind_label, kind_rank
from bot.blocks.limits import MAX_BLOCKS_VIEW, MAX_SECTION_TEXT
from bot.blocks.text import (
    bullet_list,
    clip,
    day_label,
    escape,
    local,
    one_line,
    slack_date,
    user_ref,
)

MAX_ROWS = 25  # per list: 2 lists of 25 rows and the rest stay well under 100 blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _entry_row(
    entry: EntryLike, today: date, label: str, action_id: str, style: str | None
) -> dict[str, Any]:
    sub = entry.subscriber
    tasks = sorted(entry.tasks, key=lambda t: (kind_rank(t.kind), t.due))
    kinds = ", ".join(dict.fromkeys(kind_label(t.kind) for t in tasks)) or "due"
    due = min((t.due for t in tasks), default=today)
    task_ids = [t.id for t in tasks if t.active] or [t.id for t in tasks]
    text = f"*{clip(one_line(sub.display_name), 120)}*  ·  {kinds}  ·  due {day_label(due, today)}"
    text += "  ·  " + " ".join(f"`{escape(t)}`" for t in task_ids[:8])
    risk = entry_risk(entry)
    if risk is not None and risk.score > 0:
        reasons = "; ".join(clip(one_line(r), 120) for r in risk.reason_texts()[:3])
        text += f"\nRisk {band_label(risk.score, risk.band)}" + (f": {reasons}" if reasons else "")
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": ids.encode_ids(task_ids),
    }
    if style:
        button["style"] = style
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": text[:MAX_SECTION_TEXT]},
        "accessory": button,
    }


def _entry_list(
    entries: Sequence[EntryLike],
    today: date,
    empty: str,
    label: str,
    action_id: str,
    style: str | None = None,
) -> list[dict[str, Any]]:
    if not entries:
        return [_context(empty)]
    rows = [_entry_row(e, today, label, action_id, style) for e in entries[:MAX_ROWS]]
    if len(entries) > MAX_ROWS:
        rows.append(_context(f"and {len(entries) - MAX_ROWS} more: see the digest thread"))
    return rows


def build_home(
    user_id: str,
    my_tasks: Sequence[EntryLike],
    unclaimed_today: Sequence[EntryLike],
    week_stats: Stats | None,
    now: datetime,
    tz: ZoneInfo,
    headline: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The Home tab view for one manager.

    Args:
        user_id: whose Home it is (a trusted Slack id).
        my_tasks: entries (customer + tasks) this user has claimed.
        unclaimed_today: today's entries nobody has claimed yet.
        week_stats: the team's numbers for the last 7 days, or None.
        now: the current time; the view says when it was drawn.
        tz: the team's timezone.
        headline: the care numbers of the last 30 days (bot.blocks.report.headline_lines),
            already escaped; None while they are being computed.

    Returns:
        A `{"type": "home", ...}` view of at most 100 blocks; long lists end in "and N more".
    """
    today = local(now, tz).date()
    blocks: list[dict[str, Any]] = [
        _header("Proactive Care"),
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"Hi {user_ref(user_id)}! Here is what needs you today.",
            },
            "accessory": {
                "type": "button",
                "text": {"type": "plain_text", "text": "Refresh"},
                "action_id": ids.ACTION_HOME_REFRESH,
                "value": "refresh",
            },
        },
        _context(f"Updated {slack_date(now, '{date_short_pretty} at {time}', tz=tz)}"),
        {"type": "divider"},
        _header(f"Your claimed tasks ({len(my_tasks)})"),
        *_entry_list(
            my_tasks,
            today,
            "Nothing claimed. Pick one from the unclaimed list below.",
            "Log outreach",
            ids.ACTION_LOG,
        ),
        {"type": "divider"},
        _header(f"Unclaimed today ({len(unclaimed_today)})"),
        *_entry_list(
            unclaimed_today,
            today,
            "Everything due today is claimed. :tada:",
            "Claim",
            ids.ACTION_CLAIM,
            "primary",
        ),
        {"type": "divider"},
        _header("The team this week"),
    ]
    if week_stats is None:
        blocks.append(_context("No numbers yet."))
    else:
        blocks.append(_section(stats_text(week_stats)))
        lines = manager_lines(week_stats)
        if lines:
            blocks.append(_section(bullet_list(lines, MAX_SECTION_TEXT)))
    blocks.append(_header("Care, last 30 days"))
    if headline:
        blocks.append(_section(bullet_list(list(headline), MAX_SECTION_TEXT)))
        blocks.append(_context("`/care report` for every number; definitions in docs/metrics.md"))
    else:
        blocks.append(_context("Being computed: open this tab again in a minute."))
    if len(blocks) > MAX_BLOCKS_VIEW:  # cannot happen with MAX_ROWS = 25; keep the promise
        blocks = blocks[: MAX_BLOCKS_VIEW - 1] + [_context("and more: see the digest thread")]
    return {"type": "home", "callback_id": ids.VIEW_HOME, "blocks": blocks}
