"""Churn-risk score: 0-100 from weighted rules, each explaining itself in words.

`score` is a pure function of a subscriber, their events and a date. Every rule that fires adds
a `RiskReason(rule, points, text)`; the score is the sum, capped at 100, and its band is high
(>= `rules.high`), medium (>= `rules.medium`) or low. Subscribers whose subscriptions have all
ended get no score: win-back, not churn risk, is what they need.

Rules (rule name = weight key in `[risk.weights]`):

- scheduled_cancellation: every live subscription cancels at period end or is non-renewing.
- cancel_request: a `cancel_request` event within `cancel_request_window_days`.
- past_due: a subscription is past_due or unpaid.
- paused: a subscription is paused, or the last `pause` event has no `resume` after it.
- nps_detractor: the latest NPS within `nps_window_days` is 0..`nps_detractor_max`.
- payment_failed: each `payment_failed` within `payment_window_days` (up to
  `payment_failed_max`); a later `payment_recovered` clears the failures before it.
- skips: `skip_min`+ skips within the last `skip_cycles` billing intervals.
- no_order: no order for more than `no_order_factor` billing intervals (only for subscribers
  with order data: an `order` event or `Subscriber.last_order`).
- support_contacts: `support_min`+ `support_contact` events within `support_window_days`.
- downgrade: a `downgrade` event within `downgrade_window_days`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.clock import local_day
from bot.models import ENDED_STATUSES, Event, Risk, RiskReason, Subscriber
from config.rules import RiskRules

MAX_SCORE = 100

# Adds one reason: add(rule, points, text).
Adder = Callable[[str, int, str], None]


def band_of(points: int, rules: RiskRules) -> str:
    """The band for a score: "high", "medium" or "low"."""
    if points >= rules.high:
        return "high"
    if points >= rules.medium:
        return "medium"
    return "low"


def score(
    subscriber: Subscriber,
    events: Iterable[Event],
    today: date,
    rules: RiskRules,
    last_outreach_at: datetime | None = None,
    *,
    tz: tzinfo = UTC,
) -> Risk:
    """Score one subscriber's churn risk on `today`.

    Args:
        subscriber: the subscriber with their subscriptions.
        events: their events in any order; events after `today` are ignored, so a past date
            can be re-scored.
        today: the day to score, in the team's timezone.
        rules: weights and windows (`settings.risk`).
        last_outreach_at: when the team last reached out. Accepted so callers can pass what
            they know, but it never lowers the score: the score describes the customer, and the
            engine applies the churn-risk cooldown after outreach itself.
        tz: the team's timezone, used to turn event timestamps into days.

    Returns:
        The score (0-100), its band and one reason per rule that fired.
    """
    del last_outreach_at  # see docstring: the cooldown lives in bot.engine
    if subscriber.status in ENDED_STATUSES:
        return Risk(0, "low", [])
    return score_grouped(subscriber, _group(events, today, tz), today, rules)


def score_grouped(
    subscriber: Subscriber, by_type: Mapping[str, list[Signal]], today: date, rules: RiskRules
) -> Risk:
    """`score` on events already grouped (`group_signals`), none after `today`.

    For callers that score one subscriber on many days (the backtest) and group once.
    """
    if subscriber.status in ENDED_STATUSES:
        return Risk(0, "low", [])
    weights = rules.weights
    reasons: list[RiskReason] = []

    def add(rule: str, points: int, text: str) -> None:
        if points > 0:
            reasons.append(RiskReason(rule, points, text))

    if subscriber.scheduled_cancellation:
        add(
            "scheduled_cancellation", weights["scheduled_cancellation"], _scheduled_text(subscriber)
        )
    requests = _since(by_type.get("cancel_request", []), today, rules.cancel_request_window_days)
    if requests:
        add("cancel_request", weights["cancel_request"], f"Asked to cancel on {requests[-1][0]}")
    statuses = {s.status for s in subscriber.subscriptions}
    if statuses & {"past_due", "unpaid"}:
        text = "Payment past due" if "past_due" in statuses else "Unpaid: payments have stopped"
        add("past_due", weights["past_due"], text)
    paused = _paused_text(statuses, by_type)
    if paused:
        add("paused", weights["paused"], paused)
    nps = _since(by_type.get("nps", []), today, rules.nps_window_days)
    if nps and nps[-1][1] is not None and nps[-1][1] <= rules.nps_detractor_max:
        add("nps_detractor", weights["nps_detractor"], f"NPS {_num(nps[-1][1])} on {nps[-1][0]}")
    _payment_rule(by_type, today, rules, add)
    interval = _interval_days(subscriber)
    _skip_rule(by_type, today, rules, interval, add)
    _order_rule(subscriber, by_type, today, rules, interval, add)
    contacts = _since(by_type.get("support_contact", []), today, rules.support_window_days)
    if rules.support_min and len(contacts) >= rules.support_min:
        add(
            "support_contacts",
            weights["support_contacts"],
            f"{len(contacts)} support contacts in the last {rules.support_window_days} days",
        )
    downgrades = _since(by_type.get("downgrade", []), today, rules.downgrade_window_days)
    if downgrades:
        add("downgrade", weights["downgrade"], f"Downgraded on {downgrades[-1][0]}")
    total = min(MAX_SCORE, sum(r.points for r in reasons))
    return Risk(total, band_of(total, rules), reasons)


# An event reduced to what the rules need: its local day and its value.
Signal = tuple[date, float | None]


def _group(events: Iterable[Event], today: date, tz: tzinfo) -> dict[str, list[Signal]]:
    """Events up to `today` by type, each list oldest first."""
    return group_signals(
        (event.type, event.at, day, event.value)
        for event in events
        if (day := local_day(event.at, tz)) <= today
    )


def group_signals(
    events: Iterable[tuple[str, datetime, date, float | None]],
) -> dict[str, list[Signal]]:
    """Events given as (type, time, local day, value) by type, each list oldest first."""
    grouped: dict[str, list[tuple[datetime, date, float | None]]] = {}
    for kind, at, day, value in events:
        grouped.setdefault(kind, []).append((at, day, value))
    return {
        kind: [(day, value) for _, day, value in sorted(items, key=lambda i: i[0])]
        for kind, items in grouped.items()
    }


def _since(signals: list[Signal], today: date, days: int) -> list[Signal]:
    start = today - timedelta(days=days)
    return [s for s in signals if s[0] >= start]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _scheduled_text(subscriber: Subscriber) -> str:
    live = subscriber.live_subscriptions
    ends = [s.current_period_end for s in live if s.current_period_end]
    when = f" on {max(ends)}" if ends else ""
    if all(s.status == "non_renewing" for s in live):
        return f"Set not to renew: ends{when or ' at the end of the term'}"
    return f"Scheduled to cancel{when or ' at the end of the period'}"


def _paused_text(statuses: set[str], by_type: Mapping[str, list[Signal]]) -> str:
    pauses, resumes = by_type.get("pause", []), by_type.get("resume", [])
    open_pause = bool(pauses) and (not resumes or resumes[-1][0] < pauses[-1][0])
    if open_pause:
        return f"Paused since {pauses[-1][0]}"
    if "paused" in statuses:
        return "Subscription paused"
    return ""


def _payment_rule(
    by_type: Mapping[str, list[Signal]], today: date, rules: RiskRules, add: Adder
) -> None:
    failures = _since(by_type.get("payment_failed", []), today, rules.payment_window_days)
    recovered = by_type.get("payment_recovered", [])
    if recovered:
        # Same-day order is unknown at day precision; a recovery clears failures up to its day.
        failures = [f for f in failures if f[0] > recovered[-1][0]]
    if not failures:
        return
    weights = rules.weights
    points = min(len(failures) * weights["payment_failed_each"], weights["payment_failed_max"])
    noun = "failed payment" if len(failures) == 1 else "failed payments"
    add(
        "payment_failed",
        points,
        f"{len(failures)} {noun} in the last {rules.payment_window_days} days",
    )


def _interval_days(subscriber: Subscriber) -> float:
    """The subscriber's billing cycle: the shortest interval among live subscriptions."""
    subs = subscriber.live_subscriptions or subscriber.subscriptions
    return min((s.interval_days for s in subs), default=30.44)


def _skip_rule(
    by_type: Mapping[str, list[Signal]], today: date, rules: RiskRules, interval: float, add: Adder
) -> None:
    window = round(rules.skip_cycles * interval)
    skips = _since(by_type.get("skip", []), today, window)
    if rules.skip_min and len(skips) >= rules.skip_min:
        add(
            "skips",
            rules.weights["skips"],
            f"{len(skips)} skipped orders in the last {rules.skip_cycles} billing cycles "
            f"({window} days)",
        )


def _order_rule(
    subscriber: Subscriber,
    by_type: Mapping[str, list[Signal]],
    today: date,
    rules: RiskRules,
    interval: float,
    add: Adder,
) -> None:
    known = [d for d, _ in by_type.get("order", [])]
    if subscriber.last_order and subscriber.last_order <= today:
        known.append(subscriber.last_order)
    if not known:
        return
    gap = (today - max(known)).days
    if gap > rules.no_order_factor * interval:
        add(
            "no_order",
            rules.weights["no_order"],
            f"No order for {gap} days (last on {max(known)}; billed every {round(interval)} days)",
        )
