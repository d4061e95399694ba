"""Chargebee: `POST /hooks/chargebee`, checked by HTTP Basic auth, events mapped onto care.

Chargebee signs nothing: a webhook can carry HTTP Basic credentials you choose in its
settings (`CHARGEBEE_WEBHOOK_USER` / `CHARGEBEE_WEBHOOK_PASSWORD`), compared here in constant
time, as Chargebee's own chargebee-node `basicAuthValidator` does. There is no timestamp, so no
replay window; duplicates are caught by the event id. The event's time is `occurred_at`.

| Chargebee event | care |
|---|---|
| `subscription_*` (created, started, activated, changed, renewed, reactivated, ...) | the subscription's state from `content.subscription` |
| `subscription_cancellation_scheduled` | `cancellation_scheduled` (reason code) |
| `subscription_scheduled_cancellation_removed` | `cancellation_removed` |
| `subscription_cancelled` / `_paused` / `_resumed` | `canceled` / `pause` / `resume` |
| `subscription_trial_end_reminder` | `trial_ending` |
| `payment_failed` | `payment_failed` (amount, error, next retry from the invoice's dunning) |
| `payment_succeeded` on an invoice that was in dunning | `payment_recovered` |
| `dunning_updated` with dunning exhausted | `retries_exhausted` |
| `card_expiry_reminder` | `card_expiring` |
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from typing import Any

from bot.models import Subscription
from bot.repos.journal import Delivery
from bot.signals.model import (
    Bounded,
    Envelope,
    Happening,
    Refused,
    Signal,
    from_unix,
    json_body,
)

SOURCE = "chargebee"
STATUSES = {"in_trial": "trialing", "cancelled": "canceled", "transferred": "canceled"}
EVENTS = {
    "subscription_cancellation_scheduled": "cancellation_scheduled",
    "subscription_scheduled_cancellation_removed": "cancellation_removed",
    "subscription_cancelled": "canceled",
    "subscription_paused": "pause",
    "subscription_resumed": "resume",
    "subscription_trial_end_reminder": "trial_ending",
    "card_expiry_reminder": "card_expiring",
}


class ChargebeeReceiver:
    """Chargebee's way in: Basic auth with the user and password set on the webhook."""

    source = SOURCE

    def __init__(self, user: str, password: str) -> None:
        self._expected = f"{user}:{password}".encode()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not token:
            raise Refused(401, "missing Basic auth: set the webhook's username and password")
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise Refused(401, "unreadable Basic auth") from None
        if not hmac.compare_digest(given, self._expected):
            raise Refused(401, "wrong Basic auth username or password")

    def identify(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        event = json_body(body)
        event_id, kind = event.get("id"), event.get("event_type")
        if not isinstance(event_id, str) or not event_id or not isinstance(kind, str):
            raise Refused(400, "not a Chargebee event: it has no id or event_type")
        if not isinstance(event.get("content"), dict):
            raise Refused(400, "not a Chargebee event: it has no content")
        return Envelope(f"{SOURCE}:{event_id}", kind, from_unix(event.get("occurred_at")))

    def parse(self, delivery: Delivery) -> list[Signal]:
        return parse_event(json.loads(delivery.body))


def subscription_of(sub: Mapping[str, Any], bounded: Bounded | None = None) -> Subscription:
    """A Chargebee subscription (product catalog 1.0 or 2.0) as the bot's `Subscription`.

    A number or date out of bounds is read as absent and named in `bounded`."""
    check = bounded or Bounded()
    items = sub.get("subscription_items") or [{}]
    item = items[0] or {}
    price = sub.get("plan_unit_price", item.get("unit_price"))
    status = str(sub.get("status") or "active")
    ends = sub.get("cancelled_at") if status == "non_renewing" else None
    cancelled = check.unix("canceled_at", sub.get("cancelled_at"), "cancelled_at")
    cancelled_day = cancelled.date() if cancelled and status == "cancelled" else None
    return Subscription(
        id=str(sub["id"]),
        plan=str(sub.get("plan_id") or item.get("item_price_id") or ""),
        status=STATUSES.get(status, status),
        amount=check.amount("amount", price, "plan_unit_price", minor=True) or 0.0,
        currency=str(sub.get("currency_code") or ""),
        interval=str(sub.get("billing_period_unit") or "month"),
        interval_count=check.count("interval_count", sub.get("billing_period"), "billing_period")
        or 1,
        quantity=check.count(
            "quantity", sub.get("plan_quantity") or item.get("quantity"), "plan_quantity"
        )
        or 1,
        started=check.unix_day(
            "started",
            sub.get("started_at") or sub.get("activated_at") or sub.get("created_at"),
        ),
        current_period_end=check.unix_day(
            "current_period_end",
            ends or sub.get("current_term_end") or sub.get("next_billing_at"),
        ),
        cancel_at_period_end=status == "non_renewing",
        canceled_at=cancelled_day,
        ended_at=cancelled_day,
        cancellation_reason=str(sub.get("cancel_reason_code") or sub.get("cancel_reason") or ""),
        trial_end=check.unix_day("trial_end", sub.get("trial_end")),
    )


def parse_event(event: Mapping[str, Any]) -> list[Signal]:
    """The signals a Chargebee event means; [] for types care does not use."""
    kind = str(event["event_type"])
    content = event["content"]
    at = from_unix(event.get("occurred_at"))
    customer = content.get("customer") or {}
    sub = content.get("subscription")
    if at is None or not (customer or sub):
        return []
    name = " ".join(str(customer.get(k) or "") for k in ("first_name", "last_name")).strip()
    signal = Signal(
        SOURCE,
        kind,
        at,
        customer_id=str(customer.get("id") or (sub or {}).get("customer_id") or ""),
        email=str(customer.get("email") or "").lower(),
        name=name,
    )
    bounded = Bounded()
    if isinstance(sub, dict) and sub.get("id"):
        signal.subscription = subscription_of(sub, bounded)
        signal.facts["plan"] = signal.subscription.plan
        signal.facts["reason"] = signal.subscription.cancellation_reason
        if signal.subscription.cancel_at_period_end:
            ends = signal.subscription.current_period_end
            signal.facts["ends"] = ends.isoformat() if ends else ""
    if kind in EVENTS:
        signal.happenings.append(Happening(EVENTS[kind], note=signal.facts.get("reason", "")))
    elif kind in ("payment_failed", "payment_succeeded", "dunning_updated"):
        _payment(signal, kind, content, bounded)
    elif not kind.startswith(("subscription_", "customer_")):
        return []
    signal.leave_out(bounded)
    return [signal]


def _payment(signal: Signal, kind: str, content: Mapping[str, Any], bounded: Bounded) -> None:
    transaction = content.get("transaction") or {}
    invoice = content.get("invoice") or {}
    currency = str(transaction.get("currency_code") or invoice.get("currency_code") or "")
    raw = transaction.get("amount") or invoice.get("amount_due")
    amount = bounded.amount("amount", raw, "amount", minor=True)
    retry = bounded.unix("next_retry", invoice.get("next_retry_at"), "next_retry_at")
    dunning = str(invoice.get("dunning_status") or "")
    signal.facts.update(
        amount=amount,
        currency=currency,
        attempt=len(invoice.get("dunning_attempts") or []) or int(kind == "payment_failed"),
        next_retry=retry.isoformat() if retry else "",
        decline_code=str(transaction.get("error_text") or transaction.get("error_code") or ""),
        invoice=str(invoice.get("id") or ""),
    )
    if kind == "payment_failed":
        signal.happenings.append(
            Happening("payment_failed", amount, str(transaction.get("error_text") or ""))
        )
    elif kind == "payment_succeeded" and (dunning == "success" or invoice.get("dunning_attempts")):
        signal.happenings.append(Happening("payment_recovered", amount))
    elif kind == "dunning_updated" and dunning == "exhausted":
        signal.happenings.append(Happening("retries_exhausted", amount))
