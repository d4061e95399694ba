"""Today's unclaimed work, ranked once and kept current: what the App Home and `/care queue` read.

`bot.queue.unclaimed` reads every stored task and ranks every customer: at 100k subscribers
that is about 27k tasks and 25k customers, seconds of CPU per view, and the Home was redrawn
for every viewer after every claim. `WorkList` ranks everything once a day (or after a
transaction is undone) and afterwards re-ranks only the customers whose tasks or outreach
changed, as the repositories report them (`bot.repos.changes`), and those whose tasks a digest
post linked to its message (`DigestRepo.linked`: posting writes no task).
A view then costs what it shows: the first rows of a list kept in order, and its length.
A full ranking runs with the collector paused and leaves its entries frozen (`gc.freeze`): at
1M subscribers they are millions of objects, and each full collection walked them for 1-18 s
with every thread stopped (a claim's answer among them) while a digest posted.

The lists are the same as `bot.queue.unclaimed` computes from scratch (tests compare them
after every kind of change).
"""

from __future__ import annotations

import bisect
import gc
import threading
from collections.abc import Iterable
from datetime import date
from typing import Any

from bot import queue
from bot.bulk import paused_gc
from bot.models import TASK_OPEN, Task
from bot.queue import WorkEntry
from bot.repos import Repos

IN_DIGEST, QUEUED = True, False


class WorkList:
    """Today's unclaimed work by customer: (listed by today's digest, waiting in the queue).

    Args:
        repos: the repositories; their change reports keep the lists current.
        grace_days: a task due more than this many days ago is overdue.
    """

    def __init__(self, repos: Repos, grace_days: int) -> None:
        self.repos = repos
        self.grace_days = grace_days
        self._day: date | None = None
        self._entries: dict[tuple[str, bool], tuple[tuple[Any, ...], WorkEntry]] = {}
        self._order: dict[bool, list[tuple[Any, ...]]] = {IN_DIGEST: [], QUEUED: []}
        self._compute = threading.Lock()  # one reader updates the lists at a time
        self._dirty_lock = threading.Lock()  # held only to swap the set: never while reading
        self._dirty: set[str] | None = None  # None: rank everything again
        self._linked: set[str] = set()  # ids of tasks a post linked (their customers re-ranked)
        repos.tasks.changes.add(self.changed)
        repos.outreach.changes.add(self.changed)
        repos.digests.linked.add(self.linked)

    def changed(self, subscriber_ids: Iterable[str] | None) -> None:
        """Tasks or outreach of these customers changed (None: anything may have)."""
        with self._dirty_lock:
            if subscriber_ids is None:
                self._dirty = None
            elif self._dirty is not None:
                self._dirty.update(subscriber_ids)

    def linked(self, task_ids: Iterable[str] | None) -> None:
        """These tasks were linked to a posted digest message (None: any may have been)."""
        with self._dirty_lock:
            if task_ids is None:
                self._dirty = None
            elif self._dirty is not None:
                self._linked.update(task_ids)

    def lists(self, today: date) -> tuple[list[WorkEntry], list[WorkEntry]]:
        """(listed by today's digest, waiting in the queue), both in `bot.priority` order.

        The entries are shared: callers must not change them (`bot.queue.with_subscribers`
        returns copies).
        """
        with self._compute:
            with self._dirty_lock:
                dirty, self._dirty = self._dirty, set()
                linked, self._linked = self._linked, set()
            if dirty is None or today != self._day:
                self._rebuild(today)
            else:
                tasks = (self.repos.tasks.get(task_id) for task_id in linked)
                dirty.update(t.subscriber_id for t in tasks if t is not None)
                for sid in dirty:
                    self._update(sid, today)
            return (
                [self._entries[(k[-1], IN_DIGEST)][1] for k in self._order[IN_DIGEST]],
                [self._entries[(k[-1], QUEUED)][1] for k in self._order[QUEUED]],
            )

    def queued(self, today: date) -> list[WorkEntry]:
        return self.lists(today)[1]

    def _rebuild(self, today: date) -> None:
        self._day, self._entries = today, {}
        self._order = {IN_DIGEST: [], QUEUED: []}
        with paused_gc():  # a bulk pass: see bot.bulk
            in_digest, waiting = queue.unclaimed(self.repos, today, self.grace_days)
            for where, entries in ((IN_DIGEST, in_digest), (QUEUED, waiting)):
                for entry in entries:
                    key = entry.key(today)
                    self._entries[(entry.subscriber.id, where)] = (key, entry)
                    self._order[where].append(key)
            del in_digest, waiting
        gc.freeze()  # out of every full collection's walk (entries form no cycles)

    def _update(self, sid: str, today: date) -> None:
        """Re-rank one customer from their stored tasks."""
        for where in (IN_DIGEST, QUEUED):
            old = self._entries.pop((sid, where), None)
            if old is not None:
                order = self._order[where]
                del order[bisect.bisect_left(order, old[0])]
        tasks = [t for t in self.repos.tasks.for_subscriber(sid) if due_unclaimed(t, today)]
        for where in (IN_DIGEST, QUEUED):
            mine = [t for t in tasks if queue.listed_today(t, today) is where]
            for entry in queue.rank(self.repos, mine, today, self.grace_days):
                key = entry.key(today)
                self._entries[(sid, where)] = (key, entry)
                bisect.insort(self._order[where], key)


def due_unclaimed(task: Task, today: date) -> bool:
    """`bot.queue.due_unclaimed`'s rule for one task: open, not held out, due by `today`,
    not snoozed past it."""
    return (
        task.status == TASK_OPEN
        and not task.held_out
        and task.due <= today
        and not (task.snoozed_until is not None and task.snoozed_until > today)
    )
