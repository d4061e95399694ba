"""The metrics report: care, service and team numbers for one period, as of one day.

`build_report` reads the repositories once and computes everything from stored history; it
writes nothing. The terminal, Slack and CSV views all render the same `MetricsReport`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.bulk import paused_gc
from bot.metrics.care import Cohort, Period, care_figures, no_customers, retention
from bot.metrics.figures import Figure, rate
from bot.metrics.history import Book
from bot.metrics.outcomes import Comparison, OutreachOutcomes, outreach_outcomes, reached_vs_not
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
    repos: Repos, settings: Settings, as_of: date, days: int, now: datetime
) -> MetricsReport:
    """Compute the report for the `days` days ending on `as_of` (team timezone).

    Args:
        repos: the repositories (only read).
        settings: timezone and business hours.
        as_of: the period's last day.
        days: the period's length.
        now: the current time; team numbers count up to the end of `as_of` or `now`,
            whichever is earlier.
    """
    with paused_gc():  # a bulk pass: see bot.bulk
        return _build(repos, settings, as_of, days, now)


def _build(
    repos: Repos, settings: Settings, as_of: date, days: int, now: datetime
) -> MetricsReport:
    tz = settings.timezone
    book = Book.load(repos, tz)
    period = Period.ending(as_of, days)
    items = list(repos.inbox.items())
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tz).astimezone(UTC)
    team = team_stats(repos, min(now, end_of_day), days)
    service = service_figures(items, book, period, settings.triage, tz)
    skipped: dict[str, int] = {}
    for why in book.skipped.values():
        skipped[why] = skipped.get(why, 0) + 1
    report = MetricsReport(
        period=period,
        generated_at=now,
        care=care_figures(book, period),
        service=service,
        team=team,
        cohorts=retention(book, as_of),
        skipped=skipped,
    )
    since = as_of - timedelta(days=OUTCOME_LOOKBACK_DAYS - 1)
    report.outcomes = outreach_outcomes(book, since, as_of, as_of)
    report.comparisons = reached_vs_not(book, repos.tasks.raw(), since, as_of, as_of)
    report.patterns = intent_patterns(items, as_of, tz)
    report.weeks = weekly(book, items, Period.ending(as_of, max(days, 7 * 12)), settings)
    return report


def weekly(book: Book, items: list[Any], span: Period, settings: Settings) -> list[Week]:
    """Per-week cancellations, churn, saves logged and first-response median over `span`.

    One pass over the customers counts every week at once; each spell finds its weeks by
    bisection (the week its end falls in, the run of weeks whose eve it covers), so the pass
    costs the same whatever the number of weeks.
    """
    weeks = span.weeks()
    firsts = [w.first for w in weeks]
    starts = [w.first - timedelta(days=1) for w in weeks]  # the eve of each week
    span_first, span_last = weeks[0].first, weeks[-1].last
    covering = [0] * (len(weeks) + 1)  # differences: spells covering each week's eve
    lost, ended = [0] * len(weeks), [0] * len(weeks)
    for timeline in book.timelines.values():
        for spell in timeline.spells:
            end = spell.end
            lo = bisect_left(starts, spell.start)
            hi = len(weeks) if end is None else bisect_left(starts, end)
            if lo < hi:
                covering[lo] += 1
                covering[hi] -= 1
            if end is not None and span_first <= end <= span_last:
                i = bisect_right(firsts, end) - 1  # the week `end` falls in
                ended[i] += 1
                lost[i] += spell.start <= starts[i]  # active on its eve, lost in it
    out = []
    at_start = 0
    for i, week in enumerate(weeks):
        at_start += covering[i]
        saves = sum(1 for t in book.touches_between(week.first, week.last) if t.outcome == "saved")
        frt = service_figures(items, book, week, settings.triage, settings.timezone)
        why = "" if at_start else no_customers(book, starts[i])
        out.append(
            Week(week, ended[i], rate(lost[i], at_start, why), saves, frt["first_response_median"])
        )
    return out
