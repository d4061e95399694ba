"""The churn-risk holdout: a share of churn-risk tasks kept out of the digest, to measure lift.

With `[care] holdout_percent = N` (default 0: off), about N% of new churn-risk tasks are created
with `holdout = True`: they are stored and expire like any task, but the digest, its preview,
the Home tab and the team's numbers leave them out, so the report can compare customers
reached, customers due but not reached, and customers deliberately left alone
(bot/metrics/outcomes.py). Which tasks is decided by a hash of the task's key, so a preview, a
re-plan or a restart always decides the same way.

A customer who wrote in (an inbox conversation, a cancel request, a support contact, a helpdesk
ticket) is never held out: someone asking for help is always answered. If they write in while
their task is held out, or a live alert brings them before the team, the holdout of that task
ends (`holdout_ended`, the day): it is shown from then on. It stays in the held-out group of
the report (the group a task was drawn into, not what happened to it after).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from bot.repos import Repos

# Event types that mean the customer contacted the team (helpdesk tickets arrive as
# support_contact, bot/signals/helpdesk.py).
WROTE_IN_EVENTS = frozenset({"cancel_request", "support_contact"})


def in_holdout(key: str, percent: int) -> bool:
    """True for about `percent`% of task keys, always the same ones."""
    return percent > 0 and zlib.crc32(f"holdout:{key}".encode()) % 100 < percent


def inbox_writers(repos: Repos) -> set[str]:
    """Subscriber ids with at least one inbox conversation."""
    return {item.subscriber_id for item in repos.inbox.items() if item.subscriber_id}


def wrote_in(sid: str, event_docs: Iterable[Mapping[str, Any]], writers: set[str]) -> bool:
    """True when the customer has an inbox conversation or a contact event, at any time."""
    return sid in writers or any(e.get("type") in WROTE_IN_EVENTS for e in event_docs)


def held_out(doc: Mapping[str, Any]) -> bool:
    """A stored task document that is held out now (`Task.held_out` for raw readers)."""
    return bool(doc.get("holdout")) and not doc.get("holdout_ended")
