"""The few facts of a due task that the sized plan ranks and counts by (`bot.sizing`).

At a million subscribers a quarter of a million tasks are due; each held as a full `Task`
costs about a kilobyte for the whole plan, while the plan reads only its kind, due date,
status and value, and builds a full entry (with the stored `Task`) for the few hundred
customers it posts (`bot.digest_entries.Entries.entry`).

Those facts are kept between plans (`shown`): a write replaces the bytes of the documents it
changes (`bot.compact`), so a plan decodes only the task documents whose bytes it has not seen,
and keeps nothing of a document no longer stored.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.compact import Encoded, decode_doc
from bot.holdout import held_out
from bot.models import ACTIVE_TASK_STATUSES, TASK_OPEN, Risk, Task
from bot.repos import Repos
from bot.repos.loading import load
from bot.repos.tasks import TaskRepo

if TYPE_CHECKING:
    from bot.lifecycle import Milestone


class TaskFacts(Protocol):
    """What every reader of a due customer's tasks reads: a `Task` or a `DueTask`."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def status(self) -> str: ...
    @property
    def value(self) -> float: ...
    def overdue(self, today: date, grace_days: int) -> bool: ...


@dataclass(slots=True)
class DueTask:
    """A stored task's ranking facts (`TaskFacts`); `repos.tasks.get(id)` reads it in full."""

    id: str
    kind: str
    due: date
    status: str
    value: float

    def overdue(self, today: date, grace_days: int) -> bool:
        return self.status in ACTIVE_TASK_STATUSES and (today - self.due).days > grace_days


@dataclass(slots=True)
class PlannedTask:
    """A milestone task a dry run would create, kept as its ranking facts (`TaskFacts`): its
    id is reserved in creation order, its reason and risk are worked out by `task` only for
    the entries a sized plan builds (`bot.engine.plan_changes` with `lazy`)."""

    id: str
    key: str
    kind: str
    due: date
    value: float
    subscriber_id: str
    created_at: datetime
    why: Milestone  # its reason, worded when asked
    status: str = TASK_OPEN
    held_out: bool = False  # only churn_risk tasks are drawn into the holdout

    def overdue(self, today: date, grace_days: int) -> bool:
        return (today - self.due).days > grace_days

    def task(self, risk: Risk) -> Task:
        """The `Task` the dry run would have created, `risk` being the customer's today."""
        return new_task(
            self.id,
            self.key,
            self.kind,
            self.subscriber_id,
            self.due,
            self.created_at,
            self.why.reason,
            risk,
            self.value,
        )


def new_task(
    task_id: str,
    key: str,
    kind: str,
    subscriber_id: str,
    due: date,
    created_at: datetime,
    reason: str,
    risk: Risk,
    value: float,
) -> Task:
    """A task as the engine creates it (`bot.engine`), or a `PlannedTask` is built: open,
    with the customer's risk today and their monthly value."""
    return Task(
        id=task_id,
        key=key,
        kind=kind,
        subscriber_id=subscriber_id,
        due=due,
        created_at=created_at,
        reason=reason,
        risk_score=risk.score,
        risk_band=risk.band,
        risk_reasons=risk.reason_texts(),
        value=value,
    )


def full(repos: Repos, tasks: Iterable[TaskFacts], risk: Risk | None = None) -> list[Task]:
    """The stored tasks behind `tasks` (a `Task` is kept as it is; one no longer stored is
    left out; a `PlannedTask` is built with `risk`, the customer's today)."""
    out = []
    for task in tasks:
        if isinstance(task, PlannedTask):
            out.append(task.task(risk or Risk(0, "low", [])))
            continue
        found = task if isinstance(task, Task) else repos.tasks.get(task.id)
        if found is not None:
            out.append(found)
    return out


# A stored active task not held out: (subscriber id, due and snoozed-until as stored, whether
# the task is held out, its facts).
Fact = tuple[str, str, str | None, bool, DueTask]


class _Kept:
    """The facts of every task document a plan saw, by the identity of its bytes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[int, tuple[Encoded, Fact | None]] = {}  # the bytes keep their id
        self.same: dict[Any, Any] = {}  # one object per kind, status, date


_kept: weakref.WeakKeyDictionary[TaskRepo, _Kept] = weakref.WeakKeyDictionary()


def shown(repos: Repos, day: date) -> list[tuple[str, DueTask]]:
    """(subscriber id, facts) of every readable stored task that is active, not held out,
    due by `day` and not snoozed past it, in stored order: what `bot.digest.gather` reads
    of the stored tasks (unreadable ones are skipped and logged, as `repos.tasks.load` does).
    """
    kept = _kept.get(repos.tasks)
    if kept is None:
        kept = _kept.setdefault(repos.tasks, _Kept())
    with kept.lock:
        seen = kept.seen
        now: dict[int, tuple[Encoded, Fact | None]] = {}
        facts: list[Fact | None] = []
        tables = repos.store.shard_tables("tasks")
        for raw in repos.tasks.raw().encoded:
            held = seen.get(id(raw))
            if held is None or held[0] is not raw:
                held = (raw, _fact(raw, tables, kept.same))
            now[id(raw)] = held
            facts.append(held[1])
        kept.seen = now
    iso = day.isoformat()
    return [
        (f[0], f[4])
        for f in facts
        if f is not None
        and f[1] <= iso
        and not (f[2] and f[2] > iso)
        and f[4].due <= day
        and not f[3]
    ]


def _fact(raw: Encoded, tables: list[Any], same: dict[Any, Any]) -> Fact | None:
    """A task document's `Fact`, None if it is not active, held out or unreadable."""
    doc = decode_doc(raw)
    if doc.get("status") not in ACTIVE_TASK_STATUSES or held_out(doc):
        return None
    due, snoozed = str(doc.get("due")), doc.get("snoozed_until")
    task = load(Task, doc, among=tables)
    if task is None:
        return None
    kind, status = same.setdefault(task.kind, task.kind), same.setdefault(task.status, task.status)
    facts = DueTask(task.id, kind, same.setdefault(task.due, task.due), status, task.value)
    return (
        task.subscriber_id,
        same.setdefault(due, due),
        str(snoozed) if snoozed else None,
        task.held_out,
        facts,
    )
