"""Catching up from Stripe: customers, subscriptions and recent events through the List APIs.

`sync_stripe` is for a new install or after downtime. Customers and subscriptions are applied
as state at the time of the sync (newer than any event already applied, and quiet: no alerts,
no care events). Events since `since` go through the journal under the same keys the
receiver uses (`stripe:<event id>`), so an event both delivered and listed is applied once.

While the bot runs it owns the data directory, so the CLI hands what `read_stripe` lists to the
bot's own receiver instead (`bot.signals.cli`): events as they are, state as `care.sync.*`
deliveries signed with the endpoint secret, which the receiver applies as quietly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.signals.apply import SignalApplier
from bot.signals.intake import Intake
from bot.signals.stripe import SNAPSHOTS, SYNC_PREFIX, parse_event

Progress = Callable[[str, int], None]
"""Called as `progress(what, done)` while objects are read."""


@dataclass
class SyncReport:
    customers: int = 0
    subscriptions: int = 0
    events: int = 0
    new_events: int = 0


StateSink = Callable[[str, dict[str, Any]], None]
"""Applies one listed object as state: `sink(kind, obj)`, kind `customer` or `subscription`."""
EventSink = Callable[[dict[str, Any]], bool]
"""Takes one listed event as a delivery; True when it was new."""


def sync_stripe(
    client: Any,
    intake: Intake,
    applier: SignalApplier,
    clock: Clock,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Backfill from Stripe through `client` (a `stripe.StripeClient`) into this process's store.

    Args:
        client: the official SDK's client (its `v1` List APIs are used, auto-paging).
        intake: journals and applies listed events exactly as received ones.
        applier: applies customer and subscription state.
        clock: the time the state is "as of".
        since: list events created at or after this time; None skips events.
        progress: told how far each list has got.
    """
    now = int(clock.now().timestamp())

    def state(kind: str, obj: dict[str, Any]) -> None:
        _apply_state(applier, SNAPSHOTS[kind], obj, now)

    def event(listed: dict[str, Any]) -> bool:
        answer = intake.accept("stripe", json.dumps(listed).encode(), {})
        if answer.status != 200 or answer.body.get("duplicate"):
            return False
        intake.apply_now(f"stripe:{listed['id']}")
        return True

    report = read_stripe(client, state, event, since, progress)
    intake.journal.commit()  # the state's versions
    return report


def read_stripe(
    client: Any,
    state: StateSink,
    event: EventSink,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """List customers, subscriptions and (from `since`) events, handing each to its sink."""
    report = SyncReport()
    tick = progress or (lambda what, done: None)
    for report.customers, customer in enumerate(_all(client.v1.customers.list), 1):
        state("customer", customer)
        tick("customers", report.customers)
    subscriptions = _all(client.v1.subscriptions.list, status="all")
    for report.subscriptions, subscription in enumerate(subscriptions, 1):
        state("subscription", subscription)
        tick("subscriptions", report.subscriptions)
    if since is not None:
        events = list(_all(client.v1.events.list, created={"gte": int(since.timestamp())}))
        events.sort(key=lambda e: (e.get("created") or 0, e.get("id") or ""))
        for report.events, listed in enumerate(events, 1):
            report.new_events += event(listed)
            tick("events", report.events)
    return report


def snapshot_event(kind: str, obj: dict[str, Any], now: int) -> dict[str, Any]:
    """A listed object as the state delivery a running bot takes (`care.sync.<kind>`): its
    id names the sync, so the next sync's state is new again."""
    return {
        "id": f"care_sync_{now}_{obj['id']}",
        "object": "event",
        "type": f"{SYNC_PREFIX}{kind}",
        "created": now,
        "data": {"object": obj},
    }


def _all(list_call: Callable[..., Any], **params: Any) -> Iterable[dict[str, Any]]:
    page = list_call(params={"limit": 100, **params})
    for obj in page.auto_paging_iter():
        yield obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _apply_state(applier: SignalApplier, kind: str, obj: dict[str, Any], now: int) -> None:
    event = {"id": f"sync_{obj['id']}", "type": kind, "created": now, "data": {"object": obj}}
    for signal in parse_event(event):
        signal.happenings = []  # a snapshot is state, not news
        applier.apply(signal, f"stripe:sync:{obj['id']}")
