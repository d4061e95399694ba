"""Team numbers for `/care stats` and the App Home: due, claimed, done, expired, per manager."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from bot.models import TASK_DONE, TASK_EXPIRED
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
    since_day = since.date()
    stats = TeamStats(period_days=period_days)
    waits: list[float] = []
    for task in repos.tasks.all():
        if task.held_out:
            continue  # never before the team (bot/holdout.py): not theirs to count
        if task.active:
            stats.open_now += 1
        if since_day <= task.due <= now.date():
            stats.due += 1
        if task.claimed_at and since <= task.claimed_at <= now and task.claimed_by != BOT_USER:
            stats.claimed += 1
            stats.per_manager.setdefault(task.claimed_by, ManagerStats()).claimed += 1
            waits.append((task.claimed_at - task.created_at).total_seconds() / 60)
        if task.closed_at and since <= task.closed_at <= now:
            if task.status == TASK_EXPIRED:
                stats.expired += 1
            elif task.status == TASK_DONE and task.closed_by == BOT_USER:
                stats.automated += 1
            elif task.status == TASK_DONE:
                stats.done += 1
                stats.per_manager.setdefault(task.closed_by, ManagerStats()).done += 1
    for outreach in repos.outreach.all():
        if since <= outreach.at <= now and outreach.by != BOT_USER:
            person = stats.per_manager.setdefault(outreach.by, ManagerStats())
            person.outreach += 1
            person.saved += outreach.outcome == "saved"
            stats.outcomes[outreach.outcome] = stats.outcomes.get(outreach.outcome, 0) + 1
    if waits:
        stats.median_claim_minutes = round(median(waits), 1)
    return stats
