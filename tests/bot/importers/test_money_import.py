"""Money as the export states it: amount, currency and billing period, on the real headers.

Chargebee's `Subscriptions.csv` (header from ../shared/formats.md) has no period and no
currency column, and `plan_unit_price` is in cents: the period comes from the current term
with the plan id as a hint, and a missing currency is shown without a symbol.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.engine import run_engine
from bot.importers import import_file
from bot.money import price_label, subscriber_price
from bot.repos import Repos
from tests.bot.builders import at_noon
from tests.bot.importers.exports import (
    NOW,
    chargebee_header,
    recharge_header,
    recharge_row,
    stripe_header,
    stripe_row,
    write,
)


def chargebee_row(**cells: object) -> dict[str, object]:
    row: dict[str, object] = {
        "subscriptions.id": "'cb_sub_1",  # ids as spreadsheets keep them: a leading apostrophe
        "subscriptions.plan_id": "pro-annual",
        "subscriptions.plan_quantity": "1",
        "subscriptions.plan_unit_price": "99000",  # cents
        "subscriptions.status": "Active",
        "subscriptions.start_date": "",
        "subscriptions.current_term_start": "1768035600",  # 2026-01-10 09:00 UTC
        "subscriptions.current_term_end": "1799571600",  # 2027-01-10 09:00 UTC
        "subscriptions.created_at": "1768035600",
        "subscriptions.started_at": "1768035600",
        "subscriptions.auto_collection": "on",
        "customers.id": "'cb_cus_1",
        "customers.email": "Jo@Example.com",
        "customers.first_name": "Jo",
    }
    row.update(cells)
    return row


def imported(tmp_path: Path, repos: Repos, rows, header=None, name="Subscriptions.csv"):
    path = write(tmp_path, name, header or chargebee_header(), rows)
    report = import_file(path, "auto", repos, NOW)
    assert report.rejected == [], report.rejected
    return report


def test_chargebee_annual_plan_in_cents_is_990_a_year_without_a_made_up_currency(
    tmp_path: Path, repos: Repos
):
    imported(tmp_path, repos, [chargebee_row()])
    sub = repos.subscribers.get("cb_cus_1")
    assert sub is not None
    [s] = sub.subscriptions
    assert (s.id, s.amount, s.currency, s.interval, s.interval_count) == (
        "cb_sub_1",
        990.0,
        "",
        "year",
        1,
    )
    assert subscriber_price(sub) == "990/yr"  # no currency column: no symbol, never "$"
    assert sub.monthly_value == pytest.approx(82.5, abs=0.1)  # only for ordering


@pytest.mark.parametrize(
    ("plan", "start", "end", "expected"),
    [
        ("starter", "2026-06-10 09:00:00", "2026-07-10 09:00:00", ("month", 1)),  # term only
        ("starter", "2026-04-10 09:00:00", "2026-07-10 09:00:00", ("month", 3)),
        ("pro-annual", "2026-06-10 09:00:00", "2026-07-01 00:00:00", ("year", 1)),  # short term
        ("basic-monthly", "", "", ("month", 1)),  # no term: the plan id says
        ("pro-monthly", "2026-01-10 09:00:00", "2027-01-10 09:00:00", ("year", 1)),  # term wins
        ("starter", "", "", ("", 1)),  # nothing says: no period is made up
    ],
)
def test_chargebee_period_comes_from_the_term_with_the_plan_id_as_a_hint(
    tmp_path: Path, repos: Repos, plan: str, start: str, end: str, expected: tuple[str, int]
):
    row = chargebee_row(
        **{
            "subscriptions.plan_id": plan,
            "subscriptions.current_term_start": start,
            "subscriptions.current_term_end": end,
        }
    )
    imported(tmp_path, repos, [row])
    sub = repos.subscribers.get("cb_cus_1")
    assert sub is not None
    [s] = sub.subscriptions
    assert (s.interval, s.interval_count) == expected


def test_chargebee_decimal_column_and_currency_are_read_as_written(tmp_path: Path, repos: Repos):
    header = [
        *chargebee_header(),
        "subscriptions.plan_unit_price_in_decimal",
        "subscriptions.currency_code",
    ]
    rows = [
        chargebee_row(
            **{
                "subscriptions.plan_unit_price": "",
                "subscriptions.plan_unit_price_in_decimal": "1,200.00",
                "subscriptions.currency_code": "eur",
            }
        ),
        chargebee_row(
            **{
                "subscriptions.id": "cb_sub_2",
                "customers.id": "cb_cus_2",
                "customers.email": "pat@example.com",
                "subscriptions.plan_id": "team-monthly",
                "subscriptions.plan_unit_price": "4900",
                "subscriptions.current_term_start": "2026-06-01 00:00:00",
                "subscriptions.current_term_end": "2026-07-01 00:00:00",
                "subscriptions.currency_code": "EUR",
            }
        ),
    ]
    imported(tmp_path, repos, rows, header)
    annual, monthly = repos.subscribers.get("cb_cus_1"), repos.subscribers.get("cb_cus_2")
    assert annual is not None and monthly is not None
    assert subscriber_price(annual) == "€1,200/yr"
    assert subscriber_price(monthly) == "€49/mo"


def test_chargebee_price_written_with_decimals_in_the_cents_column_is_not_divided(
    tmp_path: Path, repos: Repos
):
    imported(tmp_path, repos, [chargebee_row(**{"subscriptions.plan_unit_price": "990.00"})])
    sub = repos.subscribers.get("cb_cus_1")
    assert sub is not None and sub.subscriptions[0].amount == 990.0


def test_chargebee_annual_plan_gets_its_pre_renewal_touch(tmp_path: Path, repos: Repos, settings):
    imported(tmp_path, repos, [chargebee_row()])
    renewal = date(2027, 1, 10)
    clock = FixedClock(at_noon(renewal - timedelta(days=20)))
    created = []
    for offset in range(20, 0, -1):
        day = renewal - timedelta(days=offset)
        clock.set(at_noon(day))
        created += [(day, t.kind) for t in run_engine(day, repos, settings, clock).created]
    assert created == [(renewal - timedelta(days=14), "pre_renewal")]


def test_stripe_amounts_as_stripe_writes_them(tmp_path: Path, repos: Repos):
    rows = [
        stripe_row(**{"Amount": "1,200.00", "Interval": "year", "Currency": "usd"}),
        stripe_row(
            **{"id": "sub_2", "Customer ID": "cus_2", "Customer Email": "b@example.com"},
            **{"Amount": "19.50", "Currency": "gbp"},
        ),
    ]
    imported(tmp_path, repos, rows, stripe_header(), "subscriptions.csv")
    yearly, monthly = repos.subscribers.get("cus_1"), repos.subscribers.get("cus_2")
    assert yearly is not None and monthly is not None
    assert (price_label(yearly), price_label(monthly)) == ("$1,200/yr", "£19.50/mo")


def test_recharge_quoted_multiline_comment_is_kept_with_its_reason(tmp_path: Path, repos: Repos):
    row = recharge_row(
        status="active",
        cancellation_reason="Too expensive",
        cancellation_reason_comments='Love it, but\n"money is tight"\nthis year',
    )
    imported(tmp_path, repos, [row], recharge_header(), "r.csv")
    sub = repos.subscribers.get("777")
    assert sub is not None
    [s] = sub.subscriptions
    assert s.cancellation_reason == "Too expensive"
    assert s.cancellation_comment == 'Love it, but\n"money is tight"\nthis year'
    assert price_label(sub) == "66/quarter"  # Recharge's export carries no currency
