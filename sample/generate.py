"""Sample exports for `make demo`, and synthetic exports for benchmarks.

`write_samples` writes, with every date relative to `today` and a seeded random generator:
- `stripe_subscriptions.csv`: a SaaS on Stripe (monthly and yearly plans, seat add-ons, trials,
  past due, cancel-at-period-end, recent cancellations), with an `owner (metadata)` column;
- `recharge_subscriptions.csv`: subscription boxes on Recharge (monthly and quarterly);
- `shopify_customers.csv`: the Shopify customers behind those boxes (names, tags, owners);
- `events.csv`: failed payments, skips, NPS, support contacts, cancel requests, orders.

Subscribers are spread so that the digest shows every task kind: tenure in the onboarding and
check-in windows, renewals of quarterly and yearly plans in about 14 days, start-date
anniversaries this week, cancellations 7-30 days ago, and high churn risks.

    python -m sample.generate --out DIR [--today YYYY-MM-DD] [--subscribers 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sample.people import OWNERS, People, token
from sample.scenarios import Customer, plan_customers

STRIPE_HEADER = [
    "id",
    "Customer ID",
    "Customer Name",
    "Customer Email",
    "Plan",
    "Product",
    "Quantity",
    "Currency",
    "Interval",
    "Amount",
    "Status",
    "Cancellation Reason",
    "Created (UTC)",
    "Start (UTC)",
    "Start Date (UTC)",
    "Current Period Start (UTC)",
    "Current Period End (UTC)",
    "Trial Start (UTC)",
    "Trial End (UTC)",
    "Canceled At (UTC)",
    "Ended At (UTC)",
    "Cancel At Period End",
    "owner (metadata)",
]
RECHARGE_HEADER = [
    "id",
    "address_id",
    "customer_id",
    "customer_email",
    "status",
    "cancellation_reason",
    "cancelled_at",
    "next_charge_scheduled_at",
    "charge_interval_frequency",
    "order_interval_unit",
    "order_interval_frequency",
    "is_skippable",
    "is_prepaid",
    "max_retries_reached",
    "product_title",
    "variant_title",
    "sku",
    "price",
    "quantity",
    "created_at",
    "updated_at",
]
SHOPIFY_HEADER = [
    "Customer ID",
    "First Name",
    "Last Name",
    "Email",
    "Accepts Email Marketing",
    "Default Address Company",
    "Default Address Address1",
    "Default Address Address2",
    "Default Address City",
    "Default Address Province Code",
    "Default Address Country Code",
    "Default Address Zip",
    "Default Address Phone",
    "Phone",
    "Accepts SMS Marketing",
    "Total Spent",
    "Total Orders",
    "Note",
    "Tax Exempt",
    "Tags",
    "Account Manager (customer.metafields.custom.account_manager)",
]
EVENTS_HEADER = ["subscriber", "type", "value", "timestamp", "note"]
STRIPE_TIME = "%Y-%m-%d %H:%M"
RECHARGE_TIME = "%Y-%m-%dT%H:%M:%S"
EVENT_TIME = "%Y-%m-%dT%H:%M:%SZ"


def write_samples(
    out_dir: str | Path, today: date, subscribers: int = 300, seed: int = 7
) -> dict[str, Path]:
    """Write the demo's sample exports into `out_dir`.

    Args:
        out_dir: created if missing.
        today: every date is relative to it.
        subscribers: about how many subscribers the files describe.
        seed: the random seed; the same arguments always give the same files.

    Returns:
        File role ("stripe", "recharge", "shopify", "events") -> path written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    customers = plan_customers(random.Random(seed), today, subscribers)
    paths = {
        "stripe": out / "stripe_subscriptions.csv",
        "recharge": out / "recharge_subscriptions.csv",
        "shopify": out / "shopify_customers.csv",
        "events": out / "events.csv",
    }
    stripe = [row for c in customers if c.source == "stripe" for row in c.rows]
    recharge = [row for c in customers if c.source == "recharge" for row in c.rows]
    shopify = [c.shopify_row for c in customers if c.shopify_row]
    events = sorted((e for c in customers for e in c.events), key=lambda e: e[3])
    _write(paths["stripe"], STRIPE_HEADER, stripe)
    _write(paths["recharge"], RECHARGE_HEADER, recharge)
    _write(paths["shopify"], SHOPIFY_HEADER, shopify)
    _write(paths["events"], EVENTS_HEADER, events)
    return paths


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


