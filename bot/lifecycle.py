"""Lifecycle milestones: which proactive touches a subscriber is due for on a given day.

Pure functions of a subscriber, a date and `settings.lifecycle`. A milestone is *in window*
from its due day through its last day (`due + expire_days`; win-back: `ended + win_back_to_day`):
the engine creates a task only while the milestone is in window, and an open task expires the
day after its window ends. A task is *overdue* when `today > due + grace_days`.

Keys identify a milestone forever, so the engine never creates it twice:
`{sid}:onboarding`, `{sid}:checkin_30`, `{sid}:pre_renewal:{charge_date}`,
`{sid}:anniversary:{year}`, `{sid}:win_back:{end_date}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.models import ENDED_STATUSES, Subscriber, Task
from config.settings import LifecycleRules

# Billing intervals are approximate (a month is 30.44 days): "every 3 months" must still count.
INTERVAL_EPSILON = 0.05
FOLLOW_UP_MARK = ":follow_up:"


@dataclass(frozen=True)
class Milestone:
    """A touch a subscriber is due for.

    Attributes:
        kind: a task kind (`onboarding`, `checkin_30`, `pre_renewal`, ...).
        key: unique per subscriber and milestone, forever.
        due: the first day it is due.
        expires: the last day it is in window; from the next day it has expired.
        reason: why it is due, in words.
    """

    kind: str
    key: str
    due: date
    expires: date
    reason: str

    def in_window(self, today: date) -> bool:
        return self.due <= today <= self.expires


def due_milestones(subscriber: Subscriber, today: date, rules: LifecycleRules) -> list[Milestone]:
    """The milestones in window on `today`, earliest due first.

    Onboarding, check-ins, pre-renewal and anniversaries only count for subscribers whose
    status is in `rules.checkin_statuses`; win-back only for subscribers whose subscriptions
    have all ended.
    """
    found = [m for m in candidate_milestones(subscriber, today, rules) if m.in_window(today)]
    return sorted(found, key=lambda m: (m.due, m.key))


def candidate_milestones(
    subscriber: Subscriber, today: date, rules: LifecycleRules
) -> list[Milestone]:
    """Every milestone that could be in window around `today` (due or not yet)."""
    if subscriber.status in rules.checkin_statuses:
        return [
            *_tenure_milestones(subscriber, today, rules),
            *_pre_renewals(subscriber, rules),
        ]
    ended = ended_on(subscriber)
    if ended is None:
        return []
    due = ended + timedelta(days=rules.win_back_from_day)
    return [
        Milestone(
            "win_back",
            f"{subscriber.id}:win_back:{ended}",
            due,
            ended + timedelta(days=rules.win_back_to_day),
            f"Ended on {ended}: a win-back touch {rules.win_back_from_day}-"
            f"{rules.win_back_to_day} days after",
        )
    ]


def task_last_day(task: Task, rules: LifecycleRules) -> date:
    """The last day an open task stays in window; it expires the day after."""
    return last_day(task.kind, task.key, task.due, rules)


def last_day(kind: str, key: str, due: date, rules: LifecycleRules) -> date:
    """The last day a task of `kind` due on `due` stays in window.

    A win-back task keeps the win-back window (until `win_back_to_day` after the end); every
    other task, follow-ups included, lasts `expire_days` after it was due.
    """
    if kind == "win_back" and FOLLOW_UP_MARK not in key:
        span = max(rules.win_back_to_day - rules.win_back_from_day, 0)
        return due + timedelta(days=span)
    return due + timedelta(days=rules.expire_days)


def started_on(subscriber: Subscriber) -> date | None:
    """When tenure starts: `first_started`, else the earliest subscription start."""
    if subscriber.first_started:
        return subscriber.first_started
    starts = [s.started for s in subscriber.subscriptions if s.started]
    return min(starts) if starts else None


def ended_on(subscriber: Subscriber) -> date | None:
    """When an ended subscriber ended: `Subscriber.ended_on`, else the status change in history."""
    if subscriber.ended_on:
        return subscriber.ended_on
    if subscriber.status not in ENDED_STATUSES:
        return None
    changes = [
        h.get("at")
        for h in subscriber.history
        if h.get("field") == "status" and h.get("to") in ENDED_STATUSES and h.get("at")
    ]
    if not changes:
        return None
    return date.fromisoformat(str(max(str(c) for c in changes))[:10])


def anniversary(start: date, year: int) -> date:
    """The start date's anniversary in `year` (Feb 29 falls on Feb 28 in other years)."""
    try:
        return start.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _tenure_milestones(
    subscriber: Subscriber, today: date, rules: LifecycleRules
) -> list[Milestone]:
    start = started_on(subscriber)
    if start is None:
        return []
    sid, window = subscriber.id, timedelta(days=rules.expire_days)
    found = []

    def add(kind: str, key: str, due: date, reason: str) -> None:
        found.append(Milestone(kind, key, due, due + window, reason))

    add(
        "onboarding",
        f"{sid}:onboarding",
        start + timedelta(days=rules.onboarding_day),
        f"Day {rules.onboarding_day} of a new subscription (started {start})",
    )
    for day in rules.checkin_days:
        add(
            f"checkin_{day}",
            f"{sid}:checkin_{day}",
            start + timedelta(days=day),
            f"Day {day} check-in (subscriber since {start})",
        )
    if rules.anniversary:
        for year in (today.year - 1, today.year):
            years = year - start.year
            if years >= 1:
                plural = "year" if years == 1 else "years"
                add(
                    "anniversary",
                    f"{sid}:anniversary:{year}",
                    anniversary(start, year),
                    f"{years} {plural} as a subscriber (since {start})",
                )
    return found


def _pre_renewals(subscriber: Subscriber, rules: LifecycleRules) -> list[Milestone]:
    found: dict[str, Milestone] = {}
    before = timedelta(days=rules.pre_renewal_days_before)
    for sub in subscriber.live_subscriptions:
        charge = sub.current_period_end
        long_plan = sub.interval_months >= rules.pre_renewal_min_interval_months - INTERVAL_EPSILON
        renews = sub.status in rules.checkin_statuses and not sub.cancel_at_period_end
        if charge is None or not long_plan or not renews:
            continue
        key = f"{subscriber.id}:pre_renewal:{charge}"
        due = charge - before
        found.setdefault(
            key,
            Milestone(
                "pre_renewal",
                key,
                due,
                due + timedelta(days=rules.expire_days),
                f"{sub.plan or 'Subscription'} renews on {charge} "
                f"(billed every {round(sub.interval_months)} months)",
            ),
        )
    return list(found.values())
