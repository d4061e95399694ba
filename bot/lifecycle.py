"""Lifecycle milestones: which proactive touches a subscriber is due for on a given day.

Pure functions of a subscriber, a date and `settings.lifecycle`. A milestone is *in window*
from its due day through its last day (`due + expire_days`; win-back: `ended + win_back_to_day`):
the engine creates a task only while the milestone is in window, and an open task expires the
day after its window ends. A task is *overdue* when `today > due + grace_days`.

Keys identify a milestone forever, so the engine never creates it twice:
`{sid}:onboarding`, `{sid}:checkin_30`, `{sid}:pre_renewal:{charge_date}`,
`{sid}:anniversary:{year}`, `{sid}:win_back:{end_date}`, `{sid}:save:{end_date}`.

A scheduled cancellation (every live subscription cancels at period end or does not renew)
is a *save* milestone: a `churn_risk` task due `save_days_before` the day it ends, in window
until that day, keyed by that day, so it is opened once, not reopened after it expires. A
subscription that never paid (`Subscription.never_paid`) is no customer lost: no win-back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache, partial
from typing import Any

import msgspec

from bot.models import ENDED_STATUSES, Subscriber, Subscription, interval_days
from bot.money import subscription_price
from config.rules import LifecycleRules

# Billing intervals are approximate (a month is 30.44 days): "every 3 months" must still count.
INTERVAL_EPSILON = 0.05
FOLLOW_UP_MARK = ":follow_up:"
SAVE_MARK = ":save:"
SAVE_KIND = "churn_risk"


@dataclass(frozen=True)
class Milestone:
    """A touch a subscriber is due for.

    Attributes:
        kind: a task kind (`onboarding`, `checkin_30`, `pre_renewal`, ...).
        key: unique per subscriber and milestone, forever.
        due: the first day it is due.
        expires: the last day it is in window; from the next day it has expired.
        why: why it is due, in words, or what says it when asked (`reason`): planning
            words only the milestones that become tasks.
    """

    kind: str
    key: str
    due: date
    expires: date
    why: str | Callable[[], str]

    @property
    def reason(self) -> str:
        """Why it is due, in words."""
        return self.why if isinstance(self.why, str) else self.why()

    def in_window(self, today: date) -> bool:
        return self.due <= today <= self.expires


def due_milestones(subscriber: Subscriber, today: date, rules: LifecycleRules) -> list[Milestone]:
    """The milestones in window on `today`, earliest due first.

    Onboarding, check-ins, pre-renewal and anniversaries only count for subscribers whose
    status is in `rules.checkin_statuses`; win-back only for subscribers whose subscriptions
    have all ended.
    """
    if subscriber.status in rules.checkin_statuses:
        found = _tenure_milestones(subscriber, today, rules) + _pre_renewals(
            subscriber, today, rules
        )
    else:
        found = _win_back(subscriber, today, rules)
    found += _save(subscriber, today, rules)
    if len(found) > 1:
        found.sort(key=_due_then_key)
    return found


def _due_then_key(m: Milestone) -> tuple[date, str]:
    return m.due, m.key


def _win_back(subscriber: Subscriber, today: date, rules: LifecycleRules) -> list[Milestone]:
    ended = ended_on(subscriber)
    if ended is None:
        return []
    milestone = Milestone(
        "win_back",
        f"{subscriber.id}:win_back:{ended}",
        ended + timedelta(days=rules.win_back_from_day),
        ended + timedelta(days=rules.win_back_to_day),
        f"Ended on {ended}: a win-back touch {rules.win_back_from_day}-"
        f"{rules.win_back_to_day} days after",
    )
    return [milestone] if milestone.in_window(today) else []


def save_end(subscriber: Subscriber) -> date | None:
    """The day a scheduled cancellation takes effect, when it is scheduled and the day known."""
    if not subscriber.scheduled_cancellation:
        return None
    ends = [s.current_period_end for s in subscriber.live_subscriptions if s.current_period_end]
    return max(ends) if ends else None


def _save(subscriber: Subscriber, today: date, rules: LifecycleRules) -> list[Milestone]:
    end = save_end(subscriber)
    if end is None:
        return []
    due = end - timedelta(days=rules.save_days_before)
    milestone = Milestone(SAVE_KIND, f"{subscriber.id}{SAVE_MARK}{end}", due, end, "")
    if not milestone.in_window(today):
        return []
    words = partial(save_reason, subscriber, end)
    return [Milestone(milestone.kind, milestone.key, due, end, words)]


def save_reason(subscriber: Subscriber, end: date) -> str:
    """Why a save task is due: when it ends, and the customer's reason and comment if known."""
    live = subscriber.live_subscriptions
    if all(s.status == "non_renewing" for s in live):
        text = f"Set not to renew: ends on {end}, a save call before then"
    else:
        text = f"Set to cancel on {end}: a save call before it ends"
    reasons = dict.fromkeys(_words(s.cancellation_reason) for s in live if s.cancellation_reason)
    comments = dict.fromkeys(
        " ".join(s.cancellation_comment.split())[:300] for s in live if s.cancellation_comment
    )
    if reasons:
        text += f". Reason: {'; '.join(reasons)}"
    if comments:
        text += ". Comment: " + "; ".join(f"\u201c{c}\u201d" for c in comments)
    return text


