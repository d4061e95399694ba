"""Money as the customer pays it: one formatter, in its own currency and billing period."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models import Subscriber, Subscription
from bot.money import amount_text, price_label, price_text, subscriber_price


@pytest.mark.parametrize(
    ("amount", "currency", "interval", "count", "expected"),
    [
        (1200, "usd", "year", 1, "$1,200/yr"),
        (49, "EUR", "month", 1, "€49/mo"),
        (19.5, "gbp", "month", 1, "£19.50/mo"),
        (990, "", "year", 1, "990/yr"),  # no currency: no symbol, never "$"
        (90, "CHF", "month", 3, "90 CHF/quarter"),
        (5000, "JPY", "month", 1, "¥5,000/mo"),
        (30, "usd", "week", 2, "$30 every 2 wk"),
        (990, "usd", "", 1, "$990"),  # period unknown: none made up
        (10, "<!x>", "month", 1, "10/mo"),  # not a currency code: nothing of it is shown
    ],
)
def test_price_is_shown_in_its_currency_per_its_period(
    amount: float, currency: str, interval: str, count: int, expected: str
) -> None:
    assert price_text(amount, currency, interval, count) == expected


def test_an_annual_plan_is_not_shown_as_a_monthly_fraction() -> None:
    sub = Subscriber(
        id="c",
        subscriptions=[Subscription(id="s", amount=1200, currency="usd", interval="year")],
    )
    assert subscriber_price(sub) == "$1,200/yr"
    assert sub.monthly_value == pytest.approx(100.0, abs=0.05)  # ordering only


def test_several_subscriptions_add_up_per_currency_and_period_largest_first() -> None:
    subs = [
        Subscription(id="a", amount=10, currency="eur", interval="month"),
        Subscription(id="b", amount=39, currency="EUR", interval="month", quantity=1),
        Subscription(id="c", amount=1200, currency="usd", interval="year"),
        Subscription(id="d", amount=99, currency="usd", interval="month", status="canceled"),
    ]
    assert subscriber_price(Subscriber(id="x", subscriptions=subs)) == "$1,200/yr + €49/mo"


def test_a_customer_who_left_shows_what_they_paid_not_zero() -> None:
    gone = Subscriber(
        id="x",
        subscriptions=[
            Subscription(
                id="a", amount=49, currency="eur", status="canceled", ended_at=date(2026, 6, 1)
            ),
            Subscription(id="b", amount=500, currency="eur", status="incomplete_expired"),
        ],
    )
    assert price_label(gone) == "was €49/mo"


def test_a_customer_without_a_price_shows_none() -> None:
    assert price_label(Subscriber(id="x")) == ""
    assert price_label(Subscriber(id="x", subscriptions=[Subscription(id="a")])) == ""


def test_payment_amounts_have_no_period() -> None:
    assert amount_text(49, "USD") == "$49" and amount_text(2.24, "usd") == "$2.24"


@given(
    amount=st.floats(min_value=0, max_value=1e11, allow_nan=False),
    currency=st.text(max_size=8),
    interval=st.sampled_from(["day", "week", "month", "year", "", "fortnight"]),
    count=st.integers(min_value=1, max_value=1000),
)
def test_any_price_is_plain_safe_text(
    amount: float, currency: str, interval: str, count: int
) -> None:
    text = price_text(amount, currency, interval, count)
    assert not set(text) & set("<>&*_`~|\n")
    assert "$" not in text or currency.strip().upper() == "USD"
