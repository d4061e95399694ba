"""The metrics report: care, service and team numbers for one period, as of one day.

`build_report` reads the repositories once, the subscribers one at a time, and computes
everything from stored history; it writes nothing. The terminal, Slack and CSV views all render the same `MetricsReport`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.bulk import paused_gc, yielding
from bot.metrics.care import Cohort, Cohorts, Counts, Period, care_figures, no_customers
from bot.metrics.figures import Figure, rate
from bot.metrics.headline import ANY_DAY, IN_PERIOD
from bot.metrics.history import Book, Timeline, timelines_of
from bot.metrics.outcomes import (
    OUTCOME_SIGNALS,
    Comparison,
    OutreachOutcomes,
    TaskLosses,
    outreach_outcomes,
)
from bot.metrics.patterns import Pattern, intent_patterns
from bot.metrics.service import service_figures
from bot.repos import Repos
from bot.stats import TeamStats, team_stats
from config import Settings

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
# Outcomes of outreach need 30-60 days to show: they look at the last 180 days, whatever the period.
OUTCOME_LOOKBACK_DAYS = 180

LABELS = {
    "customers_at_start": "Customers at the start",
    "active_at_end": "Customers at the end",
    "new_customers": "New customers",
    "cancellations": "Cancellations",
    "churn_rate": "Churn rate",
    "voluntary_cancel_rate": "Voluntary cancel rate",
    "involuntary_cancel_rate": "Involuntary cancel rate",
    "win_backs": "Win-backs (ended customers who restarted)",
    "nps": "NPS",
    "saves": "Saves (active 30 days later)",
    "tickets": "Tickets",
    "first_response_median": "First response, median (business hours)",
    "first_response_p90": "First response, p90 (business hours)",
    "resolution_median": "Resolution, median (business hours)",
    "resolution_p90": "Resolution, p90 (business hours)",
    "first_contact_resolution": "First-contact resolution",
    "csat": "CSAT (4 or 5 out of 5)",
}


@dataclass
class Week:
    """One week's line of the charts."""

    period: Period
    cancellations: int
    churn_rate: Figure
    saves_logged: int
    first_response_median: Figure


@dataclass
class MetricsReport:
    period: Period
    generated_at: datetime
    care: dict[str, Figure]
    service: dict[str, Figure]
    team: TeamStats
    cohorts: list[Cohort]
    weeks: list[Week] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # why -> subscribers left out
    outcomes: OutreachOutcomes = field(default_factory=OutreachOutcomes)
    comparisons: list[Comparison] = field(default_factory=list)
    patterns: list[Pattern] = field(default_factory=list)

    def figures(self) -> dict[str, Figure]:
        return {**self.care, **self.service}

    def to_json(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period.first.isoformat(), "to": self.period.last.isoformat()},
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "care": {k: f.to_json() for k, f in self.care.items()},
            "service": {k: f.to_json() for k, f in self.service.items()},
            "team": _team_json(self.team),
            "retention": [
                {
                    "cohort": c.month,
                    "size": c.size,
                    **{f"day_{n}": f.to_json() for n, f in c.retention.items()},
                }
                for c in self.cohorts
            ],
            "weeks": [
                {
                    "from": w.period.first.isoformat(),
                    "to": w.period.last.isoformat(),
                    "cancellations": w.cancellations,
                    "churn_rate": w.churn_rate.to_json(),
                    "saves_logged": w.saves_logged,
                    "first_response_median": w.first_response_median.to_json(),
                }
                for w in self.weeks
            ],
            "left_out": self.skipped,
            "outreach_outcomes": {"days": OUTCOME_LOOKBACK_DAYS, **self.outcomes.to_json()},
            "reached_vs_not_reached": [c.to_json() for c in self.comparisons],
            "inbox_patterns": [p.to_json() for p in self.patterns],
        }


def _team_json(team: TeamStats) -> dict[str, Any]:
    return {
        "due": team.due,
        "claimed": team.claimed,
        "done": team.done,
        "expired": team.expired,
        "automated": team.automated,  # closed by the bot's own email (tech touch)
        "open_now": team.open_now,
        "median_claim_minutes": team.median_claim_minutes,
        "outcomes": dict(team.outcomes),
        "per_manager": {k: vars(v) for k, v in team.per_manager.items()},
    }


def build_report(
    repos: Repos,
    settings: Settings,
    as_of: date,
    days: int,
    now: datetime,
    pause: Callable[[], bool] | None = None,
) -> MetricsReport:
    """Compute the report for the `days` days ending on `as_of` (team timezone).

    One pass over the subscribers' documents, one decoded at a time: each customer's
    timeline is counted into every figure that reads all customers (churn and movement,
    cohorts, the weekly lines, the tasks' losses) and dropped, unless an outreach of the
    outcomes' 180 days names them. Of the events it keeps only the signals the figures read.
    Its memory grows with the outreach, tickets, answers and tasks of the period, and with
    each customer's payment events (as the headline's, `bot.metrics.headline`), not with
    the number of customers. The figures are those of the same functions over a whole `Book`.

    Args:
        repos: the repositories (only read).
        settings: timezone and business hours.
        as_of: the period's last day.
        days: the period's length.
        now: the current time; team numbers count up to the end of `as_of` or `now`,
            whichever is earlier.
        pause: waits while a Slack request is in flight (`bot.activity.Activity.pause`):
            the passes over events and subscribers stop then (`bot.bulk.yielding`).
    """
    with paused_gc():  # a bulk pass: see bot.bulk
        return _build(repos, settings, as_of, days, now, pause)


