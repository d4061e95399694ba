"""What a posted digest message shows now: its entries rebuilt from the store, and their tally.

A task belongs to the digest that lists it today (`Task.digest_date`). A message of an earlier
day still holds the task's id; rendered now, that task has *moved on*: the entry says where it
went and has no buttons, and it counts as "moved" in that day's parent, which keeps each day's
parent equal to what its own thread shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date

from bot.blocks.entry import EntryView
from bot.models import TASK_CLAIMED, TASK_DONE, TASK_EXPIRED, Risk, Subscriber, Task
from bot.outreach.contact import last_contact
from bot.repos import Repos
from bot.repos.digests import TALLY_KEYS, DigestMessage


def moved_on(task: Task, day: date) -> bool:
    """Whether `task`, shown in the digest of `day`, is listed by a later digest now."""
    return task.digest_date is not None and task.digest_date > day


def task_state(task: Task) -> str:
    if task.status == TASK_CLAIMED:
        return "claimed"
    if task.status == TASK_DONE:
        return "done"
    if task.status == TASK_EXPIRED:
        return "expired"
    return "open"


def add_tallies(tallies: list[dict[str, int]]) -> dict[str, int]:
    """A day's progress: the sum of what its messages show."""
    total: Counter[str] = Counter({k: 0 for k in TALLY_KEYS})
    for tally in tallies:
        total.update(tally)
    return dict(total)


def message_views(
    repos: Repos,
    message: DigestMessage,
    risk_of: Callable[[Subscriber], Risk] | None = None,
    evidence_of: Callable[[Subscriber, Risk], list[str]] | None = None,
) -> tuple[list[EntryView], dict[str, int]]:
    """The message's entries as they stand, and how many of its tasks are in each state.

    Args:
        repos: read only.
        message: a stored thread reply.
        risk_of: today's risk of a customer (full entries show it; compact ones do not).
        evidence_of: the evidence sentences for a customer and that risk (`bot.evidence`).

    Returns:
        The entry views in message order (tasks gone from the store are left out; an entry
        whose tasks all moved on carries `moved_to`), and the tally over `TALLY_KEYS`.
    """
    tally: Counter[str] = Counter({k: 0 for k in TALLY_KEYS})
    views = []
    for ids in message.entries:
        tasks = [t for t in (repos.tasks.get(i) for i in ids) if t]
        if not tasks:
            continue
        here = [t for t in tasks if not moved_on(t, message.date)]
        tally["moved"] += len(tasks) - len(here)
        tally.update(task_state(t) for t in here)
        sid = tasks[0].subscriber_id
        sub = repos.subscribers.get(sid) or Subscriber(id=sid)
        view = EntryView(subscriber=sub, tasks=here or tasks, kind=message.kind)
        view.contact = last_contact(repos.outreach.for_subscriber(sid))
        if not here:
            view.moved_to = max(t.digest_date for t in tasks if t.digest_date)
        elif risk_of is not None:
            view.risk = risk_of(sub)
            if evidence_of is not None:
                view.evidence = evidence_of(sub, view.risk)
        views.append(view)
    return views, dict(tally)
