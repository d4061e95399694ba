"""The team's numbers and who holds which task, kept current: what the App Home reads.

`bot.stats.team_stats` decodes every stored task, and the Home also read every task to find the
viewer's claimed ones: at a million subscribers (271k tasks) that was seconds of CPU per redraw,
and every claim queues a redraw for everyone with a Home open. `TaskLedger` reads every task
once (and again after a transaction is undone) and afterwards re-reads only the customers whose
tasks changed, as the task repository reports them (`bot.repos.changes`, as `bot.worklist`
does). What it keeps is what the numbers count: open tasks, due dates counted by day, the times
tasks expired or were closed by the bot (a run closes many at one instant), one small row per
task a manager claimed or closed, each manager's active task ids, and the managers' outreach
(kept from the outreach repository's change reports: reading every outreach record per view
held the store's lock a tenth of a second at 1M, over 1,024 shard files). A view then costs the
days, the team's claims and outreach in its period, and the viewer's own tasks.

The numbers are those `team_stats` computes from scratch (tests compare them after every kind of
change and a restart).
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import TypeVar

from bot.bulk import paused_gc
from bot.holdout import held_out
from bot.models import ACTIVE_TASK_STATUSES, TASK_DONE, TASK_EXPIRED, Outreach, Task
from bot.repos import Repos
from bot.repos.changes import Pending
from bot.stats import TeamStats, count_outreach, count_task, ordered
from bot.techtouch import BOT_USER

# More customers changed than this (or an eighth of those counted): read every task again.
REBUILD_OVER = 2_000


@dataclass(frozen=True, slots=True)
class _Share:
    """What one customer's tasks add to the ledger (taken away again when they change)."""

    open_now: int = 0
    dues: tuple[str, ...] = ()
    expired: tuple[datetime, ...] = ()
    automated: tuple[datetime, ...] = ()
    worked: tuple[str, ...] = ()  # ids of tasks a manager claimed or closed
    holding: tuple[tuple[str, str], ...] = ()  # (manager, task id) of active claimed tasks


