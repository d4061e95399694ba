"""Answers to `/care lookup`, `/care mine` and `/care stats`, and the outreach log reply.

All are ephemeral messages ({"text", "blocks"}) except the outreach reply, which is posted in
the task's thread for the team to see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import ids
from bot.blocks.entry import reached_text
from bot.blocks.labels import (
    CHANNEL_VERBS,
    band_label,
    channel_label,
    kind_label,
    outcome_label,
)
from bot.blocks.limits import MAX_BLOCKS_MESSAGE, MAX_FIELD_TEXT, MAX_SECTION_TEXT
from bot.blocks.text import (
    bullet_list,
    clip,
    day_label,
    duration_minutes,
    escape,
    one_line,
    slack_date,
    tenure,
    truncate,
    unshown_note,
    user_ref,
)
from bot.guard import each_record
from bot.models import TASK_CLAIMED, Outreach, Risk, Subscriber, Task
from bot.money import price_label
from bot.outreach.contact import last_contact

MAX_MINE_ROWS = 20


@dataclass
class Stats:
    """Team numbers over a period, for `/care stats` and the Home tab.

    `per_manager` maps a Slack user id to counts such as {"claimed": 5, "done": 4}.
    `inbox` holds optional inbox figures, e.g. {"posted": 12, "filtered": 3,
    "connection_failures": 1, "last_error": "..."}; values are shown escaped.
    """

    period_days: int
    due: int = 0
    claimed: int = 0
    done: int = 0
    expired: int = 0
    automated: int = 0  # closed by the bot's own email (tech touch)
    per_manager: dict[str, dict[str, int]] = field(default_factory=dict)
    median_claim_minutes: float | None = None
    inbox: dict[str, Any] = field(default_factory=dict)
    signals: dict[str, str] = field(default_factory=dict)  # source -> its freshness line
    digest_day: date | None = None  # today's digest, when `/care stats` shows it
    # What today's digest parent shows: "listed" (its total) and its progress ("claimed",
    # "done", "open", "expired", "moved"); empty when it is not posted yet.
    digest: dict[str, int] = field(default_factory=dict)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _field(label: str, value: str) -> dict[str, str]:
    text = f"*{label}*\n{value or '–'}"
    return {"type": "mrkdwn", "text": truncate(text, MAX_FIELD_TEXT)}


def task_line(task: Task, today: date, subscriber: Subscriber | None = None) -> str:
    """One task in a list: "`k7qx2` *Jane* · Churn risk · due today · claimed by @x"."""
    parts = [f"`{escape(task.id)}`"]
    if subscriber is not None:
        parts.append(f"*{clip(one_line(subscriber.display_name), 120)}*")
    parts.append(kind_label(task.kind))
    parts.append(f"due {day_label(task.due, today)}")
    if task.status == TASK_CLAIMED and task.claimed_by:
        parts.append(f"claimed by {user_ref(task.claimed_by)}")
    elif task.active:
        parts.append("unclaimed")
    else:
        parts.append(outcome_label(task.outcome or task.status).lower())
    return "  ·  ".join(parts)


def outreach_line(outreach: Outreach, tz: ZoneInfo, note_limit: int = 300) -> str:
    """ "<date> @x called: *Reached* (note)" for a card's recent outreach list."""
    verb = CHANNEL_VERBS.get(outreach.channel, f"used {channel_label(outreach.channel)}")
    line = (
        f"{slack_date(outreach.at, '{date_short}', tz=tz)} {user_ref(outreach.by)} {verb}: "
        f"*{outcome_label(outreach.outcome)}*"
    )
    if outreach.note:
        line += f" — {clip(one_line(outreach.note), note_limit)}"
    if outreach.follow_up:
        line += f" (follow-up {outreach.follow_up:%b} {outreach.follow_up.day})"
    return line


def _outreach_text(outreach: Sequence[Outreach], today: date, tz: ZoneInfo, recent: int) -> str:
    """The card's last contact and recent outreach, newest first; each line is made alone
    (`bot.guard`): a log that cannot be shown is named instead."""
    latest = sorted(outreach, key=lambda o: o.at, reverse=True)
    listed = latest[: max(recent, 0)]
    contact = last_contact(outreach)
    what = "outreach log on /care lookup"
    reached = each_record([contact] if contact else [], lambda c: reached_text(c, today, tz), what)
    rows = each_record(listed, lambda o: outreach_line(o, tz), what)
    failed = list(dict.fromkeys(reached.failed + rows.failed))
    note = unshown_note(failed, "outreach log") if failed else ""
    budget = MAX_SECTION_TEXT - 40 - len(note) - sum(len(r) for r in reached.rows)
    text = bullet_list(rows.rows, budget) if listed else "none logged yet"
    if len(latest) > len(listed) and listed:
        text += f"\n_{len(latest) - len(listed)} earlier not shown_"
    return "\n".join(part for part in (*reached.rows, text, note) if part)