def _words(code: str) -> str:
    """A reason code as words: `too_expensive` -> "too expensive"."""
    return " ".join(code.replace("_", " ").split())[:200]


def last_day(kind: str, key: str, due: date, rules: LifecycleRules) -> date:
    """The last day a task of `kind` due on `due` stays in window.

    A win-back task keeps the win-back window (until `win_back_to_day` after the end); a save
    task lasts until the day the cancellation takes effect (in its key); every other task,
    follow-ups included, lasts `expire_days` after it was due.
    """
    if kind == "win_back" and FOLLOW_UP_MARK not in key:
        span = max(rules.win_back_to_day - rules.win_back_from_day, 0)
        return due + timedelta(days=span)
    if SAVE_MARK in key and FOLLOW_UP_MARK not in key:
        end = parse_date_or_none(key.rsplit(SAVE_MARK, 1)[1])
        if end is not None:
            return max(end, due)
    return due + timedelta(days=rules.expire_days)


def parse_date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def started_on(subscriber: Subscriber) -> date | None:
    """When tenure starts: `first_started`, else the earliest subscription start."""
    if subscriber.first_started:
        return subscriber.first_started
    starts = [s.started for s in subscriber.subscriptions if s.started]
    return min(starts) if starts else None


def ended_on(subscriber: Subscriber) -> date | None:
    """When an ended subscriber ended: `Subscriber.ended_on`, else the status change in history.

    None for a customer who never paid (every subscription `never_paid`); a customer with paid
    and never-paid subscriptions ended when the last paid one did.
    """
    subs = subscriber.subscriptions
    if subs and all(s.never_paid for s in subs):
        return None
    if any(s.never_paid for s in subs):
        paid = [s for s in subs if not s.never_paid]
        subscriber = msgspec.structs.replace(subscriber, subscriptions=paid)
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
    sid, span = subscriber.id, rules.expire_days
    tenure = today.toordinal() - start.toordinal()  # (today - start).days, no timedelta
    found: list[Milestone] = []

    def add(kind: str, key: str, due: date, reason: str) -> None:
        found.append(Milestone(kind, key, due, due + timedelta(days=span), reason))

    if 0 <= tenure - rules.onboarding_day <= span:
        add(
            "onboarding",
            f"{sid}:onboarding",
            start + timedelta(days=rules.onboarding_day),
            f"Day {rules.onboarding_day} of a new subscription (started {start})",
        )
    for day in rules.checkin_days:
        if 0 <= tenure - day <= span:
            add(
                f"checkin_{day}",
                f"{sid}:checkin_{day}",
                start + timedelta(days=day),
                f"Day {day} check-in (subscriber since {start})",
            )
    # An anniversary falls in its start's month: only a month the window touches can hold it.
    may_fall = rules.anniversary and tenure > 360 and start.month in _months_back(today, span)
    for year in (today.year - 1, today.year) if may_fall else ():
        years, due = year - start.year, anniversary(start, year)
        if years >= 1 and 0 <= (today - due).days <= span:
            plural = "year" if years == 1 else "years"
            add(
                "anniversary",
                f"{sid}:anniversary:{year}",
                due,
                f"{years} {plural} as a subscriber (since {start})",
            )
    return found