def _build(
    repos: Repos,
    settings: Settings,
    as_of: date,
    days: int,
    now: datetime,
    pause: Callable[[], bool] | None,
) -> MetricsReport:
    tz = settings.timezone
    period = Period.ending(as_of, days)
    span = Period.ending(as_of, max(days, 7 * 12))  # the weekly lines'
    since = as_of - timedelta(days=OUTCOME_LOOKBACK_DAYS - 1)
    book = Book(tz)
    book.read_touches(repos)
    touched = {t.subscriber_id for t in book.touches_between(since, as_of)}
    touched |= {t.subscriber_id for t in book.touches_between(period.first, period.last)}

    def needed(sid: str, kind: str, day: date) -> bool:
        if kind in ANY_DAY:
            return True  # a ticket's first reply and solving, whenever they came
        if kind in OUTCOME_SIGNALS:
            return sid in touched
        if kind == "support_contact":
            return span.first <= day <= span.last
        return kind in IN_PERIOD and period.first <= day <= period.last

    events = repos.events.raw_by_subscriber().items()
    payments = book.read_events(yielding(events, pause=pause), needed)
    losses = TaskLosses(repos.tasks.raw(), since, as_of, as_of)
    counts, cohorts, weeks = Counts(period), Cohorts(as_of), WeekTally(span)
    skipped: dict[str, int] = {}
    for sid, timeline, why in timelines_of(
        yielding(repos.subscribers.iter_raw(), pause=pause), payments
    ):
        if timeline is None:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        counts.add(timeline)
        cohorts.add(timeline)
        weeks.add(timeline)
        losses.add(timeline)
        if sid in touched:
            book.timelines[sid] = timeline
    del payments
    items = list(repos.inbox.items())
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tz).astimezone(UTC)
    report = MetricsReport(
        period=period,
        generated_at=now,
        care=care_figures(book, period, counts),
        service=service_figures(items, book, period, settings.triage, tz),
        team=team_stats(repos, min(now, end_of_day), days),
        cohorts=cohorts.cohorts(),
        skipped=skipped,
    )
    report.outcomes = outreach_outcomes(book, since, as_of, as_of)
    report.comparisons = losses.comparisons()
    report.patterns = intent_patterns(items, as_of, tz)
    report.weeks = weeks.lines(book, items, settings, counts.why_none)
    return report


def weekly(book: Book, items: list[Any], span: Period, settings: Settings) -> list[Week]:
    """Per-week cancellations, churn, saves logged and first-response median over `span`."""
    tally = WeekTally(span)
    for timeline in book.timelines.values():
        tally.add(timeline)
    return tally.lines(book, items, settings, lambda day: no_customers(book, day))


class WeekTally:
    """The weekly lines' customer counts, one timeline at a time: every week at once; each
    spell finds its weeks by bisection (the week its end falls in, the run of weeks whose
    eve it covers), so a timeline costs the same whatever the number of weeks."""

    def __init__(self, span: Period) -> None:
        self.weeks = span.weeks()
        self._firsts = [w.first for w in self.weeks]
        self._starts = [w.first - timedelta(days=1) for w in self.weeks]  # each week's eve
        self._first, self._last = self.weeks[0].first, self.weeks[-1].last
        self._covering = [0] * (len(self.weeks) + 1)  # differences: spells covering each eve
        self._lost, self._ended = [0] * len(self.weeks), [0] * len(self.weeks)

    def add(self, timeline: Timeline) -> None:
        starts, covering = self._starts, self._covering
        for spell in timeline.spells:
            end = spell.end
            lo = bisect_left(starts, spell.start)
            hi = len(starts) if end is None else bisect_left(starts, end)
            if lo < hi:
                covering[lo] += 1
                covering[hi] -= 1
            if end is not None and self._first <= end <= self._last:
                i = bisect_right(self._firsts, end) - 1  # the week `end` falls in
                self._ended[i] += 1
                self._lost[i] += spell.start <= starts[i]  # active on its eve, lost in it

    def lines(
        self, book: Book, items: list[Any], settings: Settings, why_none: Callable[[date], str]
    ) -> list[Week]:
        """The weeks' lines: saves from `book`'s touches, first responses from its signals
        and `items`; `why_none(day)` says why no customer was active on a week's eve."""
        out = []
        at_start = 0
        for i, week in enumerate(self.weeks):
            at_start += self._covering[i]
            saves = sum(
                1 for t in book.touches_between(week.first, week.last) if t.outcome == "saved"
            )
            frt = service_figures(items, book, week, settings.triage, settings.timezone)
            why = "" if at_start else why_none(self._starts[i])
            lost = rate(self._lost[i], at_start, why)
            out.append(Week(week, self._ended[i], lost, saves, frt["first_response_median"]))
        return out