def build_subscriber_card(
    subscriber: Subscriber,
    today: date,
    tz: ZoneInfo,
    *,
    stage: str = "",
    risk: Risk | None = None,
    open_tasks: Sequence[Task] = (),
    outreach: Sequence[Outreach] = (),
    recent: int = 5,
) -> dict[str, Any]:
    """The `/care lookup` card.

    Args:
        subscriber: the customer.
        today: the team's local date.
        tz: the team's timezone.
        stage: the lifecycle stage as the lifecycle engine names it ("onboarding", ...).
        risk: the current risk score, if computed.
        open_tasks: active tasks (with their claimants).
        outreach: logged outreach, any order; the `recent` latest are shown.
        recent: how many outreach lines to show.
    """
    sub = subscriber
    name = clip(one_line(sub.display_name), 140)
    fields = [
        _field("Email", clip(sub.email, 254)),
        _field("Status", escape(sub.status.replace("_", " "))),
        _field("Plan", clip(one_line(sub.plan), 500)),
        _field("Stage", clip(one_line(stage), 200)),
        _field("Customer for", tenure(sub.first_started, today)),
        _field("Price", price_label(sub) or "not known"),
    ]
    if sub.owner:
        fields.append(_field("Owner", clip(one_line(sub.owner), 200)))
    if sub.scheduled_cancellation:
        fields.append(_field("Cancellation", "scheduled at period end"))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": name}},
        {"type": "section", "fields": fields},
    ]
    if risk is not None:
        head = f"*Risk* {band_label(risk.score, risk.band)}"
        reasons = [clip(one_line(t), 300) for t in risk.reason_texts() if t]
        body = bullet_list(reasons, MAX_SECTION_TEXT - len(head) - 1) if reasons else "no signals"
        blocks.append(_section(f"{head}\n{body}"))
    lines = [task_line(t, today) for t in open_tasks]
    tasks_text = bullet_list(lines, MAX_SECTION_TEXT - 30) if lines else "none"
    blocks.append(_section(f"*Open tasks*\n{tasks_text}"))
    blocks.append(_section(f"*Recent outreach*\n{_outreach_text(outreach, today, tz, recent)}"))
    blocks.append(_context(f"Subscriber `{clip(sub.id, 100)}` · source {clip(sub.source, 40)}"))
    return {
        "text": f"{name}: {escape(sub.status)}, {price_label(sub) or 'no price'}",
        "blocks": blocks,
    }


def build_lookup_choices(matches: Sequence[Subscriber], query: str) -> dict[str, Any]:
    """When `/care lookup` matches several subscribers: list them to narrow down."""
    q = clip(one_line(query), 100)
    if not matches:
        text = f"No subscriber matches “{q}”. Try their email address."
        return {"text": text, "blocks": [_section(text)]}
    lines = [
        f"*{clip(one_line(s.display_name), 120)}*  ·  {clip(s.email, 254)}  ·  {escape(s.status)}"
        for s in matches
    ]
    head = f"{len(matches)} subscribers match “{q}”: look one up by email."
    return {"text": head, "blocks": [_section(head), _section(bullet_list(lines, 2900))]}


def build_mine(
    user_id: str,
    tasks: Sequence[Task],
    subscribers: Mapping[str, Subscriber],
    today: date,
) -> dict[str, Any]:
    """`/care mine`: the user's active tasks, each with a Log outreach button.

    Args:
        user_id: who asked (a trusted Slack id).
        tasks: that user's claimed, active tasks, in the order to list them (`bot.priority`).
        subscribers: subscriber id -> Subscriber for the names.
        today: the team's local date.
    """
    if not tasks:
        text = "You have no claimed tasks. Claim one from today's digest thread."
        return {"text": text, "blocks": [_section(text)]}
    ordered = list(tasks)
    head = f"{user_ref(user_id)}, you have *{len(ordered)}* claimed task" + (
        "s" if len(ordered) != 1 else ""
    )
    blocks: list[dict[str, Any]] = [_section(head)]
    for task in ordered[:MAX_MINE_ROWS]:
        line = task_line(task, today, subscribers.get(task.subscriber_id))
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": line},
                "accessory": {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Log outreach"},
                    "action_id": ids.ACTION_LOG,
                    "value": ids.encode_ids([task.id]),
                },
            }
        )
    if len(ordered) > MAX_MINE_ROWS:
        blocks.append(_context(f"and {len(ordered) - MAX_MINE_ROWS} more"))
    blocks.append(_context("Log without the button: `/care log &lt;id&gt; call reached [note]`"))
    return {"text": f"You have {len(ordered)} claimed tasks", "blocks": blocks}


