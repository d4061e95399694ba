"""What the engine knows of the stored tasks: their keys, which open ones are stale, and
each subscriber's churn_risk state (active, counted, last handled for the cooldown).

Built from one pass over task and outreach documents (`TaskIndex`), for every subscriber
(`bot.engine.plan_changes`'s whole dry run) or for a few (after the engine's run, or one
subscriber re-scored by `bot.rescore.refresh_churn_risk`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from bot.enginerun import Written
from bot.lifecycle import last_day
from bot.models import (
    ACTIVE_TASK_STATUSES,
    TASK_DONE,
    TASK_EXPIRED,
    TASK_OPEN,
    Task,
    parse_date,
    parse_datetime,
)
from bot.repos import Repos
from bot.repos.loading import load_all
from bot.store import copy_doc
from config.rules import LifecycleRules
from config.settings import Settings

CHURN = "churn_risk"


def expires_after(task: Task, rules: LifecycleRules) -> date:
    """The last day an open task can be shown; it expires when today is later than this.

    That is the last day of its window, or the day its snooze ends if that is later: a
    snoozed task comes back to the digest at least once before it expires.
    """
    return _last_shown(task.kind, task.key, task.due, task.snoozed_until, rules)


def _last_shown(
    kind: str, key: str, due: date, snoozed_until: date | None, rules: LifecycleRules
) -> date:
    last = last_day(kind, key, due, rules)
    return snoozed_until if snoozed_until and snoozed_until > last else last


def of_written(
    repos: Repos,
    since: Written,
    context_for: Collection[str],
    today: date,
    settings: Settings,
) -> tuple[list[str], TaskIndex]:
    """(the subscribers written since the engine's run or noted ahead by it, and those in
    `context_for`, in stored order; what planning needs of their tasks and outreach)."""
    wanted = set(context_for)
    order: list[str] = []
    gone: list[str] = []  # named, not stored: their stale tasks expire as in the whole run
    if since.files or since.subscribers or wanted:
        sids = repos.subscribers.ids()
        touched = set(since.touching(repos.store, sids))
        order = [sid for sid in sids if sid in wanted or sid in touched]
        gone = sorted(since.subscribers.difference(sids))
    docs = [t.to_doc() for sid in [*order, *gone] for t in repos.tasks.for_subscriber(sid)]
    outreach = {sid: repos.outreach.docs_for_subscriber(sid) for sid in order}
    return order, TaskIndex(docs, outreach, today, settings)


class TaskIndex:
    """What planning needs to know about stored tasks, from one pass over their documents."""

    def __init__(
        self,
        docs: Iterable[dict[str, Any]],
        outreach: Mapping[str, list[dict[str, Any]]],
        today: date,
        settings: Settings,
    ) -> None:
        self.keys: set[str] = set()
        self.expiring: list[Task] = []
        self._active_churn: dict[str, set[str]] = {}
        self._churn_n: dict[str, int] = {}
        self._handled: dict[str, datetime] = {}  # sid -> last time a churn task was handled
        self._tz: tzinfo = settings.timezone
        self._cooldown = settings.risk.cooldown_days
        churn_ids: set[str] = set()
        for doc in docs:
            self.keys.add(doc["key"])
            status, sid = doc["status"], doc["subscriber_id"]
            if status == TASK_OPEN and self._stale(doc, today, settings.lifecycle):
                self.expiring.extend(load_all(Task, [copy_doc(doc)]))
                status = TASK_EXPIRED
            if doc["kind"] != CHURN:
                continue
            churn_ids.add(doc["id"])
            self._count_churn(sid, doc["key"])
            if status in ACTIVE_TASK_STATUSES:
                self._active_churn.setdefault(sid, set()).add(doc["id"])
            elif status == TASK_DONE and doc.get("closed_at"):
                self._handled_at(sid, parse_datetime(doc["closed_at"]))
        for sid, records in outreach.items():
            for record in records:
                if churn_ids & set(str(record.get("task_id", "")).split(",")):
                    self._handled_at(sid, parse_datetime(record["at"]))

    @staticmethod
    def _stale(doc: dict[str, Any], today: date, rules: LifecycleRules) -> bool:
        due = parse_date(doc["due"])
        if due is None or today <= due:
            return False
        snoozed = parse_date(doc.get("snoozed_until"))
        return today > _last_shown(doc["kind"], doc["key"], due, snoozed, rules)

    def _count_churn(self, sid: str, key: str) -> None:
        prefix = f"{sid}:{CHURN}:"
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            self._churn_n[sid] = max(self._churn_n.get(sid, 0), int(key[len(prefix) :]))

    def _handled_at(self, sid: str, at: datetime | None) -> None:
        if at is not None and (sid not in self._handled or at > self._handled[sid]):
            self._handled[sid] = at

    def has_key(self, key: str) -> bool:
        return key in self.keys

    def add(self, task: Task) -> None:
        self.keys.add(task.key)
        if task.kind == CHURN:
            self._count_churn(task.subscriber_id, task.key)
            self._active_churn.setdefault(task.subscriber_id, set()).add(task.id)

    def active_churn_ids(self, sid: str) -> set[str]:
        return self._active_churn.get(sid, set())

    def next_churn_key(self, sid: str, today: date, cooldown: bool = True) -> str | None:
        """The key for a new churn_risk task, or None while one is active or in cooldown."""
        if self._active_churn.get(sid):
            return None
        handled = self._handled.get(sid)
        if (
            cooldown
            and handled is not None
            and (today - handled.astimezone(self._tz).date()).days < self._cooldown
        ):
            return None
        return f"{sid}:{CHURN}:{self._churn_n.get(sid, 0) + 1}"
