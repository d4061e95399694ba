"""Care metrics: churn, voluntary and involuntary cancels, cohort retention, NPS, saves, win-backs.

Pure functions of a `Book` (what the data says happened) and a `Period`. Each returns
`Figure`s, which say why when they cannot be computed. Definitions: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    return _no_customers(bool(book.timelines), book.first_day, day)


def _no_customers(any_customer: bool, first: date | None, day: date) -> str:
    if not any_customer:
        return "no subscriber data"
    if first is not None and day < first:
        return f"no customers yet on {day}: the data starts on {first}"
    return f"no customers were active on {day}"


@dataclass
class Counts:
    """Churn and movement over a period, counted one timeline at a time: over a whole book
    (`churn`, `movement`), or while streaming every customer's timeline (the App Home
    headline, `bot.metrics.headline`), with the same figures.

    Churn counts among the customers active at the start (the end of the day before the
    period) those whose spell ended during the period (once, even if they came back later in
    it). Movement counts customers who started, ended and came back during the period, and
    those active at its end.
    """

    period: Period
    customers: int = 0  # timelines added
    first_day: date | None = None  # the earliest start of any of them
    at_start: int = 0
    lost: int = 0
    involuntary: int = 0
    new: int = 0
    ended: int = 0
    back: int = 0
    ended_before: bool = False  # someone's spell ended before the period's last day
    active: int = 0  # at the period's end

    @classmethod
    def of(cls, timelines: Iterable[Timeline], period: Period) -> Counts:
        counts = cls(period)
        for timeline in timelines:
            counts.add(timeline)
        return counts

    def add(self, timeline: Timeline) -> None:
        first, last = self.period.first, self.period.last
        before = first - timedelta(days=1)
        self.customers += 1
        start = timeline.first_start
        if start is not None and (self.first_day is None or start < self.first_day):
            self.first_day = start
        spell = next((s for s in timeline.spells if s.covers(before)), None)
        if spell is not None:
            self.at_start += 1
            if spell.end is not None and spell.end <= last:
                self.lost += 1
                self.involuntary += spell.involuntary
        self.new += start is not None and first <= start <= last
        self.ended += len(timeline.ends_between(first, last))
        self.back += len(timeline.restarts_between(first, last))
        self.ended_before = self.ended_before or any(
            s.end is not None and s.end < last for s in timeline.spells
        )
        self.active += timeline.active_on(last)

    def why_none(self, day: date) -> str:
        return _no_customers(self.customers > 0, self.first_day, day)

    def churn(self) -> dict[str, Figure]:
        """Churn, voluntary and involuntary cancel rates among the customers active at the start."""
        at_start, lost, involuntary = self.at_start, self.lost, self.involuntary
        why = "" if at_start else self.why_none(self.period.first - timedelta(days=1))
        return {
            "customers_at_start": Figure(at_start, COUNT) if at_start else missing(why),
            "churn_rate": rate(lost, at_start, why),
            "voluntary_cancel_rate": rate(lost - involuntary, at_start, why),
            "involuntary_cancel_rate": rate(involuntary, at_start, why),
        }

    def movement(self) -> dict[str, Figure]:
        """Customers who started, ended and came back during the period, and active at its end."""
        active = self.active
        return {
            "active_at_end": Figure(active, COUNT)
            if active
            else missing(self.why_none(self.period.last)),
            "new_customers": Figure(self.new, COUNT),
            "cancellations": Figure(self.ended, COUNT),
            "win_backs": Figure(self.back, COUNT)
            if self.ended_before
            else missing("no customer had ended before the period's last day"),
        }


def churn(book: Book, period: Period) -> dict[str, Figure]:
    """Churn, voluntary and involuntary cancel rates among the customers active at the start."""
    return Counts.of(book.timelines.values(), period).churn()


def movement(book: Book, period: Period) -> dict[str, Figure]:
    """Customers who started, ended and came back during the period, and active at its end."""
    return Counts.of(book.timelines.values(), period).movement()


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
    tally = Cohorts(as_of, months)
    for timeline in book.timelines.values():
        tally.add(timeline)
    return tally.cohorts()


class Cohorts:
    """`retention` counted one timeline at a time: per start month, its size and, for each
    day N, the members N days in and those of them active on that day (the full report
    streams every customer's timeline through it and keeps none)."""

    def __init__(self, as_of: date, months: int = 12) -> None:
        self.as_of, self.first_month = as_of, _month_start(as_of, months - 1)
        self._steps = [timedelta(n) for n in RETENTION_DAYS]
        self._months: dict[str, list[int]] = {}  # month -> [size, (due, kept) per day N]

    def add(self, timeline: Timeline) -> None:
        start, as_of = timeline.first_start, self.as_of
        if start is None or not self.first_month <= start <= as_of:
            return
        month = start.strftime("%Y-%m")
        counts = self._months.get(month)
        if counts is None:
            counts = self._months[month] = [0] * (1 + 2 * len(RETENTION_DAYS))
        counts[0] += 1
        for i, step in enumerate(self._steps):
            day = start + step
            if day <= as_of:
                counts[1 + 2 * i] += 1
                counts[2 + 2 * i] += timeline.active_on(day)

    def cohorts(self) -> list[Cohort]:
        out = []
        for month in sorted(self._months):
            counts = self._months[month]
            cohort = Cohort(month, counts[0])
            for i, n in enumerate(RETENTION_DAYS):
                due, kept = counts[1 + 2 * i], counts[2 + 2 * i]
                cohort.retention[n] = rate(kept, due, f"no member is {n} days in yet")
            out.append(cohort)
        return out


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


def care_figures(book: Book, period: Period, counts: Counts | None = None) -> dict[str, Figure]:
    """Every care number of the period, by name.

    Args:
        counts: the churn and movement counts of every customer, when counted already (the
            headline streams them); else counted from `book`.
    """
    counts = counts or Counts.of(book.timelines.values(), period)
    out = counts.churn() | counts.movement()
    out["nps"] = nps(book, period)
    out["saves"] = saves(book, period, period.last)
    return out
