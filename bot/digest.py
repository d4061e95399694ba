"""The digest plan: who needs a proactive touch on a date, one entry per customer.

`plan_digest` only reads. It takes the active tasks (open or claimed), adds what the engine
would create that day and drops what it would expire, leaves out tasks not yet due or snoozed
past the day, and groups the rest by subscriber: one `DigestEntry` per customer with all of
their tasks, every reason and their current risk.

What a plan holds, its order and how it is sized to the team: `bot.digest_plan`. How an
entry is built and ranked: `bot.digest_entries`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot import duetask, priority
from bot.bulk import paused_gc
from bot.digest_entries import Entries
from bot.digest_plan import DigestPlan, Due, count_tasks, kind_rank
from bot.duetask import TaskFacts
from bot.engine import plan_since_run
from bot.holdout import held_out
from bot.models import ACTIVE_TASK_STATUSES, TASK_OPEN
from bot.outreach.contact import deferrable, last_contact, reached_within
from bot.repos import Repos
from config.settings import Settings


def plan_digest(today: date, repos: Repos, settings: Settings, now: datetime) -> DigestPlan:
    """What the digest would hold on `today`, without changing any data.

    Every customer due gets a full entry; `bot.sizing.plan_day` builds them only for what
    is posted.

    Args:
        today: the digest date, in the team's timezone.
        repos: the repositories (only read).
        settings: lifecycle and risk rules.
        now: the time the planned (not yet created) tasks would carry.

    Returns:
        The plan: entries in digest order and counts. Claimed tasks are included (with their
        status); tasks due after `today` or snoozed past it are not.
    """
    with paused_gc():
        dues, entries, deferred = gather(today, repos, settings, now)
        built = [entries.entry(due) for due in dues]
    built.sort(key=lambda e: (kind_rank(e.kind), *e.rank_key(today)))
    grace = settings.lifecycle.grace_days
    return DigestPlan(today, built, count_tasks(built, today, grace), grace, deferred=deferred)


def gather(
    today: date, repos: Repos, settings: Settings, now: datetime, *, slim: bool = False
) -> tuple[list[Due], Entries, int]:
    """Every customer due on `today` (cheap facts only), what builds their entries, and how
    many customers' touches are deferred.

    With `slim`, a stored task is kept as its `bot.duetask.DueTask` facts (its entry reads it
    again in full): the sized plan builds a few hundred entries, not one per customer due.
    """
    grace = settings.lifecycle.grace_days
    day = today.isoformat()
    stored: list[tuple[str, TaskFacts]] = []
    if slim:  # the facts kept between plans
        stored.extend(duetask.shown(repos, today))
    else:
        docs = (d for d in repos.tasks.raw() if _shown(d, day))
        loaded = repos.tasks.load(docs)
        stored.extend((t.subscriber_id, t) for t in loaded if t.due <= today and not t.held_out)
    # After the engine's run today, only for the subscribers written since (bot/enginerun.py)
    changes = plan_since_run(today, repos, settings, now, lazy=slim)
    expiring = {t.id for t in changes.expire}
    by_subscriber: dict[str, list[TaskFacts]] = {}
    for sid, task in stored:
        if task.id not in expiring:
            by_subscriber.setdefault(sid, []).append(task)
    for task in changes.planned if slim else changes.create:
        if task.id not in expiring and task.due <= today and not task.held_out:
            by_subscriber.setdefault(task.subscriber_id, []).append(task)
    outreach = repos.outreach.raw_by_subscriber()
    dues = []
    deferred = 0
    for sid, tasks in by_subscriber.items():
        logged = outreach[sid] if sid in outreach else ()  # noqa: SIM401 - no KeyError raised
        if logged and _deferred(sid, tasks, today, repos, settings):
            deferred += 1
            continue
        if len(tasks) > 1:
            tasks.sort(key=lambda t: (kind_rank(t.kind), t.due, t.id))
        overdue = any(t.overdue(today, grace) for t in tasks)
        dues.append(Due(sid, tasks, overdue, priority.last_reached_on(logged, settings.timezone)))
    return dues, Entries(today, repos, settings, changes), deferred


def _deferred(
    sid: str, tasks: list[TaskFacts], today: date, repos: Repos, settings: Settings
) -> bool:
    """An unclaimed lifecycle touch for a customer reached in the last quiet days waits."""
    if not deferrable(t.kind for t in tasks) or any(t.status != TASK_OPEN for t in tasks):
        return False
    contact = last_contact(repos.outreach.for_subscriber(sid))
    return reached_within(contact, today, settings.outreach.quiet_days, settings.timezone)


def _shown(doc: dict[str, Any], day: str) -> bool:
    """An active stored task that is due by `day` (ISO) and not snoozed past it."""
    return (
        doc.get("status") in ACTIVE_TASK_STATUSES
        and not held_out(doc)
        and str(doc.get("due")) <= day
        and not (doc.get("snoozed_until") and str(doc["snoozed_until"]) > day)
    )
