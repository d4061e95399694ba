"""One digest entry: one customer with all of its due tasks, as Block Kit blocks.

An entry is anything with `subscriber`, `tasks` and `risk` (the digest planner's `DigestEntry`
fits, and so does `EntryView` here). Its state comes from its tasks:

- unclaimed: buttons Claim / Log outreach / Email and a Snooze select (1, 3 or 7 days);
- claimed: "Claimed by @x at <time>", buttons Log outreach / Email / Release;
- done (no active task left): the outcome of each task, no buttons.

Button values carry the entry's task ids ("k7qx2,a3b4c"): claiming the entry claims them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.blocks import ids
from bot.blocks.labels import (
    KIND_EMOJI,
    band_label,
    channel_label,
    kind_label,
    kind_rank,
    outcome_label,
)
from bot.blocks.limits import MAX_SECTION_TEXT
from bot.blocks.text import (
    bullet_list,
    clip,
    day_label,
    escape,
    one_line,
    slack_date,
    tenure,
    truncate,
    user_ref,
)
from bot.models import TASK_CLAIMED, TASK_OPEN, Outreach, Risk, RiskReason, Subscriber, Task
from bot.money import price_label
from bot.outreach.contact import days_ago

SNOOZE_DAYS = (1, 3, 7)
_DAYS = {d: f"{d} day" + ("" if d == 1 else "s") for d in SNOOZE_DAYS}
CHURN = "churn_risk"
REACHED_BY = {
    "email": "by email",
    "call": "by phone",
    "sms": "by SMS",
    "slack": "on Slack",
    "other": "another way",
}
UNCLAIMED, CLAIMED, DONE, MOVED = "unclaimed", "claimed", "done", "moved"


class EntryLike(Protocol):
    """What the builders need from a digest entry (the planner's DigestEntry has more)."""

    @property
    def subscriber(self) -> Subscriber: ...

    @property
    def tasks(self) -> Sequence[Task]: ...

    @property
    def risk(self) -> Risk | None: ...


@dataclass
class EntryView:
    """A customer and its due tasks, for callers that have no DigestEntry at hand."""

    subscriber: Subscriber
    tasks: list[Task]
    risk: Risk | None = None
    kind: str = ""
    overdue: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    moved_to: date | None = None  # a later digest lists these tasks now (shown in an older one)
    evidence: list[str] | None = None  # bot.evidence sentences (raw); None: the risk reasons
    contact: Outreach | None = None  # the customer's last contact, by any route


def entry_kind(entry: EntryLike) -> str:
    """The entry's kind: its own `kind` if it has one, else its most urgent task's kind."""
    kind = getattr(entry, "kind", "")
    if kind:
        return str(kind)
    kinds = sorted((t.kind for t in entry.tasks), key=kind_rank)
    return kinds[0] if kinds else "checkin_30"


def entry_risk(entry: EntryLike) -> Risk | None:
    """The entry's risk, else the highest risk recorded on its tasks."""
    if entry.risk is not None:
        return entry.risk
    scored = [t for t in entry.tasks if t.risk_score > 0]
    if not scored:
        return None
    top = max(scored, key=lambda t: t.risk_score)
    reasons = [RiskReason(rule="", points=0, text=r) for r in top.risk_reasons]
    return Risk(score=top.risk_score, band=top.risk_band, reasons=reasons)


def entry_state(entry: EntryLike) -> str:
    """ "unclaimed" if any active task is open, "claimed" if all are claimed, else "done"
    ("moved" when a later digest lists the tasks now)."""
    if getattr(entry, "moved_to", None):
        return MOVED
    active = [t for t in entry.tasks if t.active]
    if not active:
        return DONE
    return UNCLAIMED if any(t.status == TASK_OPEN for t in active) else CLAIMED


def entry_key(entry: EntryLike) -> str:
    """A key unique within a digest: the entry's first task id (or subscriber id)."""
    return entry.tasks[0].id if entry.tasks else entry.subscriber.id


def entry_fallback(entry: EntryLike) -> str:
    """Notification text for an entry's message, escaped."""
    sub = entry.subscriber
    kinds = ", ".join(dict.fromkeys(kind_label(t.kind) for t in entry.tasks)) or "due"
    state = {UNCLAIMED: "", CLAIMED: " (claimed)", DONE: " (done)", MOVED: " (moved on)"}[
        entry_state(entry)
    ]
    return f"{clip(one_line(sub.display_name), 150)}: {kinds.lower()}{state}"


def build_entry_blocks(
    entry: EntryLike, today: date, tz: ZoneInfo, now: datetime, compact: bool = False
) -> list[dict[str, Any]]:
    """The blocks for one customer and all of its due tasks.

    Args:
        entry: a DigestEntry/EntryView: `subscriber`, `tasks`, `risk` (may be None).
        today: the team's local date (for "due today", "overdue 3 d", tenure).
        tz: the team's timezone, for time fallbacks.
        now: the current time (UTC); unused times are shown as Slack date tokens.

        compact: who, why and risk in one section (3 blocks in all), for crowded messages.

    Returns:
        3 to 5 blocks (2 or 3 when compact), every outside string escaped, every text
        within Slack's limits.
    """
    key = entry_key(entry)
    who = _who(entry.subscriber, today)
    risk = entry_risk(entry)
    if risk is not None and risk.score <= 0:
        risk = None
    why = truncate(why_now(entry, risk, today), MAX_SECTION_TEXT)
    shown_band = risk is not None and any(t.kind == CHURN for t in entry.tasks)
    evidence_text = _evidence_text(entry, risk, shown_band, why)
    entry_id = ids.block_id(ids.BLOCK_ENTRY, key)
    if compact:
        text = "\n".join(part for part in (who, why, evidence_text) if part)
        blocks = [_section(truncate(text, MAX_SECTION_TEXT), entry_id)]
    else:
        blocks = [_section(who, entry_id), _section(why)]
        if evidence_text:
            blocks.append(_section(evidence_text))
    blocks.extend(_state_blocks(entry, key, today, tz, now))
    return blocks


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _who(sub: Subscriber, today: date) -> str:
    name = clip(one_line(sub.display_name), 200)
    first = f"*{name}*"
    if sub.email and sub.email != sub.display_name:
        first += f"  ·  {clip(sub.email, 254)}"
    details = [clip(one_line(sub.plan), 300) or "No plan"]
    if sub.status != "active":
        details.append(escape(sub.status.replace("_", " ")))
    if sub.scheduled_cancellation and sub.status != "non_renewing":
        details.append("cancels at period end")
    details.append(f"customer for {tenure(sub.first_started, today)}")
    price = price_label(sub)
    if price:
        details.append(price)
    if sub.owner:
        details.append(f"owner {clip(one_line(sub.owner), 100)}")
    return first + "\n" + "  ·  ".join(details)


def why_now(entry: EntryLike, risk: Risk | None, today: date) -> str:
    """Why the customer is due now, in one line: each task's kind and its own reason (a churn
    task shows its band and score; its reasons are the evidence), when it was due, its id."""
    parts = []
    for task in sorted(entry.tasks, key=lambda t: (kind_rank(t.kind), t.due)):
        emoji = KIND_EMOJI.get(task.kind, ":small_blue_diamond:")
        part = f"{emoji} *{kind_label(task.kind)}*"
        if task.kind == CHURN and risk is not None:
            part += f" {band_label(risk.score, risk.band)}"
        # The engine's churn reason ("Churn risk 65 (high): ...") is the evidence: not repeated.
        if task.reason and not (task.kind == CHURN and task.reason.startswith("Churn risk ")):
            part += f": {clip(one_line(task.reason), 300)}"
        part += f", due {day_label(task.due, today)}"
        late = (today - task.due).days
        if task.active and late > 0:
            part += f" ({late} day{'s' if late != 1 else ''} ago)"
        parts.append(f"{part} `{escape(task.id)}`")
    head = "*Why now*"
    if getattr(entry, "overdue", False) and any(t.active for t in entry.tasks):
        head += " :hourglass: *overdue, carried over*"
    line, room = f"{head} ", MAX_SECTION_TEXT - 40
    for i, part in enumerate(parts):
        if len(line) + len(part) + 5 > room:
            return f"{line}  ·  and {len(parts) - i} more"
        line += f"{'  ·  ' if i else ' '}{part}"
    return line


def _evidence_text(entry: EntryLike, risk: Risk | None, band_shown: bool, why: str) -> str:
    """The evidence under "why now": risk reasons, cancellation, NPS, contacts, bounces, last
    order, tags (each once, escaped); the risk band unless the why line shows it already. A
    sentence the why line says already (a save task's reason and comment) is left out."""
    lines = getattr(entry, "evidence", None)
    if lines is None:
        lines = risk.reason_texts() if risk is not None else []
    said = why.lower()
    shown = [
        line
        for line in dict.fromkeys(clip(one_line(t), 300) for t in lines if t and t.strip())
        if line.lower() not in said and not _said_by_task(line, said)
    ]
    head = "*Evidence*"
    if risk is not None and not band_shown:
        head += f"  ·  risk {band_label(risk.score, risk.band)}"
    if not shown:
        return head if risk is not None and not band_shown else ""
    return head + "\n" + bullet_list(shown, MAX_SECTION_TEXT - len(head) - 1)


def _said_by_task(line: str, said: str) -> bool:
    """Whether the why line carries this cancellation reason or comment already."""
    label, _, words = line.partition(": ")
    return label.startswith("Cancellation ") and f"{label.split()[-1]}: {words}".lower() in said


def _state_blocks(
    entry: EntryLike, key: str, today: date, tz: ZoneInfo, now: datetime
) -> list[dict[str, Any]]:
    moved_to = getattr(entry, "moved_to", None)
    if moved_to:
        return [_context(moved_text(moved_to, today))]
    active = [t for t in entry.tasks if t.active]
    if not active:
        return [_context(_done_text(entry.tasks, tz))]
    open_tasks = [t for t in active if t.status == TASK_OPEN]
    claimed = [t for t in active if t.status == TASK_CLAIMED]
    notes = []
    if claimed:
        notes.append(_claimed_text(claimed, tz))
    snoozed = [t.snoozed_until for t in open_tasks if t.snoozed_until and t.snoozed_until > today]
    if snoozed:
        notes.append(f":zzz: Snoozed until {day_label(max(snoozed), today)}")
    if not notes:
        notes.append("Unclaimed: claim it before you reach out, so nobody doubles up.")
    contact = getattr(entry, "contact", None)
    if contact is not None:
        notes.append(reached_text(contact, today, tz))
    # Most entries hold one task: its ids are encoded (and checked) once for every button.
    active_value = ids.encode_ids(t.id for t in active)
    open_value = active_value if len(open_tasks) == len(active) else None
    elements: list[dict[str, Any]] = []
    if open_tasks:
        elements.append(
            task_button("Claim", ids.ACTION_CLAIM, open_tasks, style="primary", value=open_value)
        )
    elements.append(task_button("Log outreach", ids.ACTION_LOG, active, value=active_value))
    if entry.subscriber.email:
        elements.append(task_button("Email", ids.ACTION_EMAIL, active, value=active_value))
    if claimed:
        claimed_value = active_value if len(claimed) == len(active) else None
        elements.append(task_button("Release", ids.ACTION_RELEASE, claimed, value=claimed_value))
    if open_tasks:
        elements.append(_snooze_select(open_tasks))
    actions = {
        "type": "actions",
        "block_id": ids.block_id(ids.BLOCK_ENTRY_ACTIONS, key),
        "elements": elements,
    }
    return [_context("\n".join(notes)), actions]


def reached_text(contact: Outreach, today: date, tz: ZoneInfo) -> str:
    """ "Reached by @dana by email 3 days ago": the customer's last contact, by any route."""
    how = REACHED_BY.get(contact.channel) or channel_label(contact.channel)
    return (
        f":speech_balloon: Reached by {user_ref(contact.by)} {how} "
        f"{days_ago(contact.at, today, tz)}"
    )


def moved_text(day: date, today: date) -> str:
    """What an older digest says of tasks a later digest lists now."""
    return f":arrow_right: Moved on: still open, now in the digest of {day_label(day)}."


def _claimed_text(claimed: list[Task], tz: ZoneInfo) -> str:
    parts = []
    by_user: dict[str, Task] = {}
    for task in claimed:
        by_user.setdefault(task.claimed_by, task)
    for user, task in by_user.items():
        when = f" at {slack_date(task.claimed_at, tz=tz)}" if task.claimed_at else ""
        parts.append(f":raised_hand: Claimed by {user_ref(user)}{when}")
    return "\n".join(parts)


def _done_text(tasks: Sequence[Task], tz: ZoneInfo) -> str:
    lines = []
    for task in tasks:
        mark = ":white_check_mark:" if task.outcome != "expired" else ":wastebasket:"
        line = f"{mark} {kind_label(task.kind)}: *{outcome_label(task.outcome or task.status)}*"
        if task.closed_by:
            line += f" by {user_ref(task.closed_by)}"
        if task.closed_at:
            line += f" at {slack_date(task.closed_at, tz=tz)}"
        lines.append(line)
    text = "\n".join(lines) or ":white_check_mark: Done"
    return text if len(text) <= MAX_SECTION_TEXT else lines[0] + f"\nand {len(lines) - 1} more"


def task_button(
    label: str,
    action_id: str,
    tasks: Sequence[Task],
    style: str | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    """A button acting on `tasks` (their ids in its value; `value`: encoded already)."""
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value if value is not None else ids.encode_ids(t.id for t in tasks),
    }
    if style:
        button["style"] = style
    return button


def _snooze_select(tasks: Sequence[Task]) -> dict[str, Any]:
    values = ids.encode_choices(SNOOZE_DAYS, [t.id for t in tasks])
    options = [
        {"text": {"type": "plain_text", "text": _DAYS[d]}, "value": value}
        for d, value in zip(SNOOZE_DAYS, values, strict=True)
    ]
    return {
        "type": "static_select",
        "action_id": ids.ACTION_SNOOZE,
        "placeholder": {"type": "plain_text", "text": "Snooze…"},
        "options": options,
    }
