"""One explainable order for every list of work a manager reads.

The digest (which entries are posted, and their order within each kind), the queue of what
waits beyond the team's capacity, the App Home, `/care mine` and `/care triage` all rank by
the same four facts, in this order:

1. **overdue** first (a task due more than `grace_days` ago; for an email, one past its
   reminder time);
2. then **risk**: the customer's churn-risk score, highest first;
3. then **value at stake**: the customer's monthly subscription value, highest first;
4. then **how long since the customer was last reached** (an outreach logged as reached,
   saved, lost or follow-up), longest first; never reached counts as longest.

Ties fall back to the oldest due date, then the customer's id, so the order is stable. `Priority.reasons`
says in words why an entry sits where it does.

Some work must always be shown, whatever the capacity: every high churn risk and every
failed payment worth at least `[digest] must_show_value` a month (`must_show`). `select`
keeps those and fills the rest of a page or a digest by rank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, TypeVar

from bot.models import Risk, Task

T = TypeVar("T")
# Outreach outcomes that mean the team spoke with the customer.
REACHED_OUTCOMES = frozenset({"reached", "saved", "lost", "follow_up"})
# Risk rules that mean money failed to arrive (bot.risk).
PAYMENT_RULES = frozenset({"payment_failed", "past_due"})
NEVER = 10**6  # days since "never reached": longer than any real gap


@dataclass(frozen=True)
class Priority:
    """The facts an entry is ranked by.

    Attributes:
        overdue: any of its work is overdue.
        risk: churn-risk score, 0 to 100.
        band: the risk band ("high", "medium", "low").
        value: monthly value at stake.
        last_reached: the day the customer was last reached, None if never.
        payment_failed: a failed or past-due payment is among the risk reasons.
    """

    overdue: bool = False
    risk: int = 0
    band: str = "low"
    value: float = 0.0
    last_reached: date | None = None
    payment_failed: bool = False

    def days_since_reached(self, today: date) -> int:
        return _days_since(self.last_reached, today)

    def key(self, today: date) -> tuple[Any, ...]:
        """Sort key: smaller sorts first."""
        return (not self.overdue, -self.risk, -self.value, -self.days_since_reached(today))

    def reasons(self, today: date) -> list[str]:
        """Why it ranks where it does, in the order the facts count ("overdue", "risk 65 high",
        "last reached 40 days ago"). The value is left to the caller, who knows its currency."""
        words = ["overdue"] if self.overdue else []
        if self.risk:
            words.append(f"risk {self.risk} {self.band}")
        days = self.days_since_reached(today)
        words.append("never reached" if days == NEVER else f"last reached {days} days ago")
        return words


def sort_key(priority: Priority, today: date, first_due: date, ident: str) -> tuple[Any, ...]:
    """The full order: the priority, then the oldest due date and the customer's id."""
    return (*priority.key(today), first_due, ident)


def facts_key(
    overdue: bool,
    risk: int,
    value: float,
    last_reached: date | None,
    today: date,
    first_due: date,
    ident: str,
) -> tuple[Any, ...]:
    """`sort_key` of `Priority(overdue, risk, value=value, last_reached=last_reached)`, without
    building it (the sized plan keys every customer due)."""
    return (not overdue, -risk, -value, -_days_since(last_reached, today), first_due, ident)


def _days_since(day: date | None, today: date) -> int:
    return NEVER if day is None else max((today - day).days, 0)


def of_tasks(
    tasks: Sequence[Task],
    today: date,
    grace_days: int,
    *,
    risk: Risk | None = None,
    value: float | None = None,
    last_reached: date | None = None,
) -> Priority:
    """The priority of one customer's work.

    Args:
        tasks: the customer's tasks in the entry.
        today: the team's date.
        grace_days: a task due more than this many days ago is overdue.
        risk: today's risk if known; otherwise the highest risk noted on the tasks.
        value: the monthly value now if known; otherwise the highest noted on the tasks.
        last_reached: the team's day the customer was last reached (`last_reached_on`).
    """
    overdue = any(t.overdue(today, grace_days) for t in tasks)
    if risk is not None:
        score, band = risk.score, risk.band
        failed = any(r.rule in PAYMENT_RULES for r in risk.reasons)
    else:
        top = max(tasks, key=lambda t: t.risk_score, default=None)
        score, band = (top.risk_score, top.risk_band) if top else (0, "low")
        failed = any(_payment_text(r) for t in tasks for r in t.risk_reasons)
    if value is None:
        value = max((t.value for t in tasks), default=0.0)
    return Priority(overdue, score, band, value, last_reached, failed)


def _payment_text(reason: str) -> bool:
    """A risk reason as stored on a task (text only) that speaks of a failed payment."""
    lowered = reason[:200].lower()
    return "payment" in lowered and ("fail" in lowered or "past due" in lowered)


def last_reached_on(outreach_docs: Iterable[dict[str, Any]], tz: tzinfo) -> date | None:
    """The day, in the team's timezone `tz`, of the latest outreach that reached the customer,
    from stored documents (their times are stored in UTC)."""
    latest = ""
    for doc in outreach_docs:
        at = str(doc.get("at") or "")
        if doc.get("outcome") in REACHED_OUTCOMES and at > latest:
            latest = at
    if not latest:
        return None
    try:
        when = datetime.fromisoformat(latest)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(tz).date()


def must_show(priority: Priority, min_value: float) -> bool:
    """Always shown: a high churn risk or a failed payment worth at least `min_value` a month."""
    return (priority.band == "high" or priority.payment_failed) and priority.value >= min_value


def rank(items: Iterable[T], key: Callable[[T], tuple[Any, ...]]) -> list[T]:
    """`items` in priority order (`key` is usually `sort_key` of the item's priority)."""
    return sorted(items, key=key)


def select(
    ranked: Sequence[T], limit: int | None, pinned: Callable[[T], bool]
) -> tuple[list[T], list[T]]:
    """Split ranked items into what is shown and what waits, both still in rank order.

    Everything `pinned` is shown even past `limit`; the rest fill what is left of `limit`
    by rank. `limit` None shows everything.
    """
    if limit is None or len(ranked) <= limit:
        return list(ranked), []
    pins = [pinned(item) for item in ranked]
    room = max(limit - sum(pins), 0)
    shown, waiting = [], []
    for item, pin in zip(ranked, pins, strict=True):
        if pin:
            shown.append(item)
        elif room > 0:
            shown.append(item)
            room -= 1
        else:
            waiting.append(item)
    return shown, waiting
