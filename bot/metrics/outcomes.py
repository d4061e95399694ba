"""Outcomes of outreach: what became of each customer 30 and 60 days after a touch, and
whether customers the team reached fared better than those it did not reach.

- Every logged outreach gets an outcome at 30 and 60 days from the billing history: cancelled
  (a spell ended in between), paused, downgraded, payment recovered, renewed (an order) or
  still active, in that order of precedence; *pending* while the day has not come.
- Reached against not reached: tasks closed with an outreach that reached the customer
  (reached, saved, lost, follow-up) against tasks that expired unhandled, of the same kind and
  risk band, and the share of each whose customer was lost within 60 days of the task's due
  date (tasks whose 60 days have not passed are left out). Churn-risk tasks held out of the
  digest (`[care] holdout_percent`, bot/holdout.py) are a third group, whatever became of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.metrics.figures import Figure, rate
from bot.metrics.history import Book, Timeline

OUTCOME_DAYS = (30, 60)
STATES = ("cancelled", "paused", "downgraded", "payment_recovered", "renewed", "active")
REACHED = frozenset({"reached", "saved", "lost", "follow_up"})
LOST_WITHIN = 60


OUTCOME_SIGNALS = ("pause", "resume", "downgrade", "payment_recovered", "order")
# A customer's outcome signals: kind -> local days, oldest first.
Days = dict[str, list[date]]


def signal_days(book: Book, wanted: Collection[str] | None = None) -> dict[str, Days]:
    """The signals outcomes read, by subscriber (only those in `wanted`, when given)."""
    out: dict[str, Days] = {}
    for kind in OUTCOME_SIGNALS:
        for signal in book.signals.get(kind, ()):
            if wanted is None or signal.subscriber_id in wanted:
                out.setdefault(signal.subscriber_id, {}).setdefault(kind, []).append(signal.day)
    return out


def state_after(timeline: Timeline | None, days: Days, day: date, check: date) -> str:
    """What became of a customer from `day` to `check` (see the module's precedence)."""
    if timeline is None or timeline.ends_between(day + timedelta(days=1), check):
        return "cancelled"
    if not timeline.active_on(check):
        return "cancelled"
    pauses = [d for d in days.get("pause", ()) if d <= check]
    resumes = [d for d in days.get("resume", ()) if d <= check]
    if pauses and (not resumes or max(resumes) < max(pauses)):
        return "paused"
    for kind, state in (
        ("downgrade", "downgraded"),
        ("payment_recovered", "payment_recovered"),
        ("order", "renewed"),
    ):
        if any(day < d <= check for d in days.get(kind, ())):
            return state
    return "active"


@dataclass
class OutreachOutcomes:
    """Counts of states per horizon (30, 60), over outreach logged in the period."""

    logged: int = 0
    states: dict[int, dict[str, int]] = field(
        default_factory=lambda: {n: dict.fromkeys((*STATES, "pending"), 0) for n in OUTCOME_DAYS}
    )

    def to_json(self) -> dict[str, Any]:
        return {"logged": self.logged, **{f"after_{n}_days": s for n, s in self.states.items()}}


def outreach_outcomes(book: Book, first: date, last: date, as_of: date) -> OutreachOutcomes:
    """Outcomes of the outreach logged from `first` to `last`, as known on `as_of`."""
    out = OutreachOutcomes()
    touches = book.touches_between(first, last)
    by_sub = signal_days(book, {t.subscriber_id for t in touches})
    for touch in touches:
        out.logged += 1
        timeline = book.timelines.get(touch.subscriber_id)
        days = by_sub.get(touch.subscriber_id, {})
        for n in OUTCOME_DAYS:
            check = touch.day + timedelta(days=n)
            state = "pending" if check > as_of else state_after(timeline, days, touch.day, check)
            out.states[n][state] += 1
    return out


@dataclass
class Comparison:
    """One kind and risk band: customers reached against due but not reached."""

    kind: str
    band: str
    reached: Figure  # % lost within 60 days
    not_reached: Figure
    held_out: Figure | None = None  # churn-risk tasks kept out of the digest ([care] holdout)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "band": self.band,
            "reached_lost_60d": self.reached.to_json(),
            "not_reached_lost_60d": self.not_reached.to_json(),
            **({"held_out_lost_60d": self.held_out.to_json()} if self.held_out else {}),
        }

    def sentence(self) -> str:
        label = self.kind.replace("_", "-")
        held = f"; held out: {self.held_out.text()}" if self.held_out else ""
        return (
            f"{label} ({self.band} risk) customers reached: {self.reached.text()} lost in "
            f"{LOST_WITHIN} days; not reached: {self.not_reached.text()}{held}"
        )


def reached_vs_not(
    book: Book, task_docs: Iterable[Mapping[str, Any]], first: date, last: date, as_of: date
) -> list[Comparison]:
    """Tasks due from `first` to `last`, grouped by kind and band (see the module docstring)."""
    losses = TaskLosses(task_docs, first, last, as_of)
    for sid in losses.waiting():
        timeline = book.timelines.get(sid)
        if timeline is not None:
            losses.add(timeline)
    return losses.comparisons()


class TaskLosses:
    """`reached_vs_not` counted one timeline at a time: the tasks are read first, keeping of
    each only its group, its side and its due day under its customer; each customer's
    timeline then says whether they were lost (the full report streams every customer's
    timeline through it and keeps none). A customer never added was not lost."""

    def __init__(
        self, task_docs: Iterable[Mapping[str, Any]], first: date, last: date, as_of: date
    ) -> None:
        # (kind, band) -> side -> [lost, tasks]
        self.groups: dict[tuple[str, str], dict[str, list[int]]] = {}
        self._due: dict[str, list[tuple[date, list[int]]]] = {}  # subscriber -> tasks
        for doc in task_docs:
            try:
                due = date.fromisoformat(str(doc["due"])[:10])
            except (KeyError, ValueError):
                continue
            if not first <= due <= last or due + timedelta(days=LOST_WITHIN) > as_of:
                continue
            if doc.get("holdout"):
                side = "held_out"
            elif doc.get("status") == "expired":
                side = "not_reached"
            elif doc.get("status") == "done" and doc.get("outcome") in REACHED:
                side = "reached"
            else:
                continue
            key = (str(doc.get("kind", "")), str(doc.get("risk_band") or "low"))
            sides = self.groups.setdefault(key, {"reached": [0, 0], "not_reached": [0, 0]})
            tally = sides.setdefault(side, [0, 0])
            tally[1] += 1
            self._due.setdefault(str(doc.get("subscriber_id")), []).append((due, tally))

    def waiting(self) -> list[str]:
        """The customers whose timelines are still wanted."""
        return list(self._due)

    def add(self, timeline: Timeline) -> None:
        for due, tally in self._due.pop(timeline.subscriber_id, ()):
            tally[0] += bool(timeline.ends_between(due, due + timedelta(days=LOST_WITHIN)))

    def comparisons(self) -> list[Comparison]:
        out = []
        for (kind, band), sides in sorted(self.groups.items()):
            figures = {
                side: rate(
                    lost, tasks, f"no {side.replace('_', ' ')} task due in the period old enough"
                )
                for side, (lost, tasks) in sides.items()
            }
            out.append(
                Comparison(
                    kind, band, figures["reached"], figures["not_reached"], figures.get("held_out")
                )
            )
        return out