_SYNTHETIC_PLANS = (
    ("Starter monthly", "Starter", "month", "29.00"),
    ("Team monthly", "Team", "month", "99.00"),
    ("Team yearly", "Team", "year", "990.00"),
    ("Business yearly", "Business", "year", "2990.00"),
)
_SYNTHETIC_STATUSES = ("active",) * 16 + ("past_due", "trialing", "canceled", "canceled")


def write_synthetic_stripe(path: str | Path, n: int, today: date, seed: int = 1) -> list[str]:
    """Write `n` rows of a Stripe subscriptions export, for benchmarks.

    About one customer in eight has a second subscription. Dates are within four years
    before `today`.

    Returns:
        The customer ids written, each once, in order.
    """
    rng = random.Random(seed)
    customers: list[str] = []
    rows: list[list[object]] = []
    while len(rows) < n:
        cid = f"cus_{len(customers):08d}{token(rng, 6)}"
        customers.append(cid)
        name = f"{rng.choice(('Ada', 'Ben', 'Zoë', 'Léa', 'Sam'))} {len(customers)}"
        email = f"customer{len(customers)}@example.com"
        for _ in range(2 if rng.random() < 0.125 else 1):
            plan, product, interval, amount = rng.choice(_SYNTHETIC_PLANS)
            status = rng.choice(_SYNTHETIC_STATUSES)
            start = today - timedelta(days=rng.randint(1, 1460))
            ended = (
                start + timedelta(days=rng.randint(0, (today - start).days))
                if status == "canceled"
                else None
            )
            stamp = start.strftime("%Y-%m-%d 09:00")
            end_stamp = ended.strftime("%Y-%m-%d 09:00") if ended else ""
            period_end = (today + timedelta(days=rng.randint(1, 30))).strftime("%Y-%m-%d 09:00")
            rows.append(
                [f"sub_{len(rows):08d}", cid, name, email, plan, product, "1", "usd", interval,
                 amount, status, "", stamp, stamp, stamp, "", end_stamp or period_end, "", "",
                 end_stamp, end_stamp, "", rng.choice(OWNERS) if rng.random() < 0.3 else ""]
            )  # fmt: skip
    _write(Path(path), STRIPE_HEADER, rows[:n])
    return customers


_SYNTHETIC_EVENTS = ("payment_failed", "skip", "nps", "support_contact", "order", "order")


def write_synthetic_events(
    path: str | Path, subscriber_ids: Sequence[str], today: date, seed: int = 1
) -> int:
    """Write an events CSV with 0-3 events per subscriber in the last 90 days, for benchmarks.

    Returns:
        How many events were written.
    """
    rng = random.Random(seed)
    rows: list[list[str]] = []
    for sid in subscriber_ids:
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice(_SYNTHETIC_EVENTS)
            value = str(rng.randint(0, 10)) if kind == "nps" else ""
            when = datetime.combine(today, time(0)) - timedelta(
                days=rng.randint(0, 90), minutes=rng.randint(0, 1439)
            )
            rows.append([sid, kind, value, when.strftime(EVENT_TIME), ""])
    _write(Path(path), EVENTS_HEADER, rows)
    return len(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the samples into `--out`."""
    parser = argparse.ArgumentParser(prog="python -m sample.generate", description=__doc__)
    parser.add_argument("--out", required=True, help="directory to write the CSV files into")
    parser.add_argument(
        "--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
    )
    parser.add_argument("--subscribers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    today = args.today or date.today()  # the command line is the edge: logic gets `today`
    paths = write_samples(args.out, today, subscribers=args.subscribers, seed=args.seed)
    for path in paths.values():
        print(path)
    return 0


__all__ = [
    "Customer",
    "People",
    "main",
    "write_samples",
    "write_synthetic_events",
    "write_synthetic_stripe",
]

if __name__ == "__main__":
    raise SystemExit(main())
