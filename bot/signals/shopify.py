"""Shopify subscriptions: `POST /hooks/shopify`, base64 HMAC-SHA256, topics mapped onto care.

`X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body keyed with the app's client
secret (`SHOPIFY_WEBHOOK_SECRET`), as Shopify's own shopify-app-js validates it. Shopify signs
no timestamp (no replay window); the event's time is `X-Shopify-Triggered-At`. Deliveries are
deduplicated on `X-Shopify-Webhook-Id` and on `X-Shopify-Event-Id` (Shopify's pages name
either). The topic is `X-Shopify-Topic`.

Contract payloads carry a status and billing interval but no price or customer email: they
change only those fields of a subscription already known (from the Shopify/Recharge CSV
import or an earlier event). Billing attempts and cycles name only the contract: the customer
is the one the contract was applied to before, or the delivery waits for it.

| Shopify topic | care |
|---|---|
| `subscription_contracts/create`, `update`, `activate`, `expire`, `fail` | status and interval |
| `subscription_contracts/pause` / `cancel` | status, and `pause` / `canceled` |
| `subscription_billing_attempts/failure` | `payment_failed` (error code, hard or soft, message) |
| `subscription_billing_attempts/success` | `order`, and `payment_recovered` after a failure |
| `orders/create` | `order` |
| `subscription_billing_cycles/skip` / `unskip` | `skip` / `unskip` |
| `customers/create`, `customers/update` | the customer's email and name |

Dunning: Shopify does not retry a failed billing attempt itself; the merchant's subscription
app decides whether and when, and the attempt's payload carries no amount and no retry date
(only `error_code`, `error_message` and ids). So a failure alert says the retry is the app's
to tell, and whether the code means a new payment method is needed (hard) or a retry may work
(soft). A later successful attempt for the customer closes the failure as recovered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.models import Subscription
from bot.repos.journal import Delivery
from bot.signals.model import Bounded, Envelope, Happening, Refused, Signal, from_iso, json_body

SOURCE = "shopify"
STATUSES = {"cancelled": "canceled", "failed": "past_due", "stale": "expired"}
CONTRACT_EVENTS = {"pause": "pause", "cancel": "canceled"}
CONTRACT_FIELDS = ("status", "interval", "interval_count", "currency")
# SubscriptionBillingAttemptErrorCode values (shopify.dev, Admin GraphQL 2026-04) that no retry
# of the same payment method fixes: the customer must act (new card, bank, authentication).
HARD_ERRORS = frozenset(
    {
        "authentication_failed",
        "authentication_required",
        "buyer_canceled_payment_method",
        "call_issuer",
        "card_number_incorrect",
        "customer_invalid",
        "customer_not_found",
        "do_not_honor",
        "expired_card",
        "expired_payment_method",
        "fraud_suspected",
        "incorrect_number",
        "invalid_customer_billing_agreement",
        "invalid_expiry_date",
        "invalid_number",
        "invalid_payment_method",
        "payment_method_not_found",
        "payment_method_not_specified",
        "payment_method_unsupported",
    }
)


class ShopifyReceiver:
    source = SOURCE

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        given = headers.get("x-shopify-hmac-sha256", "").strip()
        if not given:
            raise Refused(401, "missing X-Shopify-Hmac-Sha256")
        digest = hmac.new(self._secret, body, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest), given.encode("ascii", "replace")):
            raise Refused(401, "wrong X-Shopify-Hmac-Sha256")

    def identify(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        topic = headers.get("x-shopify-topic", "").strip()
        webhook_id = headers.get("x-shopify-webhook-id", "").strip()
        json_body(body)
        if not topic or not webhook_id:
            raise Refused(400, "not a Shopify webhook: no X-Shopify-Topic or X-Shopify-Webhook-Id")
        event_id = headers.get("x-shopify-event-id", "").strip()
        aliases = (f"{SOURCE}:event:{event_id}",) if event_id else ()
        at = from_iso(headers.get("x-shopify-triggered-at", ""))
        return Envelope(f"{SOURCE}:{webhook_id}", topic, at, aliases)

    def parse(self, delivery: Delivery) -> list[Signal]:
        at = delivery.at or delivery.received_at
        return parse_webhook(delivery.type, json.loads(delivery.body), at)


def _gid_tail(value: Any) -> str:
    """`gid://shopify/Customer/1` -> "1"; plain ids as text."""
    text = str(value or "")
    return text.rsplit("/", 1)[-1] if text.startswith("gid://") else text


def parse_webhook(topic: str, data: Mapping[str, Any], at: datetime) -> list[Signal]:
    """The signals a Shopify webhook means; [] for topics care does not use."""
    resource, _, action = topic.partition("/")
    if resource == "customers":
        name = " ".join(str(data.get(k) or "") for k in ("first_name", "last_name")).strip()
        when = from_iso(data.get("updated_at")) or at
        return [
            Signal(
                SOURCE,
                topic,
                when,
                customer_id=str(data["id"]),
                email=str(data.get("email") or "").lower(),
                name=name,
                customer_fields=True,
            )
        ]
    if resource == "subscription_contracts":
        policy = data.get("billing_policy") or {}
        status = str(data.get("status") or "active").lower()
        bounded = Bounded()
        sub = Subscription(
            id=str(data["id"]),
            status=STATUSES.get(status, status),
            interval=str(policy.get("interval") or "month").lower(),
            interval_count=bounded.count("interval_count", policy.get("interval_count")) or 1,
            currency=str(data.get("currency_code") or ""),
        )
        signal = Signal(
            SOURCE,
            topic,
            at,
            customer_id=str(data.get("customer_id") or ""),
            subscription=sub,
            sub_fields=CONTRACT_FIELDS,
        )
        signal.leave_out(bounded)
        if action in CONTRACT_EVENTS:
            signal.happenings.append(Happening(CONTRACT_EVENTS[action]))
        return [signal]
    contract = _gid_tail(data.get("subscription_contract_id"))
    signal = Signal(SOURCE, topic, at, subscription_ref=contract)
    if topic == "subscription_billing_attempts/failure":
        code = str(data.get("error_code") or "").lower()
        message = str(data.get("error_message") or "")
        signal.facts = {
            "decline_code": code,
            "hard": code in HARD_ERRORS,
            "reason": message,
            "retry_unknown": True,
        }
        signal.happenings.append(Happening("payment_failed", note=message or code))
    elif topic == "subscription_billing_attempts/success":
        signal.happenings.append(Happening("order"))
        signal.happenings.append(Happening("payment_recovered", if_failing=True))
    elif topic in ("subscription_billing_cycles/skip", "subscription_billing_cycles/unskip"):
        signal.happenings.append(Happening(action))
    elif topic == "orders/create":
        customer = data.get("customer") or {}
        bounded = Bounded()
        amount = bounded.amount("amount", data.get("total_price"), "total_price") or None
        signal = Signal(
            SOURCE,
            topic,
            from_iso(data.get("created_at")) or at,
            customer_id=str(customer.get("id") or ""),
            email=str(data.get("email") or customer.get("email") or "").lower(),
            happenings=[Happening("order", amount)],
        )
        signal.leave_out(bounded)
    else:
        return []
    return [signal] if contract or signal.customer_id or signal.email else []
