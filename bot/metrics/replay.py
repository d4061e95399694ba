"""A subscriber as the bot knew them on a past day, for replaying the risk rules.

The store keeps a subscriber's latest state plus a history of status and cancel-at-period-end
changes stamped when they were seen. `known_on(doc, day)` rebuilds what was known at the end of
`day`: subscriptions started by then, each with the status the history gives for that day, and
dates (cancellation, end, last order) only once they had passed. A change with no history is
taken as known from the subscriber's last update (`updated_at`), never earlier; a scheduled
cancellation from `canceled_at` (the day it was asked for) when the export gives it.

`change_days(doc, events, rules)` lists the days on which the score of a subscriber can change
(a subscription starts or ends, a change is seen, an event happens or leaves its rule's
window), so a replay scores each subscriber only on those days and carries the result between.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from bot.models import ENDED_STATUSES, Subscriber, Subscription, parse_date
from config.settings import RiskRules


def _day(value: Any) -> date | None:
    return parse_date(value) if value not in (None, "") else None


def _changes(doc: Mapping[str, Any], sub_id: str, name: str) -> list[tuple[date, dict[str, Any]]]:
    found = []
    for h in doc.get("history") or ():
        if h.get("field") == name and h.get("sub") in (None, sub_id):
            at = _day(h.get("at"))
            if at is not None:
                found.append((at, h))
    return sorted(found, key=lambda c: c[0])


def _as_of(
    changes: list[tuple[date, dict[str, Any]]], day: date, now: Any, since: date | None
) -> Any:
    """The value on `day`: the last change seen by then, else the value before the first
    change; without history, the current value once it was known (`since`)."""
    if changes:
        seen = [h for at, h in changes if at <= day]
        return seen[-1].get("to") if seen else changes[0][1].get("from")
    return now if since is None or since <= day else None


def known_on(doc: Mapping[str, Any], day: date) -> Subscriber | None:
    """The subscriber as known at the end of `day`, or None if no subscription had started."""
    updated = _day(doc.get("updated_at"))
    first = _day(doc.get("first_started"))
    subs = []
    for raw in doc.get("subscriptions") or ():
        sub = Subscription.from_doc(raw)
        start = sub.started or first
        if start is None or start > day:
            continue
        end = sub.ended_at or (sub.canceled_at if sub.status in ENDED_STATUSES else None)
        statuses = _changes(doc, sub.id, "status")
        if sub.status in ENDED_STATUSES and not statuses:
            # no history: live until its end, seen ended from then
            sub.status = sub.status if end is not None and end <= day else "active"
        else:
            status = _as_of(statuses, day, sub.status, updated)
            sub.status = status or "active"
        scheduled = _changes(doc, sub.id, "cancel_at_period_end")
        asked = (
            sub.canceled_at if sub.canceled_at and (end is None or sub.canceled_at < end) else None
        )
        if not scheduled and asked is not None and (sub.cancel_at_period_end or end is not None):
            sub.cancel_at_period_end = asked <= day  # asked for on canceled_at, ends later
        else:
            sub.cancel_at_period_end = bool(
                _as_of(scheduled, day, sub.cancel_at_period_end, updated)
            )
        if sub.status in ENDED_STATUSES:
            sub.cancel_at_period_end = False
        sub.canceled_at = sub.canceled_at if sub.canceled_at and sub.canceled_at <= day else None
        sub.ended_at = sub.ended_at if sub.ended_at and sub.ended_at <= day else None
        subs.append(sub)
    if not subs:
        return None
    last_order = _day(doc.get("last_order"))
    return Subscriber(
        id=str(doc["id"]),
        email=str(doc.get("email", "")),
        subscriptions=subs,
        first_started=first,
        last_order=last_order if last_order and last_order <= day else None,
    )


def rule_windows(rules: RiskRules) -> tuple[int, ...]:
    return (
        rules.cancel_request_window_days,
        rules.nps_window_days,
        rules.payment_window_days,
        rules.support_window_days,
        rules.downgrade_window_days,
    )


def change_days(doc: Mapping[str, Any], event_days: Iterable[date], rules: RiskRules) -> set[date]:
    """Days on which the subscriber's score may differ from the day before."""
    days: set[date] = set()
    intervals = set()
    for raw in doc.get("subscriptions") or ():
        for name in ("started", "canceled_at", "ended_at"):
            d = _day(raw.get(name))
            if d:
                days.add(d)
        intervals.add(Subscription(id="", interval=raw.get("interval") or "month",
                                   interval_count=raw.get("interval_count") or 1).interval_days)  # fmt: skip
    for name in ("first_started", "updated_at"):
        d = _day(doc.get(name))
        if d:
            days.add(d)
    days.update(d for d in (_day(h.get("at")) for h in doc.get("history") or ()) if d)
    intervals = intervals or {30.44}
    spans = set(rule_windows(rules))
    spans.update(round(rules.skip_cycles * i) for i in intervals)
    order_gaps = {math.floor(rules.no_order_factor * i) for i in intervals}
    spans.update(order_gaps)
    last_order = _day(doc.get("last_order"))
    if last_order:
        days.add(last_order)
        days.update(last_order + timedelta(days=g + 1) for g in order_gaps)
    for e in event_days:
        days.add(e)
        days.update(e + timedelta(days=s + 1) for s in spans)
    return days
