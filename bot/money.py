"""Money as the customer pays it: an amount in its own currency, per the period it is billed at.

The one place amounts are put into words, for every surface (digest entries, App Home,
`/care lookup`, alerts, the terminal preview): `price_text(1200, "usd", "year")` is
"$1,200/yr", `price_text(49, "EUR", "month")` "€49/mo", `price_text(19.5, "GBP", "month")`
"£19.50/mo". A monthly value (`Subscription.monthly_value`) is only ever used to order work,
never shown as what a customer pays.

- A currency that is not a three-letter code (empty, or anything else a file carried) is
  shown without a symbol: "1,200/yr", never "$1,200/yr". Codes without a symbol here are
  written after the number ("1,200 CHF/yr").
- Whole amounts have no decimals ("$1,200"); others have two ("£19.50"), zero-decimal
  currencies none ("¥5,000").
- The output holds only digits, separators, symbols, letters, spaces and "/": no text from
  outside reaches it, so it is safe in Slack mrkdwn and in a terminal as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.models import Subscriber, Subscription

SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
}
# ISO 4217 currencies without minor units: an amount "in cents" is already whole units.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
     "VUV", "XAF", "XOF", "XPF"}
)  # fmt: skip
_CODE = re.compile(r"[A-Z]{3}")
_UNITS = {"day": "day", "week": "wk", "month": "mo", "year": "yr"}


def currency_code(currency: str) -> str:
    """The ISO code of `currency` in upper case ("usd" -> "USD"), or "" when it is not one."""
    code = (currency or "").strip().upper()
    return code if _CODE.fullmatch(code) else ""


def amount_text(amount: float, currency: str = "") -> str:
    """An amount in its currency: "$1,200", "€49", "£19.50", "1,200 CHF", "1,200" (none)."""
    code = currency_code(currency)
    whole = code in ZERO_DECIMAL or round(amount, 2) == round(amount)
    number = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    symbol = SYMBOLS.get(code)
    if symbol:
        return f"{symbol}{number}"
    return f"{number} {code}" if code else number


def period_text(interval: str, count: int = 1) -> str:
    """The billing period as a suffix: "/mo", "/yr", "/quarter", " every 6 mo"; "" if unknown."""
    unit = _UNITS.get(interval)
    if unit is None:
        return ""
    count = max(int(count or 1), 1)
    if count == 1:
        return f"/{unit}"
    if interval == "month" and count == 3:
        return "/quarter"
    if interval == "month" and count == 12:
        return "/yr"
    return f" every {count} {unit}"


def price_text(amount: float, currency: str, interval: str, count: int = 1) -> str:
    """What is charged, per billing period: "$1,200/yr", "€49/mo", "90 every 3 wk"."""
    return amount_text(amount, currency) + period_text(interval, count)


def subscription_price(sub: Subscription) -> str:
    """One subscription's charge (amount x quantity) per its own period; "" when unpriced."""
    total = sub.amount * max(sub.quantity, 1)
    if total <= 0:
        return ""
    return price_text(total, sub.currency, sub.interval, sub.interval_count)


def paid_subscriptions(subscriber: Subscriber) -> list[Subscription]:
    """What the customer pays now (live subscriptions), else what they paid before they left.

    Subscriptions that never paid (see `Subscription.never_paid`) are not counted.
    """
    live = subscriber.live_subscriptions
    return live if live else [s for s in subscriber.subscriptions if not s.never_paid]


def subscriber_price(subscriber: Subscriber) -> str:
    """What a customer pays ("$1,200/yr", "€49/mo + $10/mo"), or paid before leaving.

    Subscriptions billed in the same currency and period are added up; different ones are
    listed, the largest monthly value first. "" when no price is known (a Shopify customer
    list carries none).
    """
    paid = paid_subscriptions(subscriber)
    if len(paid) == 1:  # most customers: nothing to group or rank
        return subscription_price(paid[0])
    return prices_text(paid)


def prices_text(subs: Iterable[Subscription]) -> str:
    """Several subscriptions' charges, grouped by currency and period (see `subscriber_price`)."""
    groups: dict[tuple[str, str, int], list[Subscription]] = {}
    for sub in subs:
        if sub.amount * max(sub.quantity, 1) > 0:
            key = (currency_code(sub.currency), sub.interval, max(sub.interval_count, 1))
            groups.setdefault(key, []).append(sub)
    ranked: Sequence[tuple[tuple[str, str, int], list[Subscription]]] = sorted(
        groups.items(), key=lambda item: -sum(s.monthly_value for s in item[1])
    )
    return " + ".join(
        price_text(sum(s.amount * max(s.quantity, 1) for s in group), *key) for key, group in ranked
    )


def price_label(subscriber: Subscriber) -> str:
    """The price as an entry or card shows it: "€49/mo"; "was $1,200/yr" once every
    subscription has ended; "" when no price is known."""
    text = subscriber_price(subscriber)
    if text and not subscriber.live_subscriptions and subscriber.subscriptions:
        return f"was {text}"
    return text
