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
    truncate,
    user_ref,
)
from bot.money import amount_text, price_label

MAX_ROWS = 20  # per list: 3 lists of 20 rows and the rest stay well under 100 blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def entry_row(
    entry: EntryLike, today: date, label: str, action_id: str, style: str | None
) -> dict[str, Any]:
    """One customer on one line: kinds, due, task ids; then value at stake, risk and why it
    ranks where it does (when the entry carries a `bot.priority.Priority`), and a button."""
    sub = entry.subscriber
    tasks = sorted(entry.tasks, key=lambda t: (kind_rank(t.kind), t.due))
    kinds = ", ".join(dict.fromkeys(kind_label(t.kind) for t in tasks)) or "due"
    due = min((t.due for t in tasks), default=today)
    task_ids = [t.id for t in tasks if t.active] or [t.id for t in tasks]
    text = f"*{clip(one_line(sub.display_name), 120)}*  ·  {kinds}  ·  due {day_label(due, today)}"
    text += "  ·  " + " ".join(f"`{escape(t)}`" for t in task_ids[:8])
    rank = getattr(entry, "priority", None)
    if rank is not None:
        value = float(getattr(entry, "value", rank.value))
        price = price_label(sub) or (f"{amount_text(value, sub.currency)}/mo" if value else "")
        facts = [escape(price)] if price else []
        facts += [escape(r) for r in rank.reasons(today)]
        text += "\n" + "  ·  ".join(facts)
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
        "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)},
        "accessory": button,
    }


def _entry_list(
    entries: Sequence[EntryLike],
    today: date,
    empty: str,
    label: str,
    action_id: str,
    style: str | None = None,
    total: int | None = None,
    more: str = "see the digest thread",
) -> list[dict[str, Any]]:
    if not entries:
        return [_context(empty)]
    rows = [entry_row(e, today, label, action_id, style) for e in entries[:MAX_ROWS]]
    hidden = (len(entries) if total is None else total) - len(rows)
    if hidden > 0:
        rows.append(_context(f"and {hidden} more: {more}"))
    return rows


def build_home(
    user_id: str,
    my_tasks: Sequence[EntryLike],
    unclaimed_today: Sequence[EntryLike],
    week_stats: Stats | None,
    now: datetime,
    tz: ZoneInfo,
    headline: Sequence[str] | None = None,
    queued: Sequence[EntryLike] = (),
    totals: tuple[int, int, int] | None = None,
    headline_at: datetime | None = None,
    headline_soon: bool = False,
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
        queued: the best of the queue (due work no digest lists today), in priority order.
        totals: how many entries each list has in all (mine, unclaimed today, queue) when
            the lists passed are a page of them.
        headline_at: when the headline's numbers were computed (shown: they are kept a day).
        headline_soon: with no headline yet, whether it is computed at the bot's next quiet
            turn (the day's digest is posted, or none is due; `bot.metrics.headline` defers
            it an hour at most) rather than after today's digest.

    Returns:
        A `{"type": "home", ...}` view of at most 100 blocks; long lists end in "and N more".
    """
    today = local(now, tz).date()
    n_mine, n_unclaimed, n_queued = totals or (len(my_tasks), len(unclaimed_today), len(queued))
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
        _header(f"Your claimed tasks ({n_mine})"),
        *_entry_list(
            my_tasks,
            today,
            "Nothing claimed. Pick one from the unclaimed list below.",
            "Log outreach",
            ids.ACTION_LOG,
            total=n_mine,
            more="`/care mine` lists them",
        ),
        {"type": "divider"},
        _header(f"Unclaimed today ({n_unclaimed})"),
        *_entry_list(
            unclaimed_today,
            today,
            "Everything in today's digest is claimed. :tada:",
            "Claim",
            ids.ACTION_CLAIM,
            "primary",
            total=n_unclaimed,
        ),
        {"type": "divider"},
        _header(f"Waiting in the queue ({n_queued})"),
        _context(
            "Due, beyond what the team can do today: best first (overdue, risk, value, "
            "longest since reached). Claim here as in the digest."
        ),
        *_entry_list(
            queued,
            today,
            "Nothing waits in the queue.",
            "Claim",
            ids.ACTION_CLAIM,
            total=n_queued,
            more="`/care queue` lists them",
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
        as_of = f"As of {local(headline_at, tz):%a %b %d, %H:%M}. " if headline_at else ""
        blocks.append(
            _context(as_of + "`/care report` for every number; definitions in docs/metrics.md")
        )
    elif headline_soon:
        blocks.append(
            _context(
                "The first numbers are computed once Slack is quiet for a minute; they appear "
                "here within the hour."
            )
        )
    else:
        blocks.append(_context("Computed once a day, after today's digest is posted."))
    if len(blocks) > MAX_BLOCKS_VIEW:  # cannot happen with MAX_ROWS = 20; keep the promise
        blocks = blocks[: MAX_BLOCKS_VIEW - 1] + [_context("and more: see the digest thread")]
    return {"type": "home", "callback_id": ids.VIEW_HOME, "blocks": blocks}
