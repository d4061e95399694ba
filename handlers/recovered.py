"""Slack catches up with an action a killed process left half-done and the store completed.

`bot.journal` completes an interrupted transaction when the data directory is opened; the
Slack edits that were to follow it never happened. At start the bot makes them: the digest
messages and parent counts of the tasks it touched, and for an outreach log its thread reply.
"""

from __future__ import annotations

import logging

from handlers.commands import post_outreach_reply
from handlers.context import Services

log = logging.getLogger(__name__)


def show_recovered(services: Services) -> None:
    """Bring Slack up to date with the transaction the store completed at open, if any."""
    intent = services.repos.store.recovered
    if not intent:
        return
    repos = services.repos
    tasks = [t for t in (repos.tasks.get(i) for i in intent.get("tasks", [])) if t is not None]
    try:
        services.publisher.refresh(tasks)
        if intent.get("action") == "log" and tasks:
            logged = repos.outreach.for_task_ids([t.id for t in tasks], tasks[0].subscriber_id)
            if logged is not None:
                post_outreach_reply(services, tasks, logged)
    except Exception:
        log.exception("Showing the completed %s in Slack failed", intent.get("action"))