class TaskLedger:
    """Counts of the stored tasks by what the team's numbers need, kept current.

    Args:
        repos: the repositories; the task repository's change reports keep the ledger current.
    """

    def __init__(self, repos: Repos) -> None:
        self.repos = repos
        self._shares: dict[str, _Share] = {}
        self._alike: dict[_Share, _Share] = {}  # shares without task ids, held once
        self._open = 0
        self._dues: Counter[str] = Counter()
        self._expired: Counter[datetime] = Counter()
        self._automated: Counter[datetime] = Counter()
        self._worked: dict[str, Task] = {}
        self._holding: dict[str, set[str]] = {}
        self._compute = threading.Lock()
        self._pending = Pending()  # customers whose tasks changed (None: read everything)
        repos.tasks.changes.add(self._pending.note)
        self._outreach: dict[str, list[Outreach]] = {}  # the managers' outreach, by customer
        self._logged = Pending()  # customers whose outreach changed (None: read it all)
        repos.outreach.changes.add(self._logged.note)

    def stats(self, now: datetime, period_days: int) -> TeamStats:
        """What `team_stats` counts for `now` and `period_days`, from the ledger."""
        since = now - timedelta(days=period_days)
        first, last = since.date().isoformat(), now.date().isoformat()
        stats = TeamStats(period_days=period_days)
        waits: list[float] = []
        with self._compute:
            self._current()
            stats.open_now = self._open
            stats.due = sum(n for day, n in self._dues.items() if first <= day <= last)
            stats.expired = sum(n for at, n in self._expired.items() if since <= at <= now)
            stats.automated = sum(n for at, n in self._automated.items() if since <= at <= now)
            for task in self._worked.values():
                count_task(stats, task, since, now, waits)
            for logged in self._outreach.values():
                count_outreach(stats, logged, since, now)
        if waits:
            stats.median_claim_minutes = round(median(waits), 1)
        stats.per_manager = ordered(stats.per_manager)
        return stats

    def refresh(self) -> None:
        """Read what changed since the last read now (everything, the first time)."""
        with self._compute:
            self._current()

    def claimed_by(self, user: str) -> list[Task]:
        """The active tasks `user` holds (claimed), as stored now."""
        with self._compute:
            self._current()
            ids = sorted(self._holding.get(user, ()))
        found = (self.repos.tasks.get(task_id) for task_id in ids)
        return [t for t in found if t is not None and t.claimed_by == user and t.active]

    def _current(self) -> None:
        self._current_outreach()
        dirty = self._pending.take()
        if dirty is None or len(dirty) > max(REBUILD_OVER, len(self._shares) // 8):
            self._rebuild()  # a pass over every task is cheaper than a read per customer
            return
        for sid in dirty:
            self._apply(sid, self._share(self.repos.tasks.for_subscriber(sid)))

    def _current_outreach(self) -> None:
        """The managers' outreach as stored (every record read once; then changed customers)."""
        dirty = self._logged.take()
        if dirty is None:
            with paused_gc():
                groups = self.repos.outreach.by_subscriber().items()
                self._outreach = {sid: mine for sid, found in groups if (mine := _managers(found))}
                gc.freeze()
            return
        for sid in dirty:
            mine = _managers(self.repos.outreach.for_subscriber(sid))
            if mine:
                self._outreach[sid] = mine
            else:
                self._outreach.pop(sid, None)

    def _rebuild(self) -> None:
        with paused_gc():  # a bulk pass: see bot.bulk
            self._read_all()
            gc.freeze()  # before the collector runs again: its first pass would walk them all

    def _read_all(self) -> None:
        self._shares, self._alike, self._open = {}, {}, 0
        self._dues, self._expired, self._automated = Counter(), Counter(), Counter()
        self._worked, self._holding = {}, {}
        groups: dict[str, list[Task]] = {}
        plain: dict[str, tuple[int, list[str]]] = {}  # customers with no claimed/closed task
        for doc in self.repos.tasks.raw():
            sid = doc.get("subscriber_id")
            if not isinstance(sid, str):
                continue
            if sid in groups or any(doc.get(f) for f in ("claimed_by", "claimed_at", "closed_at")):
                groups.setdefault(sid, []).extend(self.repos.tasks.load([doc]))
                continue
            if held_out(doc):
                continue
            opened, dues = plain.setdefault(sid, (0, []))
            dues.append(str(doc.get("due")))
            plain[sid] = (opened + (doc.get("status") in ACTIVE_TASK_STATUSES), dues)
        for sid, (opened, dues) in plain.items():
            share = _Share(opened, tuple(dues))
            if sid in groups:  # seen before its first claimed/closed task
                share = _merge(share, self._share(groups.pop(sid)))
            self._apply(sid, share)
        for sid, tasks in groups.items():
            self._apply(sid, self._share(tasks))

    def _share(self, tasks: Iterable[Task]) -> _Share:
        opened, dues, expired, automated, worked, holding = 0, [], [], [], [], []
        for task in tasks:
            if task.active and task.claimed_by:  # the viewer's own list shows held-out ones too
                holding.append((task.claimed_by, task.id))
            if task.held_out:
                continue
            opened += task.active
            dues.append(task.due.isoformat())
            if (
                task.claimed_at
                and task.claimed_by != BOT_USER
                or (task.closed_at and task.status == TASK_DONE and task.closed_by != BOT_USER)
            ):
                worked.append(task.id)
                self._worked[task.id] = task
            if task.closed_at and task.status == TASK_EXPIRED:
                expired.append(task.closed_at)
            elif task.closed_at and task.status == TASK_DONE and task.closed_by == BOT_USER:
                automated.append(task.closed_at)
        return _Share(
            opened, tuple(dues), tuple(expired), tuple(automated), tuple(worked), tuple(holding)
        )

    def _apply(self, sid: str, share: _Share) -> None:
        """Replace what customer `sid` adds with `share` (its worked tasks already stored)."""
        old = self._shares.pop(sid, None)
        if old is not None:
            self._open -= old.open_now
            self._dues.subtract(old.dues)
            self._expired.subtract(old.expired)
            self._automated.subtract(old.automated)
            for task_id in set(old.worked) - set(share.worked):
                self._worked.pop(task_id, None)
            for user, task_id in old.holding:
                self._holding.get(user, set()).discard(task_id)
        self._open += share.open_now
        self._dues.update(share.dues)
        self._expired.update(share.expired)
        self._automated.update(share.automated)
        for user, task_id in share.holding:
            self._holding.setdefault(user, set()).add(task_id)
        if share != _Share():  # most customers' shares are alike: held once (1M customers)
            alike = not share.worked and not share.holding
            self._shares[sid] = self._alike.setdefault(share, share) if alike else share
        if old is not None:
            _drop_spent(self._dues, old.dues)
            _drop_spent(self._expired, old.expired)
            _drop_spent(self._automated, old.automated)


def _managers(logged: Iterable[Outreach]) -> list[Outreach]:
    """The outreach the team's numbers count: the managers', not the bot's tech touch."""
    return [o for o in logged if o.by != BOT_USER]


K = TypeVar("K")
_FIELDS = ("open_now", "dues", "expired", "automated", "worked", "holding")


def _drop_spent(counter: Counter[K], keys: Iterable[K]) -> None:
    """Forget the keys whose count fell to nothing (days and instants no task holds now)."""
    for key in keys:
        if counter.get(key, 0) <= 0:
            counter.pop(key, None)


def _merge(a: _Share, b: _Share) -> _Share:
    return _Share(a.open_now + b.open_now, *(getattr(a, f) + getattr(b, f) for f in _FIELDS[1:]))
