"""The few facts of a due task that the sized plan ranks and counts by (`bot.sizing`).

At a million subscribers a quarter of a million tasks are due; each held as a full `Task`
costs about a kilobyte for the whole plan, while the plan reads only its kind, due date,
status and value, and builds a full entry (with the stored `Task`) for the few hundred
customers it posts (`bot.digest.Entries.entry`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, Protocol

from bot.models import ACTIVE_TASK_STATUSES, Task
from bot.repos import Repos

_BATCH = 4096  # tasks read from their documents at a time


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


def read(repos: Repos, docs: Iterable[dict[str, Any]]) -> Iterator[tuple[Task, DueTask]]:
    """Each readable task among `docs` (unreadable ones are skipped and logged, as
    `repos.tasks.load` does) with its facts; only a batch of full tasks is alive at a time,
    and the facts share one object per kind, status and date."""
    same: dict[Any, Any] = {}
    docs = iter(docs)
    while batch := list(islice(docs, _BATCH)):
        for task in repos.tasks.load(batch):
            kind, status = (
                same.setdefault(task.kind, task.kind),
                same.setdefault(task.status, task.status),
            )
            yield (
                task,
                DueTask(task.id, kind, same.setdefault(task.due, task.due), status, task.value),
            )


def full(repos: Repos, tasks: Iterable[TaskFacts]) -> list[Task]:
    """The stored tasks behind `tasks` (a `Task` is kept as it is; one no longer stored is
    left out)."""
    out = []
    for task in tasks:
        found = task if isinstance(task, Task) else repos.tasks.get(task.id)
        if found is not None:
            out.append(found)
    return out
