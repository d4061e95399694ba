"""Catching up from Stripe: customers, subscriptions and recent events through the List APIs.

`sync_stripe` is for a new install or after downtime. Customers and subscriptions are applied
as state at the time of the sync (newer than any event already applied, and quiet: no alerts,
no care events). Events since `since` go through the journal under the same keys the
receiver uses (`stripe:<event id>`), so an event both delivered and listed is applied once.
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
from bot.signals.stripe import parse_event

Progress = Callable[[str, int], None]
"""Called as `progress(what, done)` while objects are read."""


@dataclass
class SyncReport:
    customers: int = 0
    subscriptions: int = 0
    events: int = 0
    new_events: int = 0


def sync_stripe(
    client: Any,
    intake: Intake,
    applier: SignalApplier,
    clock: Clock,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Backfill from Stripe through `client` (a `stripe.StripeClient`).

    Args:
        client: the official SDK's client (its `v1` List APIs are used, auto-paging).
        intake: journals and applies listed events exactly as received ones.
        applier: applies customer and subscription state.
        clock: the time the state is "as of".
        since: list events created at or after this time; None skips events.
        progress: told how far each list has got.
    """
    report = SyncReport()
    now = int(clock.now().timestamp())
    tick = progress or (lambda what, done: None)
    for report.customers, customer in enumerate(_all(client.v1.customers.list), 1):
        _apply_state(applier, "customer.updated", customer, now)
        tick("customers", report.customers)
    subscriptions = _all(client.v1.subscriptions.list, status="all")
    for report.subscriptions, subscription in enumerate(subscriptions, 1):
        _apply_state(applier, "customer.subscription.updated", subscription, now)
        tick("subscriptions", report.subscriptions)
    intake.journal.commit()  # the state's versions
    if since is not None:
        events = list(_all(client.v1.events.list, created={"gte": int(since.timestamp())}))
        events.sort(key=lambda e: (e.get("created") or 0, e.get("id") or ""))
        for report.events, event in enumerate(events, 1):
            answer = intake.accept("stripe", json.dumps(event).encode(), {})
            if answer.status == 200 and not answer.body.get("duplicate"):
                intake.apply_now(f"stripe:{event['id']}")
                report.new_events += 1
            tick("events", report.events)
    return report


def _all(list_call: Callable[..., Any], **params: Any) -> Iterable[dict[str, Any]]:
    page = list_call(params={"limit": 100, **params})
    for obj in page.auto_paging_iter():
        yield obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _apply_state(applier: SignalApplier, kind: str, obj: dict[str, Any], now: int) -> None:
    event = {"id": f"sync_{obj['id']}", "type": kind, "created": now, "data": {"object": obj}}
    for signal in parse_event(event):
        signal.happenings = []  # a snapshot is state, not news
        applier.apply(signal, f"stripe:sync:{obj['id']}")
