"""Building a due customer's digest entry, and the cheap facts that rank them first.

The plan (`bot.digest.gather`) finds who is due; `Entries` gives what ranks them (value and
an upper bound of today's risk, without parsing their documents when the plan index has them)
and builds the full `DigestEntry` only for those it is asked for.
"""

from __future__ import annotations

from datetime import date

from bot import duetask, priority
from bot.digest_plan import DigestEntry, Due
from bot.engine import EngineChanges, scored
from bot.models import Risk, Subscriber
from bot.repos import Repos
from bot.repos.subscriber_index import value_and_flags
from bot.risk import MAX_SCORE
from bot.risk_bound import Mark, UpperBound, doc_flags, event_marks, subscriber_flags
from config.settings import Settings


class Entries:
    """Builds a due customer's entry, and the facts that rank them, as the digest shows them.

    Today's risk is scored as the engine scores it (`bot.engine.scored`), only when asked for;
    its upper bound (`bound`) costs no parsing.
    """

    def __init__(self, today: date, repos: Repos, settings: Settings, changes: EngineChanges):
        self.today, self.repos, self.settings, self.changes = today, repos, settings, changes
        self._bound = UpperBound(today, settings.risk)
        self._flags: dict[str, int] = {}  # the risk bits each `bound` was computed from

    def facts(self, due: Due, *, bounded: bool = True) -> tuple[float, int | None]:
        """(at least the customer's `value`, `bound`): what ranks them before their entry is
        built, from the plan index if it is built, else from one slim read of the stored
        document. Without `bounded` the bound may be left out (None) when it costs a read of
        the customer's events.

        The value is the subscriptions' monthly value, or the most noted on the tasks if that
        is more (the entry's own value is never more than this); a document whose fields do
        not have the model's types is read in full.
        """
        sid = due.subscriber_id
        if sid not in self.changes.subscribers:
            slim = self.repos.subscribers.planned(sid)
            if slim is None:
                held = self.repos.subscribers.held(sid)
                slim = value_and_flags(held) if held is not None else None
            if slim is not None:
                tasks = due.tasks
                noted = tasks[0].value if len(tasks) == 1 else max(t.value for t in tasks)
                return max(slim[0], noted), self._points(sid, slim[1]) if bounded else None
        sub = self.changes.subscribers.get(sid) or self.repos.subscribers.get(sid)
        value = self.value(due, sub or Subscriber(id=sid))
        return value, self.bound(sid, sub)

    def bound(self, sid: str, sub: Subscriber | None = None) -> int:
        """The most risk points the customer can score today (0: their risk is exactly none).

        `sub`, the customer as stored, gives their `bot.risk_bound.doc_flags` when the plan has no
        index of them (a plan after the engine's run skips the dry run that reads it): the
        same facts as the document's, as `bot.risk.score` reads them.
        """
        if sid in self.changes.risks:
            return self.changes.risks[sid].score
        flags = self.changes.flags.get(sid)
        if flags is None and sub is not None:
            flags = subscriber_flags(sub)
        if flags is None:  # not indexed (an unexpected shape): read the document
            doc = self.repos.subscribers.raw_doc(sid)
            try:
                flags = doc_flags(doc) if doc is not None else 0
            except (KeyError, TypeError, AttributeError, ValueError):
                return MAX_SCORE  # let the scoring decide
        return self._points(sid, flags)

    def _points(self, sid: str, flags: int) -> int:
        self._flags[sid] = flags
        return self._bound.points_of_events(flags, self.changes.events, sid)

    def _marks(self, sid: str) -> list[Mark]:
        """What the risk bound reads of the customer's events, from a slim decode of each."""
        return event_marks(self.changes.events, sid)

    def may_pin(self, sid: str, most: int) -> bool:
        """Whether the must-show rules could pin the customer, their risk bound being `most`
        (`bound`): a high band needs `most` in it, a payment reason a late subscription or a
        failed payment in the window (`bot.risk_bound.UpperBound.payment_possible`)."""
        if most >= self.settings.risk.high:
            return True
        risk = self.changes.risks.get(sid)  # scored by the dry run
        if risk is not None:
            return any(r.rule in priority.PAYMENT_RULES for r in risk.reasons)
        flags = self._flags.get(sid)
        if flags is None:  # bounded otherwise (a document read in full): score it
            return True
        return self._bound.payment_possible_marks(flags, self._marks(sid))

    def subscriber(self, sid: str) -> Subscriber:
        """The customer as stored (a bare `Subscriber(id=...)` if no longer stored)."""
        return (
            self.changes.subscribers.get(sid)
            or self.repos.subscribers.get(sid)
            or Subscriber(id=sid)
        )

    def value(self, due: Due, sub: Subscriber | None = None) -> float:
        """Monthly value now, else as noted on the tasks (`DigestEntry.value`)."""
        sub = sub or self.subscriber(due.subscriber_id)
        return sub.monthly_value or max((t.value for t in due.tasks), default=0.0)

    def entry(self, due: Due) -> DigestEntry:
        """The customer's full entry: subscriber, today's risk, priority."""
        sid = due.subscriber_id
        sub, risk = self.changes.subscribers.get(sid), self.changes.risks.get(sid)
        if sub is None or risk is None:
            stored = self.repos.subscribers.get(sid)
            sub = stored or Subscriber(id=sid)
            risk = Risk(0, "low", [])
            if stored is not None:
                events = self.changes.events.get(sid, ())
                risk = scored(stored, events, self.bound(sid), self.today, self.settings)
        tasks = duetask.full(self.repos, due.tasks, risk)
        entry = DigestEntry(sub, tasks, risk, due.tasks[0].kind, due.overdue)
        entry.priority = priority.of_tasks(
            tasks,
            self.today,
            self.settings.lifecycle.grace_days,
            risk=risk,
            value=entry.value,
            last_reached=due.last_reached,
        )
        return entry
