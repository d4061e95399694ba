"""Backtest: replay the stored history day by day with the risk rules, and see who then left.

For every day from `first` to `last` each subscriber is scored with `bot.risk.score` on what
was known that day (`bot.metrics.replay.known_on`, events up to that local day). A subscriber
is *flagged* on the days their band is high; a *flag* is a run of such days, counted from its
first day. A *cancellation* is the end of a customer's spell (`bot.metrics.history`).

- Precision: flags followed by the customer's cancellation within `horizon` days (90) / flags
  whose horizon has passed by the data's last day (later flags are *pending*, left out).
- Recall: cancellations from `first` to `last` that a flag preceded (the customer was high
  on a day in the `horizon` days before the end) / those cancellations.
- Warning: for each cancellation caught, days from the earliest flagged day in that window to
  the end; the median.
- Per rule: how often it started firing (a run of days it was among the reasons), and how
  often such a start was followed by a cancellation within 30, 60 and 90 days.

Nothing is written: it reads the repositories and returns numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from statistics import median
from typing import Any

from bot.bulk import paused_gc
from bot.metrics.history import LocalDays, timeline_of
from bot.metrics.replay import known_on, quiet, relevant, signal_days, snapshot_days
from bot.models import Risk
from bot.repos import Repos
from bot.risk import Signal, group_signals, score_grouped
from config.rules import RiskRules

HORIZON_DAYS = 90
RULE_HORIZONS = (30, 60, 90)


@dataclass
class RuleCount:
    fired: int = 0
    judged: int = 0  # starts whose 90 days have passed by the data's last day
    followed: dict[int, int] = field(default_factory=lambda: dict.fromkeys(RULE_HORIZONS, 0))


@dataclass
class BacktestResult:
    first: date
    last: date
    data_end: date
    horizon: int
    flags: int = 0
    judged_flags: int = 0
    hits: int = 0
    cancellations: int = 0
    caught: int = 0
    warning_days: list[int] = field(default_factory=list)
    rules: dict[str, RuleCount] = field(default_factory=dict)
    subscribers: int = 0
    scored: int = 0  # scores computed (change days x subscribers)

    @property
    def precision(self) -> float | None:
        return round(100 * self.hits / self.judged_flags, 1) if self.judged_flags else None

    @property
    def recall(self) -> float | None:
        return round(100 * self.caught / self.cancellations, 1) if self.cancellations else None

    @property
    def median_warning_days(self) -> float | None:
        return median(self.warning_days) if self.warning_days else None

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "data_end": self.data_end.isoformat(),
            "horizon_days": self.horizon,
            "subscribers": self.subscribers,
            "flags": self.flags,
            "flags_judged": self.judged_flags,
            "flags_followed_by_cancel": self.hits,
            "precision": self.precision,
            "cancellations": self.cancellations,
            "cancellations_flagged": self.caught,
            "recall": self.recall,
            "median_warning_days": self.median_warning_days,
            "rules": {
                name: {
                    "fired": r.fired,
                    "judged": r.judged,
                    **{f"cancel_within_{n}d": r.followed[n] for n in RULE_HORIZONS},
                }
                for name, r in sorted(self.rules.items())
            },
        }


def backtest(
    repos: Repos,
    rules: RiskRules,
    tz: tzinfo,
    first: date,
    last: date,
    data_end: date,
    horizon: int = HORIZON_DAYS,
) -> BacktestResult:
    """Replay `first`..`last` with `rules`; `data_end` is the last day the data covers."""
    if last < first:
        raise ValueError("--to is before --from")
    events = repos.events.raw_by_subscriber()
    with paused_gc():
        return replay(
            repos.subscribers.iter_raw(), events, rules, tz, first, last, data_end, horizon
        )


def replay(
    docs: Iterable[Mapping[str, Any]],
    event_docs: Mapping[str, list[dict[str, Any]]],
    rules: RiskRules,
    tz: tzinfo,
    first: date,
    last: date,
    data_end: date,
    horizon: int = HORIZON_DAYS,
) -> BacktestResult:
    result = BacktestResult(first, last, data_end, horizon)
    local = LocalDays(tz)
    for doc in docs:
        result.subscribers += 1
        dated = [_dated(d, local) for d in event_docs.get(doc["id"], ())]
        timeline, _ = timeline_of(doc, [(d, kind) for d, kind, _ in dated])
        ends = sorted(s.end for s in timeline.spells if s.end is not None)
        events = relevant(dated, first, rules, doc)
        if quiet(doc, events):
            _judge([], ends, result)
            continue
        snaps = {d for d in snapshot_days(doc) if first < d <= last}
        signals = {
            d for d in signal_days(doc, [(d, k) for d, k, _ in dated], rules) if first < d <= last
        }
        runs = _score_runs(
            doc, group_signals(events), rules, first, sorted(snaps | signals), snaps, last, result
        )
        _judge(runs, ends, result)
    return result


# An event as the rules read it: (type, time, local day, value); see bot.risk.group_signals.
Dated = tuple[str, datetime, date, float | None]


def _dated(doc: Mapping[str, Any], local: LocalDays) -> tuple[date, str, Dated]:
    """A stored event document (read by its repository already) without building a model."""
    at, day = local.parse(doc["at"])
    value = doc.get("value")
    kind = doc["type"]
    return day, kind, (kind, at, day, None if value is None else float(value))


# A stretch of days with one score: (first day, last day, risk)
Run = tuple[date, date, Risk]


def _score_runs(
    doc: Mapping[str, Any],
    grouped: dict[str, list[Signal]],
    rules: RiskRules,
    first: date,
    changes: list[date],
    snaps: set[date],
    last: date,
    result: BacktestResult,
) -> list[Run]:
    """Score on `first` and on each change day; a subscriber is rebuilt only on `snaps` days."""
    runs: list[Run] = []
    points = [first, *changes]
    sub = None
    for i, day in enumerate(points):
        if i == 0 or day in snaps:
            sub = known_on(doc, day)
        if sub is None:
            continue
        until = points[i + 1] - timedelta(days=1) if i + 1 < len(points) else last
        result.scored += 1
        by_type = {k: [s for s in v if s[0] <= day] for k, v in grouped.items()}
        risk = score_grouped(sub, by_type, day, rules)
        if risk.reasons:
            runs.append((day, until, risk))
    return runs


def _starts(runs: list[Run], keep: Any) -> list[tuple[date, date]]:
    """Merged stretches of consecutive days where `keep(risk)` holds: (first, last)."""
    out: list[tuple[date, date]] = []
    for start, end, risk in runs:
        if not keep(risk):
            continue
        if out and out[-1][1] + timedelta(days=1) == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _next_end(ends: list[date], after: date) -> date | None:
    return next((e for e in ends if e > after), None)


def _judge(runs: list[Run], ends: list[date], result: BacktestResult) -> None:
    flags = _starts(runs, lambda r: r.band == "high")
    for start, _ in flags:
        result.flags += 1
        end = _next_end(ends, start)
        if start + timedelta(days=result.horizon) <= result.data_end:
            result.judged_flags += 1
            result.hits += end is not None and (end - start).days <= result.horizon
    for end in ends:
        if not result.first <= end <= result.last:
            continue
        result.cancellations += 1
        window_start = end - timedelta(days=result.horizon)
        flagged = [max(s, window_start) for s, e in flags if s < end and e >= window_start]
        if flagged:
            result.caught += 1
            result.warning_days.append((end - min(flagged)).days)
    names = {r.rule for *_, risk in runs for r in risk.reasons}
    for name in names:
        count = result.rules.setdefault(name, RuleCount())
        for start, _ in _starts(runs, lambda r, n=name: any(x.rule == n for x in r.reasons)):
            count.fired += 1
            if start + timedelta(days=max(RULE_HORIZONS)) <= result.data_end:
                count.judged += 1
                end = _next_end(ends, start)
                for n in RULE_HORIZONS:
                    count.followed[n] += end is not None and (end - start).days <= n


def data_end_of(now: datetime, tz: tzinfo) -> date:
    return now.astimezone(tz).date()
