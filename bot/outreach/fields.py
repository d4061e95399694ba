"""What a template may say about a customer: plain strings, every field always present.

Every value is one line of outside text, with control characters removed and cut to a bound,
so a name like "Ann\\r\\nBcc: x@evil" or "{{ 7*7 }}" is only ever text. A field we do not know
is "" (never "None"): templates write `{{ first_name or "there" }}` or `{% if next_charge %}`.
Risk reasons are in words a customer may read; the score never appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from bot.lifecycle import ended_on, started_on
from bot.models import Event, Risk, Subscriber, Subscription
from bot.money import amount_text

FIELD_LIMIT = 200
NOTE_LIMIT = 300
RECENT_DAYS = 90  # a support contact or NPS comment older than this is not "recent"
_NAME_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]")

# Each risk rule in words the customer may read (bot/risk.py names the rules).
CUSTOMER_REASONS = {
    "scheduled_cancellation": "your subscription is set to end at the close of this billing period",
    "cancel_request": "you asked us about cancelling",
    "past_due": "your last payment did not go through",
    "paused": "your subscription is paused",
    "nps_detractor": "your recent feedback told us we could do better",
    "payment_failed": "a recent payment did not go through",
    "skips": "you have skipped a few deliveries lately",
    "no_order": "we have not seen an order from you in a while",
    "support_contacts": "you have had to contact us several times recently",
    "downgrade": "you recently moved to a smaller plan",
}
PAYMENT_RULES = frozenset({"payment_failed", "past_due"})
INTERVAL_WORDS = {"day": "day", "week": "week", "month": "month", "year": "year"}

FIELD_NAMES = (
    "first_name",
    "name",
    "email",
    "plan",
    "price",
    "tenure",
    "customer_since",
    "next_charge",
    "last_order",
    "ended_on",
    "support_note",
    "support_date",
    "nps_comment",
    "reasons",
    "signature",
)


def clean(value: object, limit: int = FIELD_LIMIT) -> str:
    """Outside text as one safe line: control characters and line breaks become spaces."""
    text = " ".join(_CONTROL.sub(" ", str(value or "")).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_name(subscriber: Subscriber) -> str:
    """The first word of the customer's name; "" when there is no usable name."""
    name = clean(subscriber.name)
    word = name.split(" ", 1)[0].rstrip(",;:") if name else ""
    return word if _NAME_WORD.fullmatch(word) else ""


def long_date(day: date | None, today: date) -> str:
    """ "December 14" this year, "January 3, 2027" another year, "" when unknown."""
    if day is None:
        return ""
    text = f"{day:%B} {day.day}"
    return text if day.year == today.year else f"{text}, {day.year}"


def price_as_billed(sub: Subscription | None) -> str:
    """ "$29 a month", "€90 every 3 months", "£19.50 a month" (the amount as `bot.money` writes
    it, the period in words for a customer); "" for a free or unknown price."""
    if sub is None or not sub.amount or sub.amount < 0:
        return ""
    money = amount_text(sub.amount * max(sub.quantity, 1), sub.currency)
    unit = INTERVAL_WORDS.get(sub.interval)
    if unit is None:
        return money
    count = max(sub.interval_count, 1)
    return f"{money} a {unit}" if count == 1 else f"{money} every {count} {unit}s"


def tenure_words(start: date | None, today: date) -> str:
    """ "3 months", "1 year and 2 months", "12 days"; "" when unknown or in the future."""
    if start is None or start > today:
        return ""
    months = (today.year - start.year) * 12 + today.month - start.month - (today.day < start.day)
    if months <= 0:
        days = (today - start).days
        return f"{days} day{'s' if days != 1 else ''}" if days else ""
    years, months = divmod(months, 12)
    parts = [
        f"{n} {unit}{'s' if n != 1 else ''}"
        for n, unit in ((years, "year"), (months, "month"))
        if n
    ]
    return " and ".join(parts)


def customer_reasons(risk: Risk | None) -> list[str]:
    """The risk's reasons in the customer's words, most weighty first; never the score."""
    if risk is None:
        return []
    ordered = sorted(risk.reasons, key=lambda r: -r.points)
    return list(
        dict.fromkeys(CUSTOMER_REASONS[r.rule] for r in ordered if r.rule in CUSTOMER_REASONS)
    )


def template_kind(kind: str, risk: Risk | None) -> str:
    """The template for a task kind: a churn risk driven by payment uses `failed_payment`."""
    if kind == "churn_risk" and risk is not None:
        rules = {r.rule for r in risk.reasons}
        if rules & PAYMENT_RULES and not rules & {"cancel_request", "scheduled_cancellation"}:
            return "failed_payment"
    return kind


def customer_fields(
    subscriber: Subscriber,
    events: Iterable[Event],
    risk: Risk | None,
    today: date,
    *,
    tz: tzinfo = UTC,
    signature: str = "",
) -> dict[str, Any]:
    """Every template field for one customer (see FIELD_NAMES); unknown ones are "".

    Args:
        subscriber: the customer.
        events: their events (support contacts, NPS, orders), any order; only the last
            RECENT_DAYS before `today` count.
        risk: their churn risk with its rules, or None.
        today: the team's local date.
        tz: the team's timezone, for event days.
        signature: how the email is signed (`[outreach] signature`).
    """
    live = subscriber.live_subscriptions
    billed = next((s for s in live if s.amount), live[0] if live else None)
    charges = [
        s.current_period_end for s in live if s.current_period_end and s.current_period_end >= today
    ]
    recent = _recent(events, today, tz)
    last_order = max(
        [d for d in [subscriber.last_order, *(day for day, e in recent if e.type == "order")] if d],
        default=None,
    )
    support = next(
        ((d, e) for d, e in recent if e.type == "support_contact" and clean(e.note)), None
    )
    nps = next((e for _, e in recent if e.type == "nps" and clean(e.note)), None)
    start = started_on(subscriber)
    return {
        "first_name": first_name(subscriber),
        "name": clean(subscriber.name),
        "email": clean(subscriber.email, 254),
        "plan": clean(subscriber.plan),
        "price": price_as_billed(billed),
        "tenure": tenure_words(start, today),
        "customer_since": long_date(start, today),
        "next_charge": long_date(min(charges, default=None), today),
        "last_order": long_date(last_order, today),
        "ended_on": long_date(ended_on(subscriber), today),
        "support_note": clean(support[1].note, NOTE_LIMIT) if support else "",
        "support_date": long_date(support[0], today) if support else "",
        "nps_comment": clean(nps.note, NOTE_LIMIT) if nps else "",
        "reasons": customer_reasons(risk),
        "signature": clean(signature),
    }


def _recent(events: Iterable[Event], today: date, tz: tzinfo) -> list[tuple[date, Event]]:
    """Events of the last RECENT_DAYS up to today, newest first, with their local day."""
    since = today - timedelta(days=RECENT_DAYS)
    dated = []
    for event in events:
        at = event.at if isinstance(event.at, datetime) else None
        if at is None:
            continue
        day = at.astimezone(tz).date()
        if since <= day <= today:
            dated.append((day, event))
    return sorted(dated, key=lambda pair: pair[1].at, reverse=True)
