"""Hand-built histories for the metrics tests: subscribers, events, outreach, inbox items."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.ids import stable_id
from bot.inbox.models import TriageItem
from bot.models import Event, Outreach, Subscriber, Subscription


def customer(
    sid: str,
    start: date,
    end: date | None = None,
    reason: str = "",
    *,
    subs: list[Subscription] | None = None,
    history: list[dict[str, object]] | None = None,
) -> Subscriber:
    """A customer with one subscription from `start`, ended on `end` when given."""
    sub = Subscription(
        id=f"sub_{sid}",
        plan="Monthly box",
        status="canceled" if end else "active",
        amount=30.0,
        started=start,
        canceled_at=end,
        ended_at=end,
        cancellation_reason=reason,
    )
    return Subscriber(
        id=sid,
        email=f"{sid}@example.com",
        subscriptions=subs if subs is not None else [sub],
        first_started=min((s.started for s in subs if s.started), default=None) if subs else start,
        history=history or [],
    )


def event(
    sid: str, kind: str, at: datetime, value: float | None = None, source: str = "csv"
) -> Event:
    return Event(stable_id(sid, kind, at.isoformat()), sid, kind, at, value, source)


def touch(sid: str, at: datetime, outcome: str = "saved", task_id: str = "t1") -> Outreach:
    return Outreach(
        stable_id(sid, task_id, at.isoformat()), sid, task_id, "U1", "call", outcome, at
    )


def item(
    iid: str,
    created: datetime,
    *,
    claimed: datetime | None = None,
    resolved: datetime | None = None,
    messages: int = 1,
    intent: str = "other",
    subject: str = "Hello",
) -> TriageItem:
    return TriageItem(
        id=iid,
        key=f"<{iid}@mail>",
        subject=subject,
        normalized_subject=subject.lower(),
        sender=f"{iid}@example.com",
        created_at=created,
        last_message_at=created,
        intent=intent,
        status="resolved" if resolved else ("claimed" if claimed else "open"),
        claimed_by="U1" if claimed else "",
        claimed_at=claimed,
        resolved_at=resolved,
        resolved_by="U1" if resolved else "",
        message_count=messages,
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
