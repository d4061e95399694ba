"""What Stripe's API objects say: a subscription, an amount, a customer, a card, a decline.

Read the same whether the object came in a webhook event (bot/signals/stripe.py) or from an API
listing. A subscription whose payment collection is paused (`pause_collection`) counts as
`paused`.

Decline codes: Stripe never expands objects in a webhook, so `invoice.payment_failed` carries
its charge and payment intent as ids only (and from API 2025-03-31 not even those). The code
(`failure_code`, `outcome.reason`, `outcome.advice_code`, `last_payment_error.decline_code`)
comes in the `charge.failed` and `payment_intent.payment_failed` events Stripe sends for the same
attempt; the alert takes it from whichever arrives, and says "unknown" until one does. An
invoice listed with its charge expanded (an API read) gives it directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.models import Subscription
from bot.signals.model import Bounded

# Currencies Stripe counts in whole units (its "zero-decimal" list).
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
# Stripe's advice on a decline: try again later (soft) or never (hard).
HARD_ADVICE = frozenset({"do_not_try_again"})
HARD_DECLINES = frozenset(
    {
        "stolen_card",
        "lost_card",
        "pickup_card",
        "fraudulent",
        "restricted_card",
        "invalid_account",
        "new_account_information_available",
        "revocation_of_all_authorizations",
        "revocation_of_authorization",
        "security_violation",
        "stop_payment_order",
        "transaction_not_allowed",
        "incorrect_number",
        "invalid_number",
        "expired_card",
    }
)


def money(
    amount: Any, currency: str, bounded: Bounded | None = None, key: str = ""
) -> float | None:
    """A Stripe amount (minor units, except zero-decimal currencies) in major units; None when
    absent, or out of bounds (then `bounded` says why, under "amount")."""
    minor = currency.lower() not in ZERO_DECIMAL
    return (bounded or Bounded()).amount("amount", amount, key or "amount", minor=minor)


def subscription_of(obj: Mapping[str, Any], bounded: Bounded | None = None) -> Subscription:
    """A Stripe subscription object as the bot's `Subscription` (API 2017-08-15 to current).

    A number or date out of bounds is read as absent and named in `bounded`."""
    check = bounded or Bounded()
    items = (obj.get("items") or {}).get("data") or [{}]
    item = items[0] or {}
    price = item.get("price") or item.get("plan") or obj.get("plan") or {}
    recurring = price.get("recurring") or {}
    currency = str(price.get("currency") or obj.get("currency") or "")
    amount = price.get("unit_amount", price.get("amount"))
    product = price.get("product")
    plan = (
        price.get("nickname")
        or price.get("name")
        or (product.get("name") if isinstance(product, dict) else "")
        or price.get("id")
        or ""
    )
    status = str(obj.get("status") or "active")
    if status == "active" and obj.get("pause_collection"):
        status = "paused"
    details = obj.get("cancellation_details") or {}
    reason = " / ".join(
        str(details[k]) for k in ("reason", "feedback", "comment") if details.get(k)
    )
    period_end = obj.get("current_period_end") or item.get("current_period_end")
    count = recurring.get("interval_count") or price.get("interval_count")
    return Subscription(
        id=str(obj["id"]),
        plan=str(plan),
        status=status,
        amount=money(amount, currency, check, "unit_amount") or 0.0,
        currency=currency.upper(),
        interval=str(recurring.get("interval") or price.get("interval") or "month"),
        interval_count=check.count("interval_count", count) or 1,
        quantity=check.count("quantity", item.get("quantity") or obj.get("quantity")) or 1,
        started=check.unix_day("started", obj.get("start_date") or obj.get("created")),
        current_period_end=check.unix_day("current_period_end", period_end),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end") or obj.get("cancel_at")),
        canceled_at=check.unix_day("canceled_at", obj.get("canceled_at")),
        ended_at=check.unix_day("ended_at", obj.get("ended_at")),
        cancellation_reason=reason,
        trial_end=check.unix_day("trial_end", obj.get("trial_end")),
    )


def customer_id(obj: Mapping[str, Any]) -> str:
    """The id of the object's customer, whether expanded or an id; "" when there is none."""
    customer = obj.get("customer")
    if isinstance(customer, dict):
        return str(customer.get("id") or "")
    return str(customer or "")


def customer_email(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(email, name) of the object's customer, from the expanded customer or the copies an
    invoice keeps (`customer_email`, `customer_name`)."""
    customer = obj.get("customer")
    if isinstance(customer, dict):
        return str(customer.get("email") or ""), str(customer.get("name") or "")
    return str(obj.get("customer_email") or ""), str(obj.get("customer_name") or "")


def expiry(card: Mapping[str, Any]) -> str:
    """A card's expiry as "YYYY-MM"; "" when it has none."""
    month, year = card.get("exp_month"), card.get("exp_year")
    return f"{year}-{int(month):02d}" if month and year else ""


def charge_decline(charge: Mapping[str, Any]) -> tuple[str, str]:
    """(decline code, advice code) of a failed charge."""
    outcome = charge.get("outcome") or {}
    decline = outcome.get("reason") or charge.get("failure_code") or ""
    return str(decline), str(outcome.get("advice_code") or charge.get("advice_code") or "")


def intent_decline(intent: Mapping[str, Any]) -> tuple[str, str]:
    """(decline code, advice code) of a payment intent's last error."""
    error = intent.get("last_payment_error") or {}
    return (
        str(error.get("decline_code") or error.get("code") or ""),
        str(error.get("advice_code") or ""),
    )


def invoice_decline(invoice: Mapping[str, Any]) -> tuple[str, str]:
    """The decline code and advice code, when the invoice's charge or intent is expanded (an
    API read; a webhook never is): ("", "") otherwise."""
    charge, intent = invoice.get("charge"), invoice.get("payment_intent")
    if isinstance(charge, dict):
        return charge_decline(charge)
    if isinstance(intent, dict):
        return intent_decline(intent)
    return "", ""
