"""Builders for the lifecycle, risk, engine and digest tests: subscribers by tenure, events by day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.ids import stable_id
from bot.models import Event, Outreach, Risk, Subscriber, Subscription
from bot.risk import score
from config.rules import RiskRules

TODAY = date(2026, 6, 15)
NOON = time(16, 0)  # 16:00 UTC is noon in New York (the default timezone): same local day


def member(
    sid: str = "cus_1",
    *,
    tenure: int | None = 120,  # outside every milestone window on TODAY
    started: date | None = None,
    status: str = "active",
    interval: str = "month",
    count: int = 1,
    amount: float = 30.0,
    next_charge: date | None = None,
    cancel_at_period_end: bool = False,
    ended: date | None = None,
    last_order: date | None = None,
    name: str = "",
    email: str = "",
    today: date = TODAY,
) -> Subscriber:
    """A subscriber with one subscription, `tenure` days old on `today` (or `started`)."""
    start = started or (today - timedelta(days=tenure) if tenure is not None else None)
    return Subscriber(
        id=sid,
        email=email or f"{sid}@example.com",
        name=name or sid.replace("_", " ").title(),
        source="stripe",
        subscriptions=[
            Subscription(
                id=f"sub_{sid}",
                plan="Monthly box" if interval == "month" and count == 1 else "Long plan",
                status=status,
                amount=amount,
                currency="usd",
                interval=interval,
                interval_count=count,
                started=start,
                current_period_end=next_charge,
                cancel_at_period_end=cancel_at_period_end,
                ended_at=ended,
            )
        ],
        first_started=start,
        last_order=last_order,
    )


def event(sid: str, type_: str, day: date, value: float | None = None, n: int = 0) -> Event:
    """An event at local noon on `day`."""
    at = datetime.combine(day, NOON, UTC)
    return Event(
        id=stable_id(sid, type_, at.isoformat(), value, n),
        subscriber_id=sid,
        type=type_,
        at=at,
        value=value,
    )


def days_ago(n: int, today: date = TODAY) -> date:
    return today - timedelta(days=n)


def outreach_on(sid: str, task_ids: list[str], day: date, outcome: str = "reached") -> Outreach:
    at = datetime.combine(day, NOON, UTC)
    return Outreach(
        id=stable_id(sid, ",".join(task_ids), at.isoformat()),
        subscriber_id=sid,
        task_id=",".join(task_ids),
        by="U1",
        channel="call",
        outcome=outcome,
        at=at,
    )


def at_noon(day: date) -> datetime:
    return datetime.combine(day, NOON, UTC)


TZ = ZoneInfo("America/New_York")  # config/care.toml's timezone


def risk_of(sub: Subscriber, events: list[Event], rules: RiskRules, today: date = TODAY) -> Risk:
    """`bot.risk.score` of `sub` on `today`, in config/care.toml's timezone."""
    return score(sub, events, today, rules, tz=TZ)
