"""Small lookups shared by the listeners: which tasks form a digest entry, stats for display."""

from __future__ import annotations

from bot import queue
from bot.blocks.cards import Stats
from bot.blocks.digest import digest_total
from bot.repos.digests import POSTED
from bot.stats import TeamStats
from handlers.context import Services
from handlers.triage_commands import inbox_figures


def task_entry_ids(services: Services, task_id: str, claimed_by: str | None = None) -> list[str]:
    """The active tasks shown together with `task_id` (one customer, one entry), it first.

    A task posted in a digest is claimed, released, logged with the rest of its entry, so that
    nobody works the same subscriber twice; so is a task waiting in the queue, with the
    customer's other queued tasks (`bot.queue.entry_tasks`).
    """
    task = services.repos.tasks.get(task_id)
    if task is None:
        return [task_id.strip().lower()]
    ids = [task.id]
    ts = task.slack.get("ts")
    today = services.care.today()
    message = services.repos.digests.message_at(ts) if ts else None  # where it is shown now
    entry = next((e for e in message.entries if task.id in e), []) if message else []
    if message is None:
        entry = [t.id for t in queue.entry_tasks(services.repos, task, today)]
    if entry:
        for other_id in entry:
            other = services.repos.tasks.get(other_id)
            if (
                other
                and other.id != task.id
                and other.active
                and (claimed_by is None or other.claimed_by == claimed_by)
            ):
                ids.append(other.id)
    return ids


def stats_view(services: Services, stats: TeamStats, with_digest: bool = False) -> Stats:
    """The builder's view of the team's numbers, with the inbox connector's health if any, and
    (`with_digest`) today's digest counted as its parent message counts it."""
    view = Stats(
        period_days=stats.period_days,
        due=stats.due,
        claimed=stats.claimed,
        done=stats.done,
        expired=stats.expired,
        automated=stats.automated,
        per_manager={
            user: {"claimed": m.claimed, "done": m.done, "outreach": m.outreach, "saved": m.saved}
            for user, m in stats.per_manager.items()
            if user
        },
        median_claim_minutes=stats.median_claim_minutes,
    )
    if with_digest:
        view.digest_day = services.publisher.today()
        record = services.repos.digests.get(view.digest_day)
        if record is not None and record.status == POSTED:
            progress = services.publisher.progress(record)
            view.digest = {"listed": digest_total(record.counts), **progress}
    if services.triage is not None:
        view.inbox = inbox_figures(services.triage)
    if services.signals is not None:
        view.signals = {s.source: s.summary() for s in services.signals.states()}
    return view
