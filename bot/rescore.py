"""Re-scoring one subscriber now, outside the daily run (a cancel request by email, a failed
payment): their churn_risk task's snapshot is updated, or one is opened (`bot.engine`'s rules).
"""

from __future__ import annotations

from datetime import date, datetime

from bot.engine import churn_reason, new_task, opens_churn
from bot.engine_tasks import CHURN, TaskIndex
from bot.lifecycle import SAVE_MARK
from bot.models import Risk, Task
from bot.repos import Repos
from bot.risk import score
from config.settings import Settings


def refresh_churn_risk(
    subscriber_id: str, repos: Repos, settings: Settings, now: datetime, force: bool = False
) -> Task | None:
    """Re-score one subscriber now (after a cancel request by email, say).

    If a churn_risk task is active, its risk snapshot is updated and it is returned. Otherwise,
    if the band is high and the subscriber is not in cooldown, a churn_risk task is created
    and returned. Else (or for an unknown subscriber) returns None. `force` creates the task
    whatever the band and cooldown: a live alert (a failed payment) asks for a person now.
    An active churn_risk task that was held out (bot/holdout.py) is shown from now on: the
    customer is before the team.
    """
    today = now.astimezone(settings.timezone).date()
    with repos.store.lock:
        sub = repos.subscribers.get(subscriber_id)
        if sub is None:
            return None
        events = repos.events.for_subscriber(sub.id)
        risk = score(sub, events, today, settings.risk, tz=settings.timezone)
        docs = [t.to_doc() for t in repos.tasks.for_subscriber(sub.id)]
        outreach = {sub.id: [o.to_doc() for o in repos.outreach.for_subscriber(sub.id)]}
        index = TaskIndex(docs, outreach, today, settings)
        active = index.active_churn_ids(sub.id)
        if active:
            snapshot = _snapshot(risk, today)
            updated = [repos.tasks.mutate(tid, snapshot)[0] for tid in sorted(active)]
            return min(updated, key=lambda t: (t.due, t.id))
        key = index.next_churn_key(sub.id, today)
        if force and key is None:
            key = index.next_churn_key(sub.id, today, cooldown=False)
        if key is None or (not opens_churn(sub, risk, settings.risk) and not force):
            return None
        task = new_task(repos, set(), key, CHURN, sub, today, now, churn_reason(risk), risk)
        return task if repos.tasks.create(task) else repos.tasks.by_key(key)


def _snapshot(risk: Risk, today: date):  # noqa: ANN202 - a mutate callback
    def update(task: Task) -> None:
        task.risk_score, task.risk_band = risk.score, risk.band
        task.risk_reasons = risk.reason_texts()
        if SAVE_MARK not in task.key:  # a save task keeps its own reason
            task.reason = churn_reason(risk)
        if task.held_out:  # the customer is before the team now: the holdout ends
            task.holdout_ended = today

    return update
