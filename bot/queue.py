"""Open work as it stands now, ranked by `bot.priority`: the queue, today's unclaimed, mine.

The digest posts what the team can do in a day (`DigestPlan.choose`); everything else that is
due waits in the *queue*: the active, unclaimed tasks due by today, not snoozed past it, that
today's digest does not list. `/care queue [kind]` and the App Home list it in the same
order; claiming from it works as in the digest (a customer's tasks are claimed together), and
a task that stays in it unhandled expires like any other (`bot.engine`) and is counted.

Ranking reads the tasks only (their risk and value as noted by the engine) and the outreach
index; subscribers are loaded for the rows actually shown (`with_subscribers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, tzinfo
from typing import Any

from bot import priority
from bot.digest_plan import KIND_ORDER, kind_label, kind_rank
from bot.holdout import held_out
from bot.models import TASK_OPEN, Risk, RiskReason, Subscriber, Task
from bot.priority import Priority
from bot.repos import Repos
from bot.roles import CareError


@dataclass
class WorkEntry:
    """One customer's open work, ranked (a `bot.blocks.entry.EntryLike`).

    Attributes:
        subscriber: the customer (a bare `Subscriber(id=...)` until `with_subscribers`).
        tasks: their tasks in this list, most urgent kind first.
        priority: what the entry is ranked by.
        kind: the kind of the most urgent task.
    """

    subscriber: Subscriber
    tasks: list[Task]
    priority: Priority
    kind: str

    @property
    def risk(self) -> Risk | None:
        top = max(self.tasks, key=lambda t: t.risk_score, default=None)
        if top is None or not top.risk_score:
            return None
        reasons = [RiskReason(rule="", points=0, text=r) for r in top.risk_reasons]
        return Risk(score=top.risk_score, band=top.risk_band, reasons=reasons)

    @property
    def value(self) -> float:
        return self.subscriber.monthly_value or self.priority.value

    def key(self, today: date) -> tuple[Any, ...]:
        first_due = min((t.due for t in self.tasks), default=today)
        return priority.sort_key(self.priority, today, first_due, self.subscriber.id)


def rank(
    repos: Repos, tasks: Iterable[Task], today: date, grace_days: int, tz: tzinfo
) -> list[WorkEntry]:
    """Group tasks by customer and rank the groups (`bot.priority`); `tz`: the team's."""
    by_subscriber: dict[str, list[Task]] = {}
    for task in tasks:
        by_subscriber.setdefault(task.subscriber_id, []).append(task)
    entries = []
    for sid, group in by_subscriber.items():
        group.sort(key=lambda t: (kind_rank(t.kind), t.due, t.id))
        found = priority.of_tasks(
            group, today, grace_days, last_reached=repos.outreach.last_reached(sid, tz)
        )
        entries.append(WorkEntry(Subscriber(id=sid), group, found, group[0].kind))
    return priority.rank(entries, lambda e: e.key(today))


def with_subscribers(repos: Repos, entries: Sequence[WorkEntry]) -> list[WorkEntry]:
    """Copies of the entries with their customers loaded (for the rows shown); unknown ones
    left out. The entries themselves are left as they are (`bot.worklist` keeps them)."""
    shown = []
    for entry in entries:
        sub = repos.subscribers.get(entry.subscriber.id)
        if sub is not None:
            shown.append(replace(entry, subscriber=sub))
    return shown


def due_unclaimed(repos: Repos, today: date) -> list[Task]:
    """Active, unclaimed tasks due by `today`, not snoozed past it and not held out."""
    day = today.isoformat()
    return repos.tasks.load(
        d
        for d in repos.tasks.raw()
        if d.get("status") == TASK_OPEN
        and not held_out(d)
        and str(d.get("due")) <= day
        and not (d.get("snoozed_until") and str(d["snoozed_until"]) > day)
    )


def listed_today(task: Task, today: date) -> bool:
    """Whether today's digest lists the task."""
    return task.digest_date == today and bool(task.slack.get("ts"))


def unclaimed(
    repos: Repos, today: date, grace_days: int, tz: tzinfo
) -> tuple[list[WorkEntry], list[WorkEntry]]:
    """Today's unclaimed work: (listed by today's digest, waiting in the queue), both ranked."""
    tasks = due_unclaimed(repos, today)
    in_digest = [t for t in tasks if listed_today(t, today)]
    queued = [t for t in tasks if not listed_today(t, today)]
    return rank(repos, in_digest, today, grace_days, tz), rank(repos, queued, today, grace_days, tz)


def queue(
    repos: Repos, today: date, grace_days: int, tz: tzinfo, kind: str = ""
) -> list[WorkEntry]:
    """The queue, ranked; with `kind`, only customers with a task of that kind.

    Raises:
        CareError: `kind` names no kind of task.
    """
    tasks = [t for t in due_unclaimed(repos, today) if not listed_today(t, today)]
    return of_kind(rank(repos, tasks, today, grace_days, tz), kind)


def of_kind(entries: list[WorkEntry], kind: str = "") -> list[WorkEntry]:
    """The ranked entries with a task of `kind` (all of them without one), order kept.

    Raises:
        CareError: `kind` names no kind of task.
    """
    if not kind:
        return entries
    wanted = match_kind(kind, {t.kind for e in entries for t in e.tasks})
    return [e for e in entries if any(t.kind in wanted for t in e.tasks)]


def entry_tasks(repos: Repos, task: Task, today: date) -> list[Task]:
    """A task no digest message shows, and the customer's other such tasks due by today in
    the same state: one queue entry, claimed (or released) together."""
    if not task.active or task.slack.get("ts"):
        return [task]
    others = [
        t
        for t in repos.tasks.for_subscriber(task.subscriber_id)
        if t.id != task.id
        and t.status == task.status
        and t.due <= today
        and not (t.snoozed_until and t.snoozed_until > today)
        and not t.slack.get("ts")
    ]
    return [task, *others]


KNOWN_KINDS = (
    "churn_risk",
    "win_back",
    "pre_renewal",
    "onboarding",
    "checkin",
    "anniversary",
)


def match_kind(word: str, present: Iterable[str] = ()) -> set[str]:
    """The task kinds `word` names: "churn", "churn_risk", "checkin" (every check-in),
    "checkin_30", "win-back", "Pre-renewal" ...

    Raises:
        CareError: it names none, with the kinds to use.
    """
    wanted = word.strip().lower().replace("-", "_").replace(" ", "_")[:40]
    kinds = set(present) | set(KIND_ORDER)
    found = {
        k
        for k in kinds
        if wanted
        and (
            k == wanted or k.startswith(wanted) or kind_label(k).lower().replace(" ", "_") == wanted
        )
    }
    if not found:
        raise CareError(
            "Which kind? Use one of " + ", ".join(f"`{k}`" for k in KNOWN_KINDS) + ", "
            "e.g. `/care queue churn_risk`."
        )
    return found
