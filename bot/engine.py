"""The lifecycle and churn-risk engine: which tasks to open today, which to expire.

`plan_changes` only reads: it returns the tasks that would be created and the open tasks that
would expire. `apply_changes` writes them; `run_engine` does both. Rules:

- A task exists once per key, forever: however often the engine runs, a milestone that has a
  task (open, claimed, done or expired) never gets another.
- Tasks are created only while their milestone is in window (see `bot.lifecycle`), so the first
  run on a large import does not flood the digest with stale milestones.
- An open task expires the day after its window ends (status and outcome "expired", kept for
  stats). Claimed tasks never expire. A snoozed task does not expire before the day its snooze
  ends, so it is shown at least once more.
- A scheduled cancellation whose end day is known is a save task (see `bot.lifecycle`), timed
  before it ends: its points alone never open a churn_risk task today, and never again after
  the save task expires.
- A high churn-risk band opens one `churn_risk` task (key `{sid}:churn_risk:{n}`), none while
  another churn_risk task of the subscriber is active, and none within `risk.cooldown_days`
  after the team handled one (an outreach logged on it, or it was closed as done).

Planning asks the subscriber index (bot/repos/subscriber_index.py) for the subscribers that
hold a date a milestone needs today, or whose document and events can score high, and parses
only those: the rest of a million subscribers are never decoded. Re-scoring one subscriber
outside the run (a cancel request, a failed payment) is `bot.rescore`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot import duetask, enginerun, enginerun_kept
from bot.bulk import paused_gc
from bot.clock import Clock
from bot.duetask import PlannedTask
from bot.engine_tasks import CHURN, TaskIndex, expires_after, of_written
from bot.holdout import in_holdout, inbox_writers, wrote_in
from bot.lifecycle import MilestoneWindows, due_milestones, save_end
from bot.models import (
    TASK_EXPIRED,
    TASK_OPEN,
    Event,
    Risk,
    Subscriber,
    Task,
    parse_datetime,
)
from bot.repos import Repos
from bot.repos.tasks import SkipTask
from bot.risk import MAX_SCORE, band_of, score
from bot.risk_bound import UpperBound, subscriber_flags
from config.rules import LifecycleRules, RiskRules
from config.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class EngineChanges:
    """What one engine run would do: tasks to create and open tasks to expire."""

    today: date
    now: datetime
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)  # decides expiry
    create: list[Task] = field(default_factory=list)
    # With `lazy`, everything created in creation order: the `create` tasks, and the milestone
    # tasks of customers whose risk changes nothing here as `PlannedTask` facts.
    planned: list[Task | PlannedTask] = field(default_factory=list)
    expire: list[Task] = field(default_factory=list)  # as stored, still open
    # What planning saw of the subscribers it planned for (and of `context_for`).
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    risks: dict[str, Risk] = field(default_factory=dict)
    # What planning read, for scoring others later (`risk_of`): stored events by subscriber,
    # and the `bot.risk_bound.doc_flags` of every indexed subscriber. The store's own: read only.
    events: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    flags: Mapping[str, int] = field(default_factory=dict)


@dataclass
class EngineResult:
    """What one engine run did."""

    created: list[Task] = field(default_factory=list)
    expired: list[Task] = field(default_factory=list)


def run_engine(today: date, repos: Repos, settings: Settings, clock: Clock) -> EngineResult:
    """Open the tasks due on `today` and expire the stale ones.

    Args:
        today: the digest date, in the team's timezone.
        repos: the repositories.
        settings: lifecycle and risk rules.
        clock: stamps `created_at` and `closed_at`.

    Returns:
        The tasks created and the tasks expired by this run.
    """
    # Planning reads without the store lock (Slack handlers keep writing meanwhile); applying
    # re-checks every change under the lock. The run is recorded (bot/enginerun.py) only if
    # nothing was written while it planned: then what it wrote leaves nothing more to do today.
    # After a recorded run today or yesterday (which planned today ahead), it plans only for
    # the subscribers written since or noted ahead.
    with repos.store.lock:
        before = enginerun.fingerprint(repos.store)
        since = enginerun.written_since(repos.store, today, settings)
    changes = plan_changes(today, repos, settings, clock.now(), since=since)
    with repos.store.lock:
        settled = before is not None and enginerun.fingerprint(repos.store) == before
        enginerun_kept.stop_keeping(repos.store)  # its own writes: no link for the run it replaces
        result = apply_changes(changes, repos)
        recorded = enginerun.record(repos.store, today, settings) if settled else None
        if recorded is None:
            enginerun.forget(repos.store)
    if recorded is not None:
        _plan_ahead(today + timedelta(days=1), repos, settings, clock, recorded)
    # The plan index this process keeps up to date, saved again if written since its file was
    # (bot/repos/plan_file.py): a preview or a restart restores it instead of indexing anew.
    repos.subscribers.resave_plan_index()
    return result


def _plan_ahead(
    day: date, repos: Repos, settings: Settings, clock: Clock, recorded: dict[str, str]
) -> None:
    """Note in the run's record whom a dry run for `day` would touch (`enginerun.note_ahead`):
    the day's first plan, before its engine run, then plans only for them and the written."""
    try:
        ahead = plan_changes(day, repos, settings, clock.now())
    except Exception:  # only the next day's shortcut is lost: it runs the whole dry run
        log.exception("Planning %s ahead after the engine's run failed", day)
        return
    touched = {t.subscriber_id for t in [*ahead.create, *ahead.expire]}
    with repos.store.lock:
        enginerun.note_ahead(repos.store, day, touched, recorded)


