"""Who the sample customers are: a scenario per customer, turned into export rows and events.

Scenarios put subscribers where the digest looks: in each lifecycle window, at a renewal or
an anniversary, just after a cancellation, or at risk (failed payments, a scheduled
cancellation, a cancel request, a detractor NPS, skips, no recent order). The rest are steady.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sample.people import OWNERS, People, Person, add_months, at, next_charge, token, years_ago

STRIPE_PLANS = (
    ("Starter monthly", "Acme Analytics Starter", 1, 29.0),
    ("Team monthly", "Acme Analytics Team", 1, 99.0),
    ("Business monthly", "Acme Analytics Business", 1, 299.0),
    ("Starter yearly", "Acme Analytics Starter", 12, 290.0),
    ("Team yearly", "Acme Analytics Team", 12, 990.0),
    ("Business yearly", "Acme Analytics Business", 12, 2990.0),
)
BOXES = (
    ("Coffee Discovery Box", "Medium roast, whole bean", "COF-MED", 24.0),
    ("Tea Ritual Box", "Green & white", "TEA-GW", 19.5),
    ("Snack Crate", "Sweet & savoury", "SNK-MIX", 34.99),
)
LIFECYCLE = (
    "onboarding",
    "checkin_30",
    "checkin_90",
    "checkin_180",
    "pre_renewal",
    "anniversary",
    "win_back",
)
RISKS = {
    "stripe": ("past_due", "cancel_scheduled", "cancel_request", "detractor", "downgrade"),
    "recharge": ("payment_failed", "cancel_request", "detractor", "skips", "no_order"),
}
# Windows are entered a day late and left a day early, so a demo run in a timezone a day
# behind (or ahead of) the day the files were generated still shows every kind.
TENURE = {"onboarding": (8, 18), "checkin_30": (31, 42), "checkin_90": (91, 102)}
TENURE["checkin_180"] = (181, 192)
STEADY_TENURE = ((46, 86), (106, 176), (196, 340), (380, 700), (740, 1300))


EventRow = tuple[str, str, str, str, str]  # subscriber, type, value, timestamp, note


@dataclass
class Customer:
    """One sample customer: the export rows describing them and their events."""

    source: str  # stripe | recharge
    person: Person
    rows: list[list[object]] = field(default_factory=list)
    shopify_row: list[object] | None = None
    events: list[EventRow] = field(default_factory=list)


@dataclass
class Spec:
    start: date
    months: int = 1  # billing interval
    status: str = "active"
    ended: date | None = None
    canceled: date | None = None
    cancel_at_period_end: bool = False
    last_order: date | None = None  # boxes: no order after this day
    events: list[tuple[str, int, str, str]] = field(
        default_factory=list
    )  # type, days ago, value, note


def plan_customers(rng: random.Random, today: date, n: int) -> list[Customer]:
    """About `n` customers, 60% SaaS on Stripe and 40% boxes on Recharge."""
    people = People(rng)
    n_stripe = round(n * 0.6)
    customers: list[Customer] = []
    for source, count in (("stripe", n_stripe), ("recharge", n - n_stripe)):
        for i, scenario in enumerate(_scenarios(count, RISKS[source], rng)):
            person = people.next()
            if source == "recharge" and i == count - 1 and n_stripe > 10:
                # The same person on both systems, email in another case: one subscriber.
                shared = customers[n_stripe - 1].person
                person = Person(shared.name, shared.email.upper(), shared.first, shared.last)
            spec = _spec(scenario, source, rng, today)
            build = _stripe_customer if source == "stripe" else _recharge_customer
            customers.append(build(person, spec, rng, today))
    return customers


def _scenarios(count: int, risks: tuple[str, ...], rng: random.Random) -> list[str]:
    each = max(1, round(count * 0.035)) if count >= 20 else 0
    chosen = [s for s in (*LIFECYCLE, *risks) for _ in range(each)][:count]
    return chosen + ["steady"] * (count - len(chosen))


def _spec(scenario: str, source: str, rng: random.Random, today: date) -> Spec:
    yearly = 12 if source == "stripe" else 3
    months = yearly if rng.random() < 0.3 else 1
    if scenario in TENURE:
        low, high = TENURE[scenario]
        return Spec(start=today - timedelta(days=rng.randint(low, high)), months=months)
    if scenario == "pre_renewal":
        renews = today + timedelta(days=rng.randint(9, 13))
        k = rng.randint(1, 2) if source == "stripe" else rng.randint(1, 4)
        start = years_ago(renews, k) if source == "stripe" else add_months(renews, -3 * k)
        return Spec(start=start, months=yearly)
    if scenario == "anniversary":
        return Spec(start=years_ago(today, rng.randint(1, 3), rng.randint(1, 4)), months=1)
    spec = Spec(
        start=today - timedelta(days=rng.randint(*rng.choice(STEADY_TENURE))), months=months
    )
    if scenario == "win_back" or (scenario == "steady" and rng.random() < 0.08):
        recent = scenario == "win_back"
        spec.start = today - timedelta(days=rng.randint(150, 900))
        spec.ended = today - timedelta(days=rng.randint(8, 27) if recent else rng.randint(60, 140))
        spec.status, spec.canceled = "canceled", spec.ended - timedelta(days=rng.randint(0, 3))
    elif scenario == "steady" and rng.random() < 0.2:
        spec.events.append(("nps", rng.randint(3, 60), str(rng.choice((9, 10))), "In-app survey"))
    _risk(scenario, spec, rng, today)
    return spec


def _risk(scenario: str, spec: Spec, rng: random.Random, today: date) -> None:
    ev = spec.events
    if scenario in ("past_due", "payment_failed"):
        spec.status = "past_due" if scenario == "past_due" else "active"
        ev += [("payment_failed", rng.randint(2, 6), "", "Card declined"),
               ("payment_failed", rng.randint(9, 15), "", "Insufficient funds")]  # fmt: skip
    elif scenario == "cancel_scheduled":
        spec.cancel_at_period_end = True
        spec.canceled = today - timedelta(days=rng.randint(1, 8))
    elif scenario == "cancel_request":
        ev += [("cancel_request", rng.randint(1, 6), "", "Emailed: please cancel, too expensive"),
               ("support_contact", rng.randint(1, 6), "", "Asked how to cancel")]  # fmt: skip
    elif scenario == "detractor":
        ev.append(("nps", rng.randint(5, 40), str(rng.randint(1, 5)), "Too slow lately"))
        ev += [("support_contact", rng.randint(1, 25), "", "Ticket") for _ in range(3)]
    elif scenario == "downgrade":
        ev += [("downgrade", rng.randint(5, 30), "", "Business -> Team"),
               ("nps", rng.randint(5, 30), "6", "")]  # fmt: skip
    elif scenario == "skips":
        spec.months = 1
        ev += [("skip", rng.randint(3, 20), "", ""), ("skip", rng.randint(31, 50), "", "")]
        ev.append(("nps", rng.randint(5, 30), "5", "Too much coffee"))
    elif scenario == "no_order":
        spec.months = 1
        spec.last_order = today - timedelta(days=rng.randint(50, 80))


def _event_rows(ref: str, spec: Spec, rng: random.Random, today: date) -> list[EventRow]:
    return [
        (
            ref,
            kind,
            value,
            at(today - timedelta(days=ago), rng).strftime("%Y-%m-%dT%H:%M:%SZ"),
            note,
        )
        for kind, ago, value, note in spec.events
    ]


def _stripe_customer(person: Person, spec: Spec, rng: random.Random, today: date) -> Customer:
    cid = f"cus_{token(rng)}"
    owner = rng.choice(OWNERS) if rng.random() < 0.6 else ""
    plan = rng.choice([p for p in STRIPE_PLANS if p[2] == spec.months])
    customer = Customer("stripe", person)
    customer.rows.append(_stripe_row(cid, person, plan, 1, spec, owner, rng, today))
    if rng.random() < 0.12:
        seats: Plan = ("Extra seats", "Acme Analytics Seats", 1, 12.0)
        customer.rows.append(
            _stripe_row(cid, person, seats, rng.randint(2, 5), spec, owner, rng, today)
        )
    customer.events = _event_rows(cid, spec, rng, today)
    return customer


Plan = tuple[str, str, int, float]  # name, product, months, amount


def _stripe_row(
    cid: str,
    person: Person,
    plan: Plan,
    quantity: int,
    spec: Spec,
    owner: str,
    rng: random.Random,
    today: date,
) -> list[object]:
    name, product, months, amount = plan
    stamp = "%Y-%m-%d %H:%M"
    trialing = spec.status == "active" and (today - spec.start).days < 14 and rng.random() < 0.5
    if spec.ended:
        period_end = spec.ended
    elif trialing:
        period_end = spec.start + timedelta(days=14)
    else:
        period_end = next_charge(spec.start, months, today)
    period_start = spec.start if trialing else add_months(period_end, -months)
    started = at(spec.start, rng)

    def fmt(day: date | None) -> str:
        return at(day, rng).strftime(stamp) if day else ""

    return [
        f"sub_1{token(rng, 23)}", cid, person.name, person.email, name, product, quantity, "usd",
        "year" if months == 12 else "month", f"{amount:.2f}", "trialing" if trialing else spec.status,
        "cancellation_requested" if spec.canceled else "", started.strftime(stamp),
        fmt(period_start), started.strftime(stamp), fmt(period_start), fmt(period_end),
        fmt(spec.start) if trialing else "", fmt(period_end) if trialing else "",
        fmt(spec.canceled), fmt(spec.ended), "true" if spec.cancel_at_period_end else "false", owner,
    ]  # fmt: skip


def _recharge_customer(person: Person, spec: Spec, rng: random.Random, today: date) -> Customer:
    customer = Customer("recharge", person)
    title, variant, sku, price = rng.choice(BOXES)
    price = round(price * spec.months * (0.92 if spec.months == 3 else 1), 2)
    live = spec.status != "canceled"
    status = "active" if live else "cancelled"
    if rng.random() < 0.15:
        status = status.upper()  # older Recharge API versions
    stamp = "%Y-%m-%dT%H:%M:%S"
    created = at(spec.start, rng).strftime(stamp)
    charge = next_charge(spec.start, spec.months, today) if live else None
    customer.rows.append([
        100_000_000 + rng.randint(0, 899_999_999), rng.randint(10**7, 10**8), person_id(person),
        person.email, status, "" if live else "Too much product", at(spec.canceled, rng).strftime(stamp) if spec.canceled else "",
        charge.strftime("%Y-%m-%dT00:00:00") if charge else "", spec.months, "month", spec.months,
        "true", "false", "false", title, variant, sku, f"{price:.2f}", 1, created, created,
    ])  # fmt: skip
    ref = person.email.upper() if rng.random() < 0.3 else person.email
    customer.events = _event_rows(ref, spec, rng, today)
    orders = _orders(spec, today)
    customer.events += [
        (ref, "order", "", at(d, rng).strftime("%Y-%m-%dT%H:%M:%SZ"), "") for d in orders
    ]
    owner = rng.choice(OWNERS) if rng.random() < 0.5 else ""
    shopify_id = f"{7_210_000_000_000 + rng.randint(0, 999_999)}"
    customer.shopify_row = [
        f"'{shopify_id}" if rng.random() < 0.33 else shopify_id, person.first, person.last,
        person.email.lower(), rng.choice(("yes", "no")), "", f"{rng.randint(1, 250)} Market St", "",
        "Portland", "OR", "US", "97201", "", "", "no", f"{price * max(len(orders), 1):.2f}",
        len(orders), "", "no", f"subscriber, {title.split()[0].lower()}", owner,
    ]  # fmt: skip
    return customer


def person_id(person: Person) -> int:
    """A Recharge customer id for a person, derived from the email (stable across runs)."""
    digest = hashlib.blake2b(person.email.lower().encode(), digest_size=4).digest()
    return 60_000_000 + int.from_bytes(digest, "big") % 900_000_000


def _orders(spec: Spec, today: date) -> list[date]:
    """The last three charge dates before today (or before the end, or the last order)."""
    until = min(d for d in (today - timedelta(days=1), spec.ended, spec.last_order) if d)
    dates, k = [spec.start], 1
    while (nxt := add_months(spec.start, k * spec.months)) <= until:
        dates.append(nxt)
        k += 1
    return [d for d in dates if d <= until][-3:]
