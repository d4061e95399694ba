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
from config.rules import RiskRules


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


def _spans(rules: RiskRules, intervals: set[float]) -> dict[str, set[int]]:
    """Per event type, how many days after it its rule can still see it."""
    return {
        "cancel_request": {rules.cancel_request_window_days},
        "nps": {rules.nps_window_days},
        "payment_failed": {rules.payment_window_days},
        "support_contact": {rules.support_window_days},
        "downgrade": {rules.downgrade_window_days},
        "skip": {round(rules.skip_cycles * i) for i in intervals},
        "order": {math.floor(rules.no_order_factor * i) for i in intervals},
    }


# Events the rules read only on their own day (a recovery, a pause, a resume).
DAY_ONLY = frozenset({"payment_recovered", "pause", "resume"})


def _intervals(doc: Mapping[str, Any]) -> set[float]:
    found = {
        Subscription(
            id="",
            interval=raw.get("interval") or "month",
            interval_count=raw.get("interval_count") or 1,
        ).interval_days
        for raw in doc.get("subscriptions") or ()
    }
    return found or {30.44}


def snapshot_days(doc: Mapping[str, Any]) -> set[date]:
    """Days on which `known_on` can differ from the day before."""
    days: set[date] = set()
    for raw in doc.get("subscriptions") or ():
        for name in ("started", "canceled_at", "ended_at"):
            d = _day(raw.get(name))
            if d:
                days.add(d)
    for name in ("first_started", "updated_at", "last_order"):
        d = _day(doc.get(name))
        if d:
            days.add(d)
    days.update(d for d in (_day(h.get("at")) for h in doc.get("history") or ()) if d)
    return days


def signal_days(
    doc: Mapping[str, Any], events: Iterable[tuple[date, str]], rules: RiskRules
) -> set[date]:
    """Days on which an event starts or stops counting for its rule."""
    spans = _spans(rules, _intervals(doc))
    days: set[date] = set()
    last_order = _day(doc.get("last_order"))
    if last_order:
        days.update(last_order + timedelta(days=g + 1) for g in spans["order"])
    for day, kind in events:
        if kind in DAY_ONLY:
            days.add(day)
        elif kind in spans:
            days.add(day)
            days.update(day + timedelta(days=s + 1) for s in spans[kind])
    return days


def relevant(
    events: list[tuple[date, str, Any]], first: date, rules: RiskRules, doc: Mapping[str, Any]
) -> list[Any]:
    """The events that can change a score from `first` on: those inside the longest window,
    and before it only the latest pause, resume and order (an open pause, the last order)."""
    longest = max(max(v) for v in _spans(rules, _intervals(doc)).values())
    since = first - timedelta(days=longest + 1)
    keep, latest = [], {}
    for day, kind, event in sorted(events, key=lambda e: e[0]):
        if day >= since:
            keep.append(event)
        elif kind in ("pause", "resume", "order"):
            latest[kind] = event
    return [*latest.values(), *keep]


RISKY_STATUSES = frozenset({"past_due", "unpaid", "paused", "non_renewing"})


def quiet(doc: Mapping[str, Any], events: list[Any]) -> bool:
    """True when no rule can fire on any day: no events that count, no history, no order
    data, no subscription past due, paused or set to cancel. Such a subscriber scores 0 on
    every day, so a replay need not score them."""
    if events or doc.get("history") or doc.get("last_order"):
        return False
    for sub in doc.get("subscriptions") or ():
        if sub.get("status") in RISKY_STATUSES or sub.get("cancel_at_period_end"):
            return False
        asked, ended = _day(sub.get("canceled_at")), _day(sub.get("ended_at"))
        if asked and (ended is None or asked < ended):
            return False
    return True