def plan_changes(
    today: date,
    repos: Repos,
    settings: Settings,
    now: datetime,
    *,
    context_for: Collection[str] = (),
    since: enginerun.Written | None = None,
    lazy: bool = False,
) -> EngineChanges:
    """Work out, without writing anything, what `run_engine` would do on `today`.

    Args:
        today: the date to plan for, in the team's timezone.
        repos: the repositories (only read).
        settings: lifecycle and risk rules, timezone.
        now: the time stamped on planned tasks.
        context_for: subscriber ids whose `Subscriber` and `Risk` the caller also wants (the
            digest's), gathered in the same pass.
        since: what was written since the engine ran today, or since yesterday's run that
            noted today's dry run ahead (`bot.enginerun.written_since`): only the subscribers
            it touches are planned, the run having left nothing to do for the others. None
            plans for every subscriber.
        lazy: for a plan that builds few entries (`bot.sizing`): a customer whose risk
            cannot open a churn_risk task gets their milestone tasks as `PlannedTask` facts
            (id reserved in the same order), neither scored nor kept in `subscribers`.

    Returns:
        The changes, with `subscribers` and `risks` for every planned task's subscriber and
        every id in `context_for` that is stored.
    """
    with paused_gc():
        return _plan(today, repos, settings, now, context_for, since, lazy)


def plan_since_run(
    today: date, repos: Repos, settings: Settings, now: datetime, *, lazy: bool = False
) -> EngineChanges:
    """`plan_changes` for a digest: after the engine's run today (or yesterday's, which noted
    today ahead), for the subscribers written since or noted (none: nothing to do), else for
    every subscriber (`bot.enginerun`)."""
    with repos.store.lock:  # the record read against the files as they are
        since = enginerun.written_since(repos.store, today, settings)
    return plan_changes(today, repos, settings, now, since=since, lazy=lazy)


def _plan(
    today: date,
    repos: Repos,
    settings: Settings,
    now: datetime,
    context_for: Collection[str],
    since: enginerun.Written | None,
    lazy: bool = False,
) -> EngineChanges:
    lifecycle, risk_rules = settings.lifecycle, settings.risk
    changes = EngineChanges(today, now, lifecycle)
    events = repos.events.raw_by_subscriber()
    windows = MilestoneWindows(today, lifecycle)
    if since is None:
        tasks = TaskIndex(repos.tasks.raw(), repos.outreach.raw_by_subscriber(), today, settings)
        also = repos.subscribers.ids() if risk_rules.high <= 0 else [*events, *context_for]
        order: Mapping[str, int | None]  # id -> the doc id it was found at, if known
        order, dated, flags = repos.subscribers.plan_candidates(windows, also)
    else:
        written, tasks = of_written(repos, since, context_for, today, settings)
        order, dated, flags = dict.fromkeys(written), set(written), {}
    changes.expire = tasks.expiring
    changes.events, changes.flags = events, flags
    bound = UpperBound(today, risk_rules)
    reserved: set[str] = set()
    holdout = settings.holdout_percent
    writers = inbox_writers(repos) if holdout and order else set()
    for sid, at in order.items():
        # Only subscribers holding one of the dates a milestone needs are read to test it
        # (straight from their JSON, `SubscriberRepo.get`): the risk bound of the others
        # comes from the index (bot/repos/subscriber_index).
        dated_sub = repos.subscribers.get(sid, at) if sid in dated else None
        if sid in dated and dated_sub is None:
            continue  # not stored, or cannot be read (logged by the repository)
        try:
            bits = flags.get(sid, 0) if dated_sub is None else subscriber_flags(dated_sub)
            most = bound.points_of_events(bits, events, sid)
        except (KeyError, TypeError, AttributeError, ValueError):
            if dated_sub is None:
                continue  # events that cannot be read
            raise
        wanted = sid in context_for
        # A churn_risk task can open only if the bound reaches the high band and none is
        # active or in cooldown: otherwise today's score changes nothing here.
        can_open = most >= risk_rules.high and tasks.next_churn_key(sid, today) is not None
        if not (dated_sub is not None or can_open or wanted):
            continue
        sub = dated_sub or repos.subscribers.get(sid, at)
        if sub is None:
            continue
        milestones = due_milestones(sub, today, lifecycle) if dated_sub is not None else []
        fresh = [m for m in milestones if not tasks.has_key(m.key)]
        if not (fresh or can_open or wanted):
            continue
        if lazy and not (can_open or wanted):  # the risk changes nothing here
            value = _value(sub)
            for m in fresh:
                task_id = repos.tasks.new_id(m.key, reserved)
                reserved.add(task_id)
                tasks.keys.add(m.key)
                changes.planned.append(
                    PlannedTask(task_id, m.key, m.kind, m.due, value, sid, now, m)
                )
            continue
        new = [(m.key, m.kind, m.due, m.reason) for m in fresh]
        risk = scored(sub, events.get(sid, ()), most, today, settings)
        churn_key = (
            tasks.next_churn_key(sid, today)
            if can_open and opens_churn(sub, risk, risk_rules)
            else None
        )
        if churn_key:
            new.append((churn_key, CHURN, today, churn_reason(risk)))
        if new or wanted:
            changes.subscribers[sid], changes.risks[sid] = _detached(sub), risk
        for key, kind, due, reason in new:
            task = new_task(repos, reserved, key, kind, sub, due, now, reason, risk)
            task.holdout = (
                kind == CHURN
                and in_holdout(key, holdout)
                and not wrote_in(sid, events.get(sid, ()), writers)
            )  # bot/holdout.py
            tasks.add(task)
            changes.create.append(task)
            if lazy:
                changes.planned.append(task)
    return changes


