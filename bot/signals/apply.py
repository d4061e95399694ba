"""Applying a `Signal`: the importers' upsert for one customer, plus its care events.

The subscriber is found the way an import finds it (customer id, else email) and changed
through the same `Merger`, so status history, `first_started` and kept cancellation dates
behave exactly as for a CSV row. Rules of a live way in on top:

- Newer wins by the event's own time: the time of the newest state applied is kept per
  resource (`<source>:sub:<id>`, `<source>:customer:<id>`); a subscription or customer state
  older than that is not applied. Care events are facts and are always recorded.
- An unknown customer is created when the signal names both its id and email; otherwise the
  signal waits for that customer (`Applied.wait_for`).
- Event ids are derived from the delivery key and type, so applying a delivery twice adds
  nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
        with self._repos.store.lock:
            return self._apply(signal, key)

    def _apply(self, signal: Signal, key: str) -> Applied:
        subscribers = self._repos.subscribers
        sub_ref = signal.subscription.id if signal.subscription else signal.subscription_ref
        sub_resource = f"{signal.source}:sub:{sub_ref}" if sub_ref else ""
        known = self.known_id(signal.customer_id, signal.email) or (
            self.resolve_ref(sub_resource) if sub_resource else None
        )
        if not known and not (signal.customer_id and signal.email):
            return Applied(signal, wait_for=signal.customer_id or signal.email or sub_resource)
        at = signal.at.isoformat(timespec="seconds")
        row = CustomerRow(line=0, customer_id=known or signal.customer_id, email=signal.email)
        fresh: list[str] = []  # resources whose state this signal applies
        stale = False
        if signal.subscription is not None:
            if self._newer(sub_resource, at):
                row.subscription = self._complete(known, signal)
                fresh.append(sub_resource)
            else:
                stale = True
        if signal.customer_fields and signal.customer_id:
            resource = f"{signal.source}:customer:{signal.customer_id}"
            if self._newer(resource, at):
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
        merger = Merger(subscribers, signal.source, self._clock.now(), few=True)
        subscriber = merger.add(row)
        result = merger.result()
        subscribers.put_many(result.changed)
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
        added = self._repos.events.add_many(events)
        for resource in fresh:
            owner = subscriber.id if resource == sub_resource else ""
            self._journal.set_version(resource, at, owner)
        return Applied(
            signal,
            subscriber=subscriber,
            created=bool(result.created),
            changed=bool(result.changed),
            stale=stale,
            events=added,
        )

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

    def _complete(self, sid: str | None, signal: Signal) -> Subscription | None:
        """The signal's subscription; a partial one (`sub_fields`) laid over the stored one."""
        new = signal.subscription
        if new is None or signal.sub_fields is None or not sid:
            return new
        stored = next(
            (s for s in self._repos.subscribers.get(sid).subscriptions if s.id == new.id),  # type: ignore[union-attr]
            None,
        )
        if stored is None:
            return new
        for name in signal.sub_fields:
            setattr(stored, name, getattr(new, name))
        return stored

    def _newer(self, resource: str, at: str) -> bool:
        stored = self._journal.version(resource)
        return not stored or at >= stored