def stats_text(stats: Stats) -> str:
    """The team's numbers as mrkdwn lines (shared by `/care stats` and the Home tab), each
    saying what it counts."""
    median = (
        duration_minutes(stats.median_claim_minutes)
        if stats.median_claim_minutes is not None
        else "–"
    )
    days = f"{stats.period_days} day{'s' if stats.period_days != 1 else ''}"
    return (
        f"*{stats.due}* came due  ·  *{stats.claimed}* claimed  ·  *{stats.done}* done  ·  "
        f"*{stats.expired}* expired"
        + (f"  ·  *{stats.automated}* emailed by the bot" if stats.automated else "")
        + "\n"
        f"_Came due: tasks whose due date fell in the last {days}, whatever became of them; "
        f"claimed, done, expired: what happened in those {days}"
        + ("; emailed by the bot: closed by tech touch, not in done" if stats.automated else "")
        + "._\n"
        f"Median time to claim: *{median}*"
    )


def digest_stats_text(stats: Stats) -> str:
    """Today's digest as its parent message counts it (the same numbers, the same way)."""
    day = stats.digest_day
    if day is None:
        return ""
    head = f"*Today's digest* ({day:%a %b} {day.day})"
    figures = stats.digest
    if not figures:
        return f"{head}: not posted yet. `/care digest now` posts it."
    parts = [f"*{figures.get('listed', 0)}* due today"]
    parts += [f"*{figures.get(k, 0)}* {k}" for k in ("claimed", "done")]
    parts.append(f"*{figures.get('open', 0)}* still open")
    parts += [f"*{figures[k]}* {k}" for k in ("expired",) if figures.get(k)]
    if figures.get("moved"):
        parts.append(f"*{figures['moved']}* moved on to a later digest")
    return (
        f"{head}: " + "  ·  ".join(parts) + "\n_Due today: the tasks its thread lists, overdue "
        "ones carried over from earlier days included, as its parent message counts them._"
    )


def manager_lines(stats: Stats) -> list[str]:
    """One line per manager, most done first: "@x: 5 claimed  ·  4 done"."""
    ranked = sorted(
        stats.per_manager.items(), key=lambda kv: (-kv[1].get("done", 0), -kv[1].get("claimed", 0))
    )
    lines = []
    for user, counts in ranked:
        shown = "  ·  ".join(f"{int(n)} {escape(k)}" for k, n in counts.items())
        lines.append(f"{user_ref(user)}: {shown or 'nothing yet'}")
    return lines


def build_stats(stats: Stats) -> dict[str, Any]:
    """`/care stats [7d|30d]`: due, claimed, done, expired; per manager; median time to claim."""
    title = f"Last {stats.period_days} day" + ("s" if stats.period_days != 1 else "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Proactive care · numbers"}},
    ]
    today = digest_stats_text(stats)
    if today:
        blocks.append(_section(today))
    blocks.append(_section(f"*{title}*\n" + stats_text(stats)))
    lines = manager_lines(stats)
    if lines:
        blocks.append(_section("*Per manager*\n" + bullet_list(lines, MAX_SECTION_TEXT - 20)))
    if stats.inbox:
        inbox = [
            f"{escape(str(k).replace('_', ' '))}: {clip(v, 300)}" for k, v in stats.inbox.items()
        ]
        blocks.append(_section("*Inbox*\n" + bullet_list(inbox, MAX_SECTION_TEXT - 20)))
    if stats.signals:
        lines = [f"{escape(k.title())}: {clip(v, 300)}" for k, v in stats.signals.items()]
        blocks.append(_section("*Live signals*\n" + bullet_list(lines, MAX_SECTION_TEXT - 20)))
    text = f"{title}: {stats.due} came due, {stats.claimed} claimed, {stats.done} done"
    return {"text": text, "blocks": blocks[:MAX_BLOCKS_MESSAGE]}


def build_outreach_reply(outreach: Outreach) -> dict[str, Any]:
    """The thread reply after a log: "@x called: *Reached* — note".

    Args:
        outreach: the logged outreach (by is a trusted Slack id; note is outside text).
    """
    verb = CHANNEL_VERBS.get(outreach.channel, "reached out to")
    line = f"{user_ref(outreach.by)} {verb}: *{outcome_label(outreach.outcome)}*"
    if outreach.note:
        line += " — " + clip(outreach.note.strip(), MAX_SECTION_TEXT - len(line) - 80)
    if outreach.follow_up:
        line += f"\n:calendar: Follow-up on {outreach.follow_up:%a %b} {outreach.follow_up.day}"
    fallback = f"{user_ref(outreach.by)} {verb}: {outcome_label(outreach.outcome)}"
    return {"text": fallback, "blocks": [_section(line)]}
