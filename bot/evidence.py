"""The evidence behind a digest entry: what we know that explains why a customer is due now.

`evidence(...)` turns a customer's risk reasons, subscriptions and recent events into short
plain sentences, each saying one thing once: the risk reasons (a detractor NPS with its comment,
support contacts with the last one's note), the cancellation reason and comment, a recent NPS
or support contact that did not score, bounces, the last order and the tags. Sentences are raw
outside text (names, notes, reasons): builders escape them. Pure: no Slack, no store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, tzinfo

from bot.clock import local_day
from bot.models import Event, Risk, Subscriber

RECENT_DAYS = 90  # NPS, cancellation notes
CONTACT_DAYS = 30  # support contacts and bounces
NOTE_CHARS = 200
MAX_LINES = 10
CANCEL_EVENTS = ("canceled", "cancellation_scheduled")


def evidence(
    subscriber: Subscriber,
    events: Iterable[Event],
    risk: Risk | None,
    today: date,
    tz: tzinfo = UTC,
) -> list[str]:
    """The sentences an entry shows under "why now", most telling first, none repeated.

    Args:
        subscriber: the customer.
        events: their events, any order; those after `today` are left out.
        risk: their risk today (its reasons come first), or None.
        today: the team's local date.
        tz: the team's timezone, to turn event times into days.

    Returns:
        At most `MAX_LINES` sentences, each different from the others.
    """
    recent = sorted((e for e in events if _day(e, tz) <= today), key=lambda e: e.at)

    def within(kind: str, days: int) -> list[Event]:
        return [e for e in recent if e.type == kind and (today - _day(e, tz)).days <= days]

    nps = within("nps", RECENT_DAYS)[-1:]
    contacts = within("support_contact", CONTACT_DAYS)
    rules = {r.rule for r in (risk.reasons if risk else [])}
    lines = [
        _reason(r.rule, r.text, nps, contacts) for r in (risk.reasons if risk else []) if r.text
    ]
    lines += _cancellation(subscriber, [e for e in recent if e.type in CANCEL_EVENTS], today, tz)
    if nps and "nps_detractor" not in rules and nps[0].value is not None:
        lines.append(f"NPS {_num(nps[0].value)} on {_day(nps[0], tz)}{_said(nps[0])}")
    if contacts and "support_contacts" not in rules:
        n = len(contacts)
        lines.append(
            f"{n} support contact{'s' if n != 1 else ''} in the last {CONTACT_DAYS} days"
            f"{_said(contacts[-1], 'last')}"
        )
    bounces = within("bounce", CONTACT_DAYS)
    if bounces:
        lines.append(f"Email bounced on {_day(bounces[-1], tz)}{_said(bounces[-1])}")
    last_order = _last_order(subscriber, recent, tz)
    if last_order and "no_order" not in rules:
        lines.append(f"Last order on {last_order} ({(today - last_order).days} days ago)")
    tags = [t.strip() for t in subscriber.tags if t and t.strip()]
    if tags:
        lines.append("Tags: " + ", ".join(dict.fromkeys(tags)))
    return _once(lines)[:MAX_LINES]


def _reason(rule: str, text: str, nps: list[Event], contacts: list[Event]) -> str:
    if rule == "nps_detractor" and nps:
        return text + _said(nps[0])
    if rule == "support_contacts" and contacts:
        return text + _said(contacts[-1], "last")
    return text


def _cancellation(
    subscriber: Subscriber, events: list[Event], today: date, tz: tzinfo
) -> list[str]:
    lines = []
    for sub in subscriber.subscriptions:
        reason = " ".join(sub.cancellation_reason.replace("_", " ").split())
        comment = " ".join(sub.cancellation_comment.split())
        if reason:
            lines.append(f"Cancellation reason: {reason[:NOTE_CHARS]}")
        if comment:
            lines.append(f"Cancellation comment: \u201c{comment[:NOTE_CHARS]}\u201d")
    for event in events[-2:]:
        note = " ".join(event.note.replace("_", " ").split())
        if note and (today - _day(event, tz)).days <= RECENT_DAYS:
            lines.append(f"Cancellation reason: {note[:NOTE_CHARS]}")
    return lines


def _last_order(subscriber: Subscriber, events: list[Event], tz: tzinfo) -> date | None:
    days = [_day(e, tz) for e in events if e.type == "order"]
    if subscriber.last_order:
        days.append(subscriber.last_order)
    return max(days) if days else None


def _said(event: Event, label: str = "") -> str:
    note = " ".join(event.note.split())[:NOTE_CHARS]
    if not note:
        return ""
    return f" ({label}: \u201c{note}\u201d)" if label else f": \u201c{note}\u201d"


def _day(event: Event, tz: tzinfo) -> date:
    return local_day(event.at, tz)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _once(lines: list[str]) -> list[str]:
    """Each sentence once, ignoring case and spacing."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        key = " ".join(line.lower().split())
        if key and key not in seen:
            seen.add(key)
            kept.append(line)
    return kept
