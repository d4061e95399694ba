"""Team numbers for `/care stats` and the App Home: due, claimed, done, expired, per manager."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from bot.holdout import held_out
from bot.models import ACTIVE_TASK_STATUSES, TASK_DONE, TASK_EXPIRED, Outreach, Task
from bot.repos import Repos
from bot.techtouch import BOT_USER


@dataclass
class ManagerStats:
    claimed: int = 0
    done: int = 0
    outreach: int = 0
    saved: int = 0


@dataclass
class TeamStats:
    period_days: int
    due: int = 0
    claimed: int = 0
    done: int = 0
    expired: int = 0
    automated: int = 0  # closed by the bot's own email (tech touch), not in `done`
    open_now: int = 0
    median_claim_minutes: float | None = None
    per_manager: dict[str, ManagerStats] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)


def team_stats(repos: Repos, now: datetime, period_days: int) -> TeamStats:
    """Numbers for the last `period_days` days up to `now`.

    A task counts as due when its due date falls in the period, claimed/done/expired when that
    happened in the period; a task closed by the bot's own email (tech touch) counts as
    automated, and the bot's outreach is not a manager's. Time to claim runs from the task's creation to its claim. Tasks
    held out of the digest (bot/holdout.py) are not counted: the team never saw them.
    """
    since = now - timedelta(days=period_days)
    since_day, today = since.date(), now.date()
    first, last = since_day.isoformat(), today.isoformat()
    # Stored times are ISO text: only tasks claimed or closed within a day of the period are
    # loaded to be checked exactly; every other figure reads the stored fields as they are.
    near = (since_day - timedelta(days=1)).isoformat()
    stats = TeamStats(period_days=period_days)
    waits: list[float] = []
    recent = []
    for doc in repos.tasks.raw():
        if held_out(doc):
            continue  # never before the team (bot/holdout.py): not theirs to count
        if doc.get("status") in ACTIVE_TASK_STATUSES:
            stats.open_now += 1
        if first <= str(doc.get("due")) <= last:
            stats.due += 1
        if (
            str(doc.get("claimed_at") or "")[:10] >= near
            or str(doc.get("closed_at") or "")[:10] >= near
        ):
            recent.append(doc)
    for task in repos.tasks.load(recent):
        count_task(stats, task, since, now, waits)
        if task.closed_at and since <= task.closed_at <= now:
            if task.status == TASK_EXPIRED:
                stats.expired += 1
            elif task.status == TASK_DONE and task.closed_by == BOT_USER:
                stats.automated += 1
    add_outreach(stats, repos, since, now)
    if waits:
        stats.median_claim_minutes = round(median(waits), 1)
    stats.per_manager = ordered(stats.per_manager)
    return stats


def count_task(
    stats: TeamStats, task: Task, since: datetime, now: datetime, waits: list[float]
) -> None:
    """Count a manager's claim and close of `task` if they fall in `since`..`now`."""
    if task.claimed_at and since <= task.claimed_at <= now and task.claimed_by != BOT_USER:
        stats.claimed += 1
        stats.per_manager.setdefault(task.claimed_by, ManagerStats()).claimed += 1
        waits.append((task.claimed_at - task.created_at).total_seconds() / 60)
    closed = task.closed_at and since <= task.closed_at <= now
    if closed and task.status == TASK_DONE and task.closed_by != BOT_USER:
        stats.done += 1
        stats.per_manager.setdefault(task.closed_by, ManagerStats()).done += 1


def add_outreach(stats: TeamStats, repos: Repos, since: datetime, now: datetime) -> None:
    """Count the managers' outreach logged in `since`..`now` (the bot's is not theirs)."""
    count_outreach(stats, repos.outreach.all(), since, now)


def count_outreach(
    stats: TeamStats, logged: Iterable[Outreach], since: datetime, now: datetime
) -> None:
    """Count the managers' outreach among `logged` that falls in `since`..`now`."""
    for outreach in logged:
        if since <= outreach.at <= now and outreach.by != BOT_USER:
            person = stats.per_manager.setdefault(outreach.by, ManagerStats())
            person.outreach += 1
            person.saved += outreach.outcome == "saved"
            stats.outcomes[outreach.outcome] = stats.outcomes.get(outreach.outcome, 0) + 1


def ordered(per_manager: dict[str, ManagerStats]) -> dict[str, ManagerStats]:
    """Per-manager numbers by user id: the same order however the tasks were read."""
    return dict(sorted(per_manager.items()))
