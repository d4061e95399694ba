"""Care metrics: churn, voluntary and involuntary cancels, cohort retention, NPS, saves, win-backs.

Pure functions of a `Book` (what the data says happened) and a `Period`. Each returns
`Figure`s, which say why when they cannot be computed. Definitions: docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.metrics.figures import COUNT, SCORE, Figure, missing, rate
from bot.metrics.history import Book, Timeline

RETENTION_DAYS = (30, 90, 180, 365)  # 365: the anniversary
SAVE_CONFIRM_DAYS = 30
NPS_PROMOTER_MIN, NPS_DETRACTOR_MAX = 9, 6


@dataclass(frozen=True)
class Period:
    """Local days `first` to `last`, inclusive."""

    first: date
    last: date

    @classmethod
    def ending(cls, last: date, days: int) -> Period:
        if days < 1:
            raise ValueError("a period is at least one day")
        return cls(last - timedelta(days=days - 1), last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def weeks(self) -> list[Period]:
        """The period cut into 7-day periods ending on `last` (the first may be shorter)."""
        out, end = [], self.last
        while end >= self.first:
            out.append(Period(max(self.first, end - timedelta(days=6)), end))
            end -= timedelta(days=7)
        return out[::-1]

    def label(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def no_customers(book: Book, day: date) -> str:
    if not book.timelines:
        return "no subscriber data"
    first = book.first_day
    if first is not None and day < first:
        return f"no customers yet on {day}: the data starts on {first}"
    return f"no customers were active on {day}"


def churn(book: Book, period: Period) -> dict[str, Figure]:
    """Churn, voluntary and involuntary cancel rates among the customers active at the start.

    The start is the end of the day before the period. A customer lost is one of those whose
    spell ended during the period (counted once, even if they came back later in it).
    """
    before = period.first - timedelta(days=1)
    at_start = lost = involuntary = 0
    for timeline in book.timelines.values():
        spell = next((s for s in timeline.spells if s.covers(before)), None)
        if spell is None:
            continue
        at_start += 1
        if spell.end is not None and spell.end <= period.last:
            lost += 1
            involuntary += spell.involuntary
    why = "" if at_start else no_customers(book, before)
    return {
        "customers_at_start": Figure(at_start, COUNT) if at_start else missing(why),
        "churn_rate": rate(lost, at_start, why),
        "voluntary_cancel_rate": rate(lost - involuntary, at_start, why),
        "involuntary_cancel_rate": rate(involuntary, at_start, why),
    }


def movement(book: Book, period: Period) -> dict[str, Figure]:
    """Customers who started, ended and came back during the period, and active at its end."""
    new = ended = back = 0
    ended_before = False
    for timeline in book.timelines.values():
        first = timeline.first_start
        new += first is not None and period.first <= first <= period.last
        ended += len(timeline.ends_between(period.first, period.last))
        back += len(timeline.restarts_between(period.first, period.last))
        ended_before = ended_before or any(
            s.end is not None and s.end < period.last for s in timeline.spells
        )
    active = book.active_on(period.last)
    return {
        "active_at_end": Figure(active, COUNT)
        if active
        else missing(no_customers(book, period.last)),
        "new_customers": Figure(new, COUNT),
        "cancellations": Figure(ended, COUNT),
        "win_backs": Figure(back, COUNT)
        if ended_before
        else missing("no customer had ended before the period's last day"),
    }


@dataclass
class Cohort:
    """Customers whose first spell started in one calendar month."""

    month: str  # "2026-01"
    size: int
    retention: dict[int, Figure] = field(default_factory=dict)  # day -> share still active


def retention(book: Book, as_of: date, months: int = 12) -> list[Cohort]:
    """Day-30/90/180/365 retention of the start-month cohorts of the last `months` months.

    A member counts for day N once N days have passed since their start (on `as_of`), and is
    retained when active on that day, whatever happened between (a customer who left and came
    back by day N counts as retained).
    """
    first_month = _month_start(as_of, months - 1)
    members: dict[str, list[Timeline]] = {}
    for timeline in book.timelines.values():
        start = timeline.first_start
        if start is not None and first_month <= start <= as_of:
            members.setdefault(start.strftime("%Y-%m"), []).append(timeline)
    cohorts = []
    for month in sorted(members):
        group = members[month]
        cohort = Cohort(month, len(group))
        for n in RETENTION_DAYS:
            due = [t for t in group if t.first_start and t.first_start + timedelta(n) <= as_of]
            kept = sum(
                1 for t in due if t.first_start and t.active_on(t.first_start + timedelta(n))
            )
            cohort.retention[n] = rate(kept, len(due), f"no member is {n} days in yet")
        cohorts.append(cohort)
    return cohorts


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def nps(book: Book, period: Period) -> Figure:
    """Net Promoter Score from each customer's latest 0-10 answer in the period."""
    latest: dict[str, float] = {}
    invalid = 0
    for signal in book.signals_between("nps", period.first, period.last):
        if signal.value is None or not 0 <= signal.value <= 10:
            invalid += 1
            continue
        latest[signal.subscriber_id] = signal.value
    if not latest:
        why = "no NPS answers in the period"
        return Figure(
            None, SCORE, 0, why + (f" ({invalid} out of 0-10 left out)" if invalid else "")
        )
    promoters = sum(1 for v in latest.values() if v >= NPS_PROMOTER_MIN)
    detractors = sum(1 for v in latest.values() if v <= NPS_DETRACTOR_MAX)
    detail = {"promoters": promoters, "passives": len(latest) - promoters - detractors}
    detail |= {"detractors": detractors, "invalid": invalid}
    return Figure(
        round(100 * (promoters - detractors) / len(latest)), SCORE, len(latest), "", detail
    )


def saves(book: Book, period: Period, as_of: date) -> Figure:
    """Outreach logged "saved" in the period whose customer was still active 30 days later.

    `detail` splits the saves logged into confirmed, lost (not active 30 days later) and pending
    (30 days have not passed by `as_of`).
    """
    touches = book.touches_between(period.first, period.last)
    if not touches:
        return missing("no outreach logged in the period")
    confirmed = lost = pending = 0
    for touch in touches:
        if touch.outcome != "saved":
            continue
        check = touch.day + timedelta(SAVE_CONFIRM_DAYS)
        timeline = book.timelines.get(touch.subscriber_id)
        if check > as_of:
            pending += 1
        elif timeline is not None and timeline.active_on(check):
            confirmed += 1
        else:
            lost += 1
    detail = {"logged": confirmed + lost + pending, "pending": pending, "lost": lost}
    return Figure(confirmed, COUNT, confirmed + lost + pending, "", detail)


def care_figures(book: Book, period: Period) -> dict[str, Figure]:
    """Every care number of the period, by name."""
    out = churn(book, period) | movement(book, period)
    out["nps"] = nps(book, period)
    out["saves"] = saves(book, period, period.last)
    return out