def _pre_renewals(subscriber: Subscriber, today: date, rules: LifecycleRules) -> list[Milestone]:
    found: dict[str, Milestone] = {}
    before, span = rules.pre_renewal_days_before, rules.expire_days
    day = today.toordinal()
    for sub in subscriber.live_subscriptions:
        charge = sub.current_period_end
        if charge is None or not 0 <= day - charge.toordinal() + before <= span:
            continue  # (today - charge).days + before, no timedelta
        long_plan = sub.interval_months >= rules.pre_renewal_min_interval_months - INTERVAL_EPSILON
        renews = sub.status in rules.checkin_statuses and not sub.cancel_at_period_end
        key = f"{subscriber.id}:pre_renewal:{charge}"
        if long_plan and renews and key not in found:
            due = charge - timedelta(days=before)
            found[key] = Milestone(
                "pre_renewal",
                key,
                due,
                due + timedelta(days=span),
                partial(_renewal_reason, sub, charge),
            )
    return list(found.values())


@lru_cache(maxsize=4)
def _months_back(today: date, span: int) -> frozenset[int]:
    """The months of the days from `span` days before `today` through `today`."""
    if span < 0:
        return frozenset()
    if span >= 366:
        return frozenset(range(1, 13))
    return frozenset((today - timedelta(days=n)).month for n in range(span + 1))


def _renewal_reason(sub: Subscription, charge: date) -> str:
    price = subscription_price(sub) or f"billed every {round(sub.interval_months)} months"
    return f"{sub.plan or 'Subscription'} renews on {charge} ({price})"


class MilestoneWindows:
    """A fast, conservative test on a stored subscriber document: can a milestone be in window?

    It compares the document's ISO date strings with the sets of dates that would put a
    milestone in window on `today`, so planning skips most subscribers without parsing them.
    It may say yes when `due_milestones` finds nothing, never no when it would find something.
    """

    def __init__(self, today: date, rules: LifecycleRules) -> None:
        def days_ago(first: int, last: int) -> set[str]:
            return {(today - timedelta(days=n)).isoformat() for n in range(first, last + 1)}

        span = rules.expire_days
        offsets = (rules.onboarding_day, *rules.checkin_days)
        self.starts = set().union(*(days_ago(o, o + span) for o in offsets))
        self.month_days = {d[5:] for d in days_ago(0, span)} if rules.anniversary else set()
        if "02-28" in self.month_days:
            self.month_days.add("02-29")
        self.year_ago = (today - timedelta(days=365)).isoformat()
        before = rules.pre_renewal_days_before
        self.charges = days_ago(-before, span - before)
        self.ends = days_ago(rules.win_back_from_day, rules.win_back_to_day)
        self.min_months = rules.pre_renewal_min_interval_months - INTERVAL_EPSILON
        self.save_ends = days_ago(-rules.save_days_before, 0)

    def _renews_long(self, sub: dict[str, Any]) -> bool:
        """A stored subscription that renews and is billed every few months or more."""
        if sub.get("cancel_at_period_end") or sub.get("status") in ENDED_STATUSES:
            return False
        days = interval_days(sub.get("interval") or "month", sub.get("interval_count") or 1)
        return days / 30.44 >= self.min_months

    def may_have_milestone(self, doc: dict[str, Any]) -> bool:
        subs = doc.get("subscriptions") or []
        start = doc.get("first_started") or min(
            (s["started"] for s in subs if s.get("started")), default=None
        )
        if start and (
            start in self.starts or (start[5:] in self.month_days and start <= self.year_ago)
        ):
            return True
        for s in subs:
            if s.get("current_period_end") in self.charges and self._renews_long(s):
                return True
            if s.get("ended_at") in self.ends or s.get("canceled_at") in self.ends:
                return True
            if s.get("current_period_end") in self.save_ends and (
                s.get("cancel_at_period_end") or s.get("status") == "non_renewing"
            ):
                return True
        return any(str(h.get("at", ""))[:10] in self.ends for h in doc.get("history") or ())
