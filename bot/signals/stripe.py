"""Stripe: `POST /hooks/stripe`, verified by the official SDK, events mapped onto care.

Verification is `stripe.WebhookSignature.verify_header` on the raw body (the `Stripe-Signature`
header, HMAC-SHA256 over `"<t>.<body>"`, 300 s tolerance), never a copy of it. The dedupe key
is the event id. What each event means:

| Stripe event | care |
|---|---|
| `customer.created` / `.updated` | the customer's email and name |
| `customer.subscription.created` / `.updated` | the subscription's state; `.updated` that sets `cancel_at_period_end` (or `cancel_at`) is `cancellation_scheduled` with `cancellation_details`; unsetting it is `cancellation_removed` |
| `customer.subscription.deleted` | state, and `canceled` |
| `customer.subscription.paused` / `.resumed` | state, and `pause` / `resume` |
| `customer.subscription.trial_will_end` | `trial_ending` |
| `invoice.payment_failed` | `payment_failed` (amount, attempt, next retry); a failed retry with no next attempt is also `retries_exhausted` |
| `charge.failed` / `payment_intent.payment_failed` | the decline code and advice of the attempt (no care event: they complete the failed payment's alert) |
| `invoice.payment_succeeded` after a failed attempt | `payment_recovered` |
| `invoice.marked_uncollectible` | `retries_exhausted` |
| `customer.source.expiring` | `card_expiring` |

What a Stripe object says (amounts, subscriptions, declines) is read by
`bot/signals/stripe_objects.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
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
from bot.signals.stripe_objects import (
    HARD_ADVICE,
    HARD_DECLINES,
    charge_decline,
    customer_email,
    customer_id,
    expiry,
    intent_decline,
    invoice_decline,
    money,
    subscription_of,
)

SOURCE = "stripe"
# A running bot takes `sync stripe`'s listed state as deliveries of these types (never sent by
# Stripe; signed with the endpoint secret like any delivery): state only, no care events.
SYNC_PREFIX = "care.sync."
SNAPSHOTS = {"customer": "customer.updated", "subscription": "customer.subscription.updated"}
SIGNATURE_HEADER = "stripe-signature"
TOLERANCE = 300  # seconds, the SDK's default


class StripeReceiver:
    """Stripe's way in.

    Args:
        secret: the endpoint's signing secret (`whsec_...`).
        tolerance: seconds a signature's timestamp may be old; None disables the check (only
            for replaying recorded deliveries in tests).
    """

    source = SOURCE

    def __init__(self, secret: str, tolerance: int | None = TOLERANCE) -> None:
        # The SDK (about 30 MB and a second to import, with aiohttp and requests) is loaded
        # only by a bot that has a Stripe secret, not by every start.
        import stripe

        self._stripe = stripe
        self._secret = secret
        self._tolerance = tolerance

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        header = headers.get(SIGNATURE_HEADER, "")
        if not header:
            raise Refused(401, "missing Stripe-Signature header")
        try:
            self._stripe.WebhookSignature.verify_header(body, header, self._secret, self._tolerance)
        except self._stripe.SignatureVerificationError as exc:
            raise Refused(401, f"Stripe signature refused: {exc.user_message or exc}") from None
        except UnicodeDecodeError:
            raise Refused(400, "the body is not UTF-8 JSON") from None

    def identify(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        event = json_body(body)
        event_id, kind = event.get("id"), event.get("type")
        if not isinstance(event_id, str) or not event_id or not isinstance(kind, str):
            raise Refused(400, "not a Stripe event: it has no id or type")
        if not isinstance((event.get("data") or {}).get("object"), dict):
            raise Refused(400, "not a Stripe event: it has no data.object")
        return Envelope(key=f"{SOURCE}:{event_id}", type=kind, at=from_unix(event.get("created")))

    def parse(self, delivery: Delivery) -> list[Signal]:
        return parse_event(json.loads(delivery.body))


def parse_event(event: Mapping[str, Any]) -> list[Signal]:
    """The signals a Stripe event means; [] for types care does not use."""
    kind = str(event["type"])
    if kind.startswith(SYNC_PREFIX) and kind[len(SYNC_PREFIX) :] in SNAPSHOTS:
        snapshots = parse_event({**event, "type": SNAPSHOTS[kind[len(SYNC_PREFIX) :]]})
        for snapshot in snapshots:
            snapshot.happenings = []  # a snapshot is state, not news
        return snapshots
    obj = event["data"]["object"]
    at = from_unix(event.get("created")) or datetime.fromtimestamp(0, UTC)
    if kind in ("customer.created", "customer.updated"):
        return [
            Signal(
                SOURCE,
                kind,
                at,
                customer_id=str(obj["id"]),
                email=str(obj.get("email") or "").lower(),
                name=str(obj.get("name") or obj.get("description") or ""),
                customer_fields=True,
            )
        ]
    if kind.startswith("customer.subscription."):
        return [_subscription_signal(kind, at, obj, event["data"].get("previous_attributes"))]
    if kind.startswith("invoice."):
        signal = _invoice_signal(kind, at, obj)
        return [signal] if signal else []
    if kind in ("charge.failed", "payment_intent.payment_failed"):
        return [_attempt_signal(kind, at, obj)]
    if kind == "customer.source.expiring":
        return [
            Signal(
                SOURCE,
                kind,
                at,
                customer_id=customer_id(obj),
                happenings=[Happening("card_expiring", note=expiry(obj))],
                facts={"expires": expiry(obj)},
            )
        ]
    return []


def _subscription_signal(
    kind: str, at: datetime, obj: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> Signal:
    bounded = Bounded()
    sub = subscription_of(obj, bounded)
    email, name = customer_email(obj)
    signal = Signal(SOURCE, kind, at, customer_id=customer_id(obj), email=email.lower(), name=name)
    signal.subscription = sub
    facts: dict[str, Any] = {"plan": sub.plan, "reason": sub.cancellation_reason}
    event = kind.rsplit(".", 1)[1]
    if event == "deleted":
        signal.happenings.append(Happening("canceled", note=sub.cancellation_reason))
    elif event == "paused":
        signal.happenings.append(Happening("pause"))
    elif event == "resumed":
        signal.happenings.append(Happening("resume"))
    elif event == "trial_will_end":
        trial_end = sub.trial_end
        facts["trial_end"] = trial_end.isoformat() if trial_end else ""
        signal.happenings.append(Happening("trial_ending", note=facts["trial_end"]))
    elif event == "updated":
        signal.happenings.extend(_updates(sub, obj, previous))
    if sub.cancel_at_period_end:
        ends = bounded.unix("ends", obj.get("cancel_at") or obj.get("current_period_end"))
        facts["ends"] = ends.date().isoformat() if ends else ""
    signal.facts = facts
    signal.leave_out(bounded)
    return signal


def _updates(
    sub: Subscription, obj: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> list[Happening]:
    """What an `.updated` changed, from `previous_attributes` (absent: from the state)."""
    scheduled = sub.cancel_at_period_end
    if previous is None:  # localstripe and old API versions send no previous_attributes
        was_scheduled = False
        was_paused = False
        touched = scheduled
    else:
        touched = "cancel_at_period_end" in previous or "cancel_at" in previous
        was_scheduled = bool(previous.get("cancel_at_period_end") or previous.get("cancel_at"))
        was_paused = "pause_collection" in previous and bool(previous["pause_collection"])
    out = []
    if touched and scheduled and not was_scheduled:
        out.append(Happening("cancellation_scheduled", note=sub.cancellation_reason))
    elif touched and was_scheduled and not scheduled:
        out.append(Happening("cancellation_removed"))
    if previous is not None and "pause_collection" in previous:
        if obj.get("pause_collection") and not was_paused:
            out.append(Happening("pause"))
        elif was_paused and not obj.get("pause_collection"):
            out.append(Happening("resume"))
    return out


def _invoice_signal(kind: str, at: datetime, obj: Mapping[str, Any]) -> Signal | None:
    currency = str(obj.get("currency") or "")
    bounded = Bounded()
    attempt = bounded.count("attempt", obj.get("attempt_count"), "attempt_count") or 0
    email, name = customer_email(obj)
    signal = Signal(SOURCE, kind, at, customer_id=customer_id(obj), email=email.lower(), name=name)
    facts: dict[str, Any] = {
        "invoice": str(obj.get("id") or ""),
        "currency": currency.upper(),
        "attempt": attempt,
    }
    if kind == "invoice.payment_failed":
        amount = money(obj.get("amount_due") or obj.get("amount_remaining"), currency, bounded)
        retry = bounded.unix("next_retry", obj.get("next_payment_attempt"), "next_payment_attempt")
        decline, advice = invoice_decline(obj)
        hard = advice in HARD_ADVICE or decline in HARD_DECLINES
        facts.update(
            amount=amount,
            next_retry=retry.isoformat() if retry else "",
            decline_code=decline,
            hard=hard,
        )
        note = f"attempt {attempt}" + (f", {decline}" if decline else "")
        signal.happenings.append(Happening("payment_failed", value=amount, note=note))
        if retry is None and attempt > 1:
            signal.happenings.append(Happening("retries_exhausted", value=amount))
    elif kind == "invoice.payment_succeeded":
        amount = money(obj.get("amount_paid"), currency, bounded, "amount_paid")
        facts["amount"] = amount
        if attempt <= 1:
            return None
        signal.happenings.append(Happening("payment_recovered", value=amount))
    elif kind == "invoice.marked_uncollectible":
        amount = money(obj.get("amount_remaining") or obj.get("amount_due"), currency, bounded)
        facts["amount"] = amount
        signal.happenings.append(Happening("retries_exhausted", value=amount))
    else:
        return None
    signal.facts = facts
    signal.leave_out(bounded)
    return signal


def _attempt_signal(kind: str, at: datetime, obj: Mapping[str, Any]) -> Signal:
    """A failed charge or payment intent: the decline of an attempt, for the alert (no event)."""
    if kind == "charge.failed":
        decline, advice = charge_decline(obj)
    else:
        decline, advice = intent_decline(obj)
    invoice = obj.get("invoice")
    email, name = customer_email(obj)
    return Signal(
        SOURCE,
        kind,
        at,
        customer_id=customer_id(obj),
        email=email.lower(),
        name=name,
        facts={
            "invoice": str((invoice.get("id") if isinstance(invoice, dict) else invoice) or ""),
            "decline_code": decline,
            "hard": advice in HARD_ADVICE or decline in HARD_DECLINES,
        },
    )
