"""One customer, one conversation: when a customer was last reached, by whom and how.

Any logged outreach counts (an email sent from Slack, a reply to their email, a call), except
a call nobody answered. A lifecycle touch for a customer reached in the last
`[outreach] quiet_days` is deferred: not posted until the quiet period is over. Churn risk is
never deferred (the risk engine has its own cooldown).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo

from bot.clock import local_day
from bot.models import Outreach

NOT_A_CONTACT = frozenset({"no_answer"})
NEVER_DEFERRED = frozenset({"churn_risk"})


def last_contact(outreach: Iterable[Outreach]) -> Outreach | None:
    """The latest outreach that reached (or tried to reach) the customer, if any."""
    touches = [o for o in outreach if o.outcome not in NOT_A_CONTACT]
    return max(touches, key=lambda o: o.at, default=None)


def reached_within(contact: Outreach | None, today: date, days: int, tz: tzinfo) -> bool:
    """Whether `contact` falls within the last `days` days up to `today` (local days)."""
    if contact is None or days <= 0:
        return False
    return local_day(contact.at, tz) > today - timedelta(days=days)


def deferrable(kinds: Iterable[str]) -> bool:
    """Whether an entry of these task kinds may be deferred (no churn risk among them)."""
    kinds = list(kinds)
    return bool(kinds) and not NEVER_DEFERRED.intersection(kinds)


def days_ago(at: datetime, today: date, tz: tzinfo) -> str:
    """ "today", "yesterday", "3 days ago" (local days)."""
    days = (today - local_day(at, tz)).days
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"
