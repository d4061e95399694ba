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
from datetime import date, tzinfo
from typing import Any

from bot import priority, queue
from bot.bulk import paused_gc
from bot.models import TASK_OPEN, Task
from bot.queue import WorkEntry
from bot.repos import Repos
from bot.repos.changes import Pending

IN_DIGEST, QUEUED = True, False
REBUILD_OVER = 2_000  # more changed customers than this (or an eighth of those listed): rank all


class WorkList:
    """Today's unclaimed work by customer: (listed by today's digest, waiting in the queue).

    Args:
        repos: the repositories; their change reports keep the lists current.
        grace_days: a task due more than this many days ago is overdue.
        must_show_value: the `[digest] must_show_value` whose must-show entries `page` keeps
            in order apart (always shown).
        tz: the team's timezone (the days customers were last reached are its days).
    """

    def __init__(
        self, repos: Repos, grace_days: int, must_show_value: float = 0.0, *, tz: tzinfo
    ) -> None:
        self.repos = repos
        self.grace_days = grace_days
        self.tz = tz
        self.must_show_value = must_show_value
        self._day: date | None = None
        self._entries: dict[tuple[str, bool], tuple[tuple[Any, ...], WorkEntry]] = {}
        self._order: dict[bool, list[tuple[Any, ...]]] = {IN_DIGEST: [], QUEUED: []}
        self._pins: dict[bool, list[tuple[Any, ...]]] = {IN_DIGEST: [], QUEUED: []}  # must-show
        self._compute = threading.Lock()  # one reader updates the lists at a time
        self._dirty = Pending()  # customers whose tasks or outreach changed (None: rank all)
        self._linked = Pending()  # tasks a post linked (their customers are re-ranked)
        repos.tasks.changes.add(self._dirty.note)
        repos.outreach.changes.add(self._dirty.note)
        repos.digests.linked.add(self.linked)

    def linked(self, task_ids: Iterable[str] | None) -> None:
        """These tasks were linked to a posted digest message (None: any may have been)."""
        (self._dirty if task_ids is None else self._linked).note(task_ids)

    def lists(self, today: date) -> tuple[list[WorkEntry], list[WorkEntry]]:
        """(listed by today's digest, waiting in the queue), both in `bot.priority` order.

        The entries are shared: callers must not change them (`bot.queue.with_subscribers`
        returns copies).
        """
        with self._compute:
            self._current(today)
            return (
                [self._entries[(k[-1], IN_DIGEST)][1] for k in self._order[IN_DIGEST]],
                [self._entries[(k[-1], QUEUED)][1] for k in self._order[QUEUED]],
            )

    def page(self, today: date, limit: int) -> tuple[list[WorkEntry], list[WorkEntry], int, int]:
        """The first `limit` rows `bot.priority.select` shows of each list (must-show entries
        always, then the best of the rest), and the lists' lengths, without reading every entry:
        (in the digest, in the queue, how many in the digest, how many in the queue)."""
        with self._compute:
            self._current(today)
            lengths = len(self._order[IN_DIGEST]), len(self._order[QUEUED])
            return self._first(IN_DIGEST, limit), self._first(QUEUED, limit), *lengths

    def _first(self, where: bool, limit: int) -> list[WorkEntry]:
        order, pins = self._order[where], self._pins[where]
        if len(order) <= limit:
            keys = order
        else:  # select's rows: every pin, then `room` unpinned in order; the first `limit`
            room, unpinned = max(limit - len(pins), 0), list[tuple[Any, ...]]()
            for key in order:
                if len(unpinned) >= room:
                    break
                at = bisect.bisect_left(pins, key)
                if at == len(pins) or pins[at] != key:
                    unpinned.append(key)
            keys = sorted(pins[:limit] + unpinned)[:limit]
        return [self._entries[(k[-1], where)][1] for k in keys]

    def _current(self, today: date) -> None:
        dirty, linked = self._dirty.take(), self._linked.take()
        if dirty is None or linked is None or today != self._day or len(dirty) > self._many():
            self._rebuild(today)  # one ranking of everything is cheaper than one per customer
        else:
            tasks = (self.repos.tasks.get(task_id) for task_id in linked)
            dirty.update(t.subscriber_id for t in tasks if t is not None)
            for sid in dirty:
                self._update(sid, today)

    def _many(self) -> int:
        """Changed customers beyond which ranking everything again is cheaper."""
        return max(REBUILD_OVER, len(self._entries) // 8)

    def _pinned(self, entry: WorkEntry) -> bool:
        return priority.must_show(entry.priority, self.must_show_value)

    def queued(self, today: date) -> list[WorkEntry]:
        return self.lists(today)[1]

    def _rebuild(self, today: date) -> None:
        self._day, self._entries = today, {}
        self._order = {IN_DIGEST: [], QUEUED: []}
        self._pins = {IN_DIGEST: [], QUEUED: []}
        with paused_gc():  # a bulk pass: see bot.bulk
            in_digest, waiting = queue.unclaimed(self.repos, today, self.grace_days, self.tz)
            for where, entries in ((IN_DIGEST, in_digest), (QUEUED, waiting)):
                for entry in entries:
                    key = entry.key(today)
                    self._entries[(entry.subscriber.id, where)] = (key, entry)
                    self._order[where].append(key)
                    if self._pinned(entry):
                        self._pins[where].append(key)
            del in_digest, waiting
            gc.freeze()  # out of every collection's walk (entries form no cycles), before the
            # collector runs again: its first pass would walk everything the ranking made

    def _update(self, sid: str, today: date) -> None:
        """Re-rank one customer from their stored tasks."""
        for where in (IN_DIGEST, QUEUED):
            old = self._entries.pop((sid, where), None)
            if old is not None:
                for order in (self._order[where], self._pins[where]):
                    at = bisect.bisect_left(order, old[0])
                    if at < len(order) and order[at] == old[0]:
                        del order[at]
        tasks = [t for t in self.repos.tasks.for_subscriber(sid) if due_unclaimed(t, today)]
        for where in (IN_DIGEST, QUEUED):
            mine = [t for t in tasks if queue.listed_today(t, today) is where]
            for entry in queue.rank(self.repos, mine, today, self.grace_days, self.tz):
                key = entry.key(today)
                self._entries[(sid, where)] = (key, entry)
                bisect.insort(self._order[where], key)
                if self._pinned(entry):
                    bisect.insort(self._pins[where], key)


def due_unclaimed(task: Task, today: date) -> bool:
    """`bot.queue.due_unclaimed`'s rule for one task: open, not held out, due by `today`,
    not snoozed past it."""
    return (
        task.status == TASK_OPEN
        and not task.held_out
        and task.due <= today
        and not (task.snoozed_until is not None and task.snoozed_until > today)
    )
