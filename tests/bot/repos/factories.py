"""Small builders of domain objects for the repository tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.ids import stable_id
from bot.models import Event, Outreach, Subscriber, Subscription, Task

NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)


def subscriber(sid: str, email: str = "", name: str = "", status: str = "active") -> Subscriber:
    return Subscriber(
        id=sid,
        email=email or f"{sid}@example.com",
        name=name or sid.title(),
        source="stripe",
        subscriptions=[
            Subscription(id=f"sub_{sid}", plan="Monthly box", status=status, amount=30.0)
        ],
        first_started=date(2026, 1, 10),
    )


def task(tid: str, sid: str = "cus_1", kind: str = "checkin_30", key: str = "") -> Task:
    return Task(
        id=tid,
        key=key or f"{sid}:{kind}",
        kind=kind,
        subscriber_id=sid,
        due=date(2026, 6, 15),
        created_at=NOW,
    )


def event(sid: str, n: int, type_: str = "skip") -> Event:
    at = datetime(2026, 6, 1, 9, n % 60, tzinfo=UTC)
    return Event(id=stable_id(sid, type_, at.isoformat(), n), subscriber_id=sid, type=type_, at=at)


def outreach(sid: str, task_id: str, n: int) -> Outreach:
    return Outreach(
        id=stable_id(sid, task_id, n),
        subscriber_id=sid,
        task_id=task_id,
        by="U1",
        channel="email",
        outcome="reached",
        at=NOW,
        note=f"touch {n}",
    )
