"""Recharge: `POST /hooks/recharge`, both of Recharge's signing schemes, topics mapped onto care.

Signatures (key: the app's client secret, `RECHARGE_WEBHOOK_SECRET`):
- current: `X-Recharge-Webhook-Signature: t=<epoch>,v1=<hex>`, v1 = HMAC-SHA256 of `"<t>.<body>"`;
  Recharge rejects deliveries older than 48 hours, so does this receiver;
- legacy: `X-Recharge-Hmac-Sha256` = hex SHA-256 (not an HMAC) of `secret + body`.
The topic comes in `X-Recharge-Topic`. Recharge sends no delivery id: the dedupe key is the
topic, the resource id and its `updated_at`, which is also the event's time. A webhook body
is the resource as the REST API returns it (`{"subscription": {...}}`).

| Recharge topic | care |
|---|---|
| `subscription/created`, `updated`, `activated`, `swapped` | the subscription's state |
| `subscription/cancelled` | state, and `canceled` with `cancellation_reason` and comments |
| `subscription/paused`, `skipped`, `unskipped` | `pause`, `skip`, `unskip` |
| `charge/failed` | `payment_failed` (amount, error, next retry date) |
| `charge/max_retries_reached` | `retries_exhausted` |
| `charge/paid`, `order/created` | `order` |
| `customer/created`, `customer/updated` | the customer's email and name |
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.models import Subscription
from bot.repos.journal import Delivery
from bot.signals.model import Bounded, Envelope, Happening, Refused, Signal, from_iso, json_body

SOURCE = "recharge"
MAX_AGE = 48 * 3600  # seconds: Recharge's own replay window
STATUSES = {"cancelled": "canceled", "expired": "expired", "active": "active", "paused": "paused"}
SUBSCRIPTION_EVENTS = {
    "subscription/cancelled": "canceled",
    "subscription/paused": "pause",
    "subscription/skipped": "skip",
    "subscription/unskipped": "unskip",
}
RESOURCES = ("subscription", "charge", "customer", "order")


class RechargeReceiver:
    """Recharge's way in.

    Args:
        secret: the client secret the webhooks are signed with.
        now: the current Unix time (for the 48-hour window).
    """

    source = SOURCE

    def __init__(self, secret: str, now: Callable[[], float] = time.time) -> None:
        self._secret = secret.encode()
        self._now = now

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        stamped = headers.get("x-recharge-webhook-signature", "")
        if stamped:
            parts = dict(p.strip().partition("=")[::2] for p in stamped.split(","))
            try:
                t = int(parts.get("t", ""))
            except ValueError:
                raise Refused(401, "X-Recharge-Webhook-Signature has no timestamp") from None
            expected = hmac.new(self._secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected.encode(), _ascii(parts.get("v1", "").lower())):
                raise Refused(401, "wrong X-Recharge-Webhook-Signature")
            if t < self._now() - MAX_AGE:
                raise Refused(401, "stale X-Recharge-Webhook-Signature: over 48 hours old")
            return
        legacy = headers.get("x-recharge-hmac-sha256", "").strip().lower()
        if not legacy:
            raise Refused(401, "missing X-Recharge-Webhook-Signature (or X-Recharge-Hmac-Sha256)")
        expected = hashlib.sha256(self._secret + body).hexdigest()
        if not hmac.compare_digest(expected.encode(), _ascii(legacy)):
            raise Refused(401, "wrong X-Recharge-Hmac-Sha256")

    def identify(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        topic = headers.get("x-recharge-topic", "").strip()
        data = json_body(body)
        resource, obj = _resource(data)
        if not topic or obj is None or obj.get("id") in (None, ""):
            raise Refused(400, "not a Recharge webhook: no X-Recharge-Topic or no resource id")
        updated = str(obj.get("updated_at") or obj.get("created_at") or "")
        key = f"{SOURCE}:{topic}:{obj['id']}:{updated}"
        return Envelope(key, topic, from_iso(updated))

    def parse(self, delivery: Delivery) -> list[Signal]:
        return parse_webhook(delivery.type, json.loads(delivery.body), delivery.received_at)


def _ascii(text: str) -> bytes:
    """Header text as bytes to compare (a header may carry any Latin-1 character)."""
    return text.encode("utf-8", "replace")


def _resource(data: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None]:
    for name in RESOURCES:
        if isinstance(data.get(name), dict):
            return name, data[name]
    return "", None


def subscription_of(sub: Mapping[str, Any], bounded: Bounded | None = None) -> Subscription:
    """A Recharge 2021-11 subscription as the bot's `Subscription`.

    A number or date out of bounds is read as absent and named in `bounded`."""
    check = bounded or Bounded()
    status = str(sub.get("status") or "active").lower()
    title = " ".join(str(sub.get(k) or "") for k in ("product_title", "variant_title")).strip()
    cancelled = check.iso("canceled_at", sub.get("cancelled_at"), "cancelled_at")
    reason = " / ".join(
        str(sub[k]) for k in ("cancellation_reason", "cancellation_reason_comments") if sub.get(k)
    )
    next_charge = check.iso(
        "current_period_end", sub.get("next_charge_scheduled_at"), "next_charge_scheduled_at"
    )
    started = check.iso("started", sub.get("created_at"), "created_at")
    count = sub.get("order_interval_frequency")
    return Subscription(
        id=str(sub["id"]),
        plan=title,
        status=STATUSES.get(status, status),
        amount=check.amount("amount", sub.get("price"), "price") or 0.0,
        currency=str(sub.get("presentment_currency") or ""),
        interval=str(sub.get("order_interval_unit") or "month").rstrip("s"),
        interval_count=check.count("interval_count", count, "order_interval_frequency") or 1,
        quantity=check.count("quantity", sub.get("quantity")) or 1,
        started=started.date() if started else None,
        current_period_end=next_charge.date() if next_charge else None,
        canceled_at=cancelled.date() if cancelled else None,
        ended_at=cancelled.date() if cancelled and status == "cancelled" else None,
        cancellation_reason=reason,
    )


def parse_webhook(topic: str, data: Mapping[str, Any], received: Any) -> list[Signal]:
    """The signals a Recharge webhook means; [] for topics care does not use."""
    _, obj = _resource(data)
    if obj is None:
        return []
    at = from_iso(obj.get("updated_at") or obj.get("created_at")) or received
    customer: dict[str, Any] = obj["customer"] if isinstance(obj.get("customer"), dict) else {}
    signal = Signal(
        SOURCE,
        topic,
        at,
        customer_id=str(obj.get("customer_id") or customer.get("id") or ""),
        email=str(obj.get("email") or customer.get("email") or "").lower(),
    )
    if topic.startswith("customer/"):
        signal.customer_id, signal.customer_fields = str(obj["id"]), True
        signal.name = " ".join(str(obj.get(k) or "") for k in ("first_name", "last_name")).strip()
        return [signal]
    bounded = Bounded()
    if topic.startswith("subscription/"):
        signal.subscription = subscription_of(obj, bounded)
        signal.facts = {
            "plan": signal.subscription.plan,
            "reason": signal.subscription.cancellation_reason,
        }
        if topic in SUBSCRIPTION_EVENTS:
            signal.happenings.append(
                Happening(SUBSCRIPTION_EVENTS[topic], note=signal.facts["reason"])
            )
        signal.leave_out(bounded)
        return [signal]
    amount = bounded.amount("amount", obj.get("total_price"), "total_price") or None
    retry = bounded.iso("next_retry", obj.get("retry_date"), "retry_date")
    signal.facts = {
        "amount": amount,
        "currency": str(obj.get("currency") or ""),
        "attempt": bounded.count("attempt", obj.get("charge_attempts"), "charge_attempts") or 0,
        "next_retry": retry.isoformat() if retry else "",
        "decline_code": str(obj.get("error_type") or ""),
        "reason": str(obj.get("error") or ""),
    }
    kinds = {"charge/failed": "payment_failed", "charge/max_retries_reached": "retries_exhausted"}
    if topic in kinds:
        signal.happenings.append(Happening(kinds[topic], amount, str(obj.get("error") or "")))
    elif topic in ("charge/paid", "order/created", "order/processed"):
        signal.happenings.append(Happening("order", amount))
    else:
        return []
    signal.leave_out(bounded)
    return [signal]
