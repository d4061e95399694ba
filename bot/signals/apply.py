"""Applying a `Signal`: the importers' upsert for one customer, plus its care events.

The subscriber is found the way an import finds it (customer id, else email) and changed
through the same `Merger`, so status history, `first_started` and kept cancellation dates
behave exactly as for a CSV row. Rules of a live way in on top:

- Newer wins by the event's own time: the time of the newest state applied is kept per
  resource (`<source>:sub:<id>`, `<source>:customer:<id>`); a subscription or customer state
  older than that is not applied. Care events are facts and are always recorded. An event
  dated too far ahead of the bot's clock competes as of its receipt (`Signal.order_at`), so
  a bad clock never makes later real updates look older (`bot.signals.intake`).
- An unknown customer is created when the signal names both its id and email; otherwise the
  signal waits for that customer (`Applied.wait_for`).
- Event ids are derived from the delivery key and type, so applying a delivery twice adds
  nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.clock import Clock
from bot.ids import stable_id
from bot.importers.formats import CustomerRow
from bot.importers.merge import Merger
from bot.models import Event, Subscriber, Subscription
from bot.repos import Repos
from bot.repos.journal import JournalRepo
from bot.signals.model import Signal


@dataclass
class Applied:
    """What applying one signal did."""

    signal: Signal
    subscriber: Subscriber | None = None
    created: bool = False
    changed: bool = False
    stale: bool = False  # its state was older than the one stored, and was not applied
    events: list[Event] = field(default_factory=list)  # the events it added (none if seen)
    wait_for: str = ""  # the customer it waits for, when it could not be applied


class SignalApplier:
    """Writes signals into the subscribers and events, under the store's lock.

    Args:
        repos: the store's repositories.
        journal: where the newest applied state time per resource is kept.
        clock: stamps history entries and `updated_at`.
    """

    def __init__(self, repos: Repos, journal: JournalRepo, clock: Clock) -> None:
        self._repos = repos
        self._journal = journal
        self._clock = clock

    def apply(self, signal: Signal, key: str) -> Applied:
        """Apply one signal of the delivery `key`; see the module rules."""
        return self.apply_batch([(signal, key)])[0]

    def apply_batch(self, items: Sequence[tuple[Signal, str]]) -> list[Applied]:
        """Apply signals in order, with one write of the subscribers for all of them.

        At 100k subscribers a subscribers write is the cost of an apply: a burst of events
        applied in batches costs a write per batch, not per event.
        """
        with self._repos.store.lock:
            batch = _Batch(self._repos, self._clock.now())
            outcomes = [self._fold(batch, signal, key) for signal, key in items]
            folded = batch.merger.result()
            self._repos.subscribers.put_many(folded.changed)
            result = {s.id: "created" for s in folded.created}
            result.update({s.id: "updated" for s in folded.updated})
            added = {e.id for e in self._repos.events.add_many(batch.events)}
            for resource, (at, owner) in batch.versions.items():
                self._journal.set_version(resource, at, owner)
        for outcome in outcomes:
            if outcome.subscriber is not None:
                sid = outcome.subscriber.id
                outcome.created = result.get(sid) == "created" and sid in batch.new_ids
                outcome.changed = sid in result
                outcome.events = [e for e in outcome.events if e.id in added]
        return outcomes

    def _fold(self, batch: _Batch, signal: Signal, key: str) -> Applied:
        sub_ref = signal.subscription.id if signal.subscription else signal.subscription_ref
        sub_resource = f"{signal.source}:sub:{sub_ref}" if sub_ref else ""
        merger = batch.merger
        known = merger.find(signal.customer_id, signal.email) or (
            self._owner(batch, sub_resource) if sub_resource else None
        )
        if not known and not (signal.customer_id and signal.email):
            return Applied(signal, wait_for=signal.customer_id or signal.email or sub_resource)
        at = (signal.order_at or signal.at).isoformat(timespec="seconds")
        row = CustomerRow(line=0, customer_id=known or signal.customer_id, email=signal.email)
        fresh: list[str] = []  # resources whose state this signal applies
        stale = False
        if signal.subscription is not None:
            if self._newer(batch, sub_resource, at):
                row.subscription = self._complete(merger, known, signal)
                fresh.append(sub_resource)
            else:
                stale = True
        if signal.customer_fields and signal.customer_id:
            resource = f"{signal.source}:customer:{signal.customer_id}"
            if self._newer(batch, resource, at):
                row.name = signal.name
                fresh.append(resource)
            else:
                stale = True
                if known:  # an older customer record changes neither address nor name
                    row.email = ""
        elif not known:
            row.name = signal.name
        if "order" in signal.types:
            row.last_order = signal.at.date()
        subscriber = merger.add(row, signal.source)
        if not known:
            batch.new_ids.add(subscriber.id)
        if any(h.if_failing for h in signal.happenings):
            failing = self._failing(batch, subscriber.id, signal)
            signal.happenings = [h for h in signal.happenings if failing or not h.if_failing]
        events = [
            Event(
                id=stable_id(key, signal.kind, h.type, i),
                subscriber_id=subscriber.id,
                type=h.type,
                at=signal.at,
                value=h.value,
                source=signal.source,
                note=h.note,
            )
            for i, h in enumerate(signal.happenings)
        ]
        batch.events.extend(events)
        for resource in fresh:
            batch.versions[resource] = (at, subscriber.id if resource == sub_resource else "")
        return Applied(signal, subscriber=subscriber, stale=stale, events=events)

    def _failing(self, batch: _Batch, sid: str, signal: Signal) -> bool:
        """Whether the subscriber's last payment outcome from the signal's source before it
        (stored, or earlier in this batch) is a failure."""
        stored = self._repos.events.for_subscriber(sid)
        outcomes = [
            e
            for e in [*stored, *(e for e in batch.events if e.subscriber_id == sid)]
            if e.source == signal.source
            and e.type in ("payment_failed", "payment_recovered")
            and e.at <= signal.at
        ]
        outcomes.sort(key=lambda e: e.at)  # stable: at the same time, in the order recorded
        return bool(outcomes) and outcomes[-1].type == "payment_failed"

    def known_id(self, customer_id: str, email: str) -> str | None:
        """The subscriber a customer id or address belongs to, if the store knows it."""
        subscribers = self._repos.subscribers
        if customer_id and subscribers.raw_doc(customer_id) is not None:
            return customer_id
        return subscribers.id_by_email(email) if email else None

    def resolve_ref(self, ref: str) -> str | None:
        """The subscriber a waiting delivery's reference now names: a customer id, an address,
        or `<source>:sub:<id>` (a subscription applied before), if the store knows it."""
        if ":sub:" in ref:
            owner = self._journal.owner(ref)
            return owner if owner and self._repos.subscribers.raw_doc(owner) else None
        return self.known_id(ref, ref if "@" in ref else "")

    def _owner(self, batch: _Batch, resource: str) -> str | None:
        if resource in batch.versions and batch.versions[resource][1]:
            return batch.versions[resource][1]
        return self.resolve_ref(resource)

    @staticmethod
    def _complete(merger: Merger, sid: str | None, signal: Signal) -> Subscription | None:
        """The signal's subscription; a partial one (`sub_fields`) laid over the known one."""
        new = signal.subscription
        current = merger.current(sid) if sid else None
        if new is None or signal.sub_fields is None or current is None:
            return new
        known = next((s for s in current.subscriptions if s.id == new.id), None)
        if known is None:
            return new
        return replace(known, **{name: getattr(new, name) for name in signal.sub_fields})

    def _newer(self, batch: _Batch, resource: str, at: str) -> bool:
        stored = batch.versions[resource][0] if resource in batch.versions else ""
        stored = stored or self._journal.version(resource)
        return not stored or at >= stored


class _Batch:
    """What a batch of signals changes, written once at its end."""

    def __init__(self, repos: Repos, now: datetime) -> None:
        # One upsert for the whole batch: a subscriber touched twice is folded twice, in order.
        self.merger = Merger(repos.subscribers, "", now, few=True)
        self.events: list[Event] = []
        self.versions: dict[str, tuple[str, str]] = {}  # resource -> (at, owner)
        self.new_ids: set[str] = set()