def scored(
    sub: Subscriber,
    event_docs: Iterable[dict[str, Any]],
    most: int,
    today: date,
    settings: Settings,
) -> Risk:
    """Today's risk of `sub` from their stored events, `most` being its upper bound
    (`bot.risk_bound.UpperBound`): with nothing that could score, the scoring is skipped."""
    if most <= 0:
        return Risk(0, "low", [])
    return score(sub, _events(event_docs), today, settings.risk, tz=settings.timezone)


def apply_changes(changes: EngineChanges, repos: Repos) -> EngineResult:
    """Write a plan: expire its tasks that are still open and stale, create its new tasks.

    Safe against changes made since planning: a task claimed or snoozed meanwhile is not
    expired, a key created meanwhile is not created twice, an id taken meanwhile is replaced.
    """
    result = EngineResult()
    with repos.store.lock:
        result.expired = repos.tasks.mutate_many([t.id for t in changes.expire], _expirer(changes))
        reserved = {t.id for t in changes.create}
        for task in changes.create:
            if repos.tasks.get(task.id) is not None:
                reserved.discard(task.id)
                task.id = repos.tasks.new_id(task.key, reserved)
                reserved.add(task.id)
        result.created = repos.tasks.create_many(changes.create)
    return result


def opens_churn(sub: Subscriber, risk: Risk, rules: RiskRules) -> bool:
    """Whether a risk opens a churn_risk task: a high band, not counting a scheduled
    cancellation whose end day is known (its save task is timed before that day)."""
    if risk.band != "high":
        return False
    if save_end(sub) is None:
        return True
    rest = sum(r.points for r in risk.reasons if r.rule != "scheduled_cancellation")
    return band_of(min(rest, MAX_SCORE), rules) == "high"


def _expirer(changes: EngineChanges):  # noqa: ANN202 - a mutate callback
    def expire(task: Task) -> None:
        if task.status != TASK_OPEN or changes.today <= expires_after(task, changes.lifecycle):
            raise SkipTask  # claimed or snoozed since planning
        task.status, task.outcome, task.closed_at = TASK_EXPIRED, TASK_EXPIRED, changes.now

    return expire


def churn_reason(risk: Risk) -> str:
    return f"Churn risk {risk.score} ({risk.band}): " + "; ".join(risk.reason_texts())


def new_task(
    repos: Repos,
    reserved: set[str],
    key: str,
    kind: str,
    sub: Subscriber,
    due: date,
    now: datetime,
    reason: str,
    risk: Risk,
) -> Task:
    task_id = repos.tasks.new_id(key, reserved)
    reserved.add(task_id)
    return duetask.new_task(task_id, key, kind, sub.id, due, now, reason, risk, _value(sub))


def _value(sub: Subscriber) -> float:
    """Monthly value of the live subscriptions; for an ended customer, of what they paid."""
    paid = (s.monthly_value for s in sub.subscriptions if not s.never_paid)
    return sub.monthly_value or round(sum(paid), 2)


def _detached(sub: Subscriber) -> Subscriber:
    """A subscriber parsed from a stored document, no longer sharing its lists with it."""
    sub.history = [dict(h) for h in sub.history]
    sub.tags = list(sub.tags)
    return sub


def _events(docs: Iterable[dict[str, Any]]) -> list[Event]:
    """Events from stored documents, built directly (4x faster than `Event.from_doc`)."""
    return [
        Event(
            id=d["id"],
            subscriber_id=d["subscriber_id"],
            type=d["type"],
            at=parse_datetime(d["at"]),  # type: ignore[arg-type]
            value=d.get("value"),
        )
        for d in docs
    ]
