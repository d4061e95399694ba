"""The bounds every number and date from outside must keep, whichever way it comes in.

An import's cells (`bot.importers.values`) and a webhook's fields (`bot.signals.model`) are
both held to these: a value outside them is a typo, a column mix-up or a hostile payload, and
taken as is it would overflow later (`Subscription.monthly_value` multiplies amount and
quantity) or lie about a customer. One rule here; each way in words its own refusal.
"""

from __future__ import annotations

import math
from datetime import date

MAX_AMOUNT = 1e12  # per billing interval; more is a typo or a column mix-up
MAX_COUNT = 1_000_000  # quantities and interval counts
FIRST_YEAR, LAST_YEAR = 1970, 2200  # dates outside these are not a customer's


def is_count(number: float) -> bool:
    """Whether `number` is a whole number from 1 to `MAX_COUNT` (not inf, not nan)."""
    return 1 <= number <= MAX_COUNT and number == int(number)


def is_amount(number: float) -> bool:
    """Whether `number` is an amount from 0 to below `MAX_AMOUNT` (not inf, not nan)."""
    return 0 <= number < MAX_AMOUNT


def is_number(number: float) -> bool:
    """Whether `number` is finite and below `MAX_AMOUNT` either side of zero."""
    return math.isfinite(number) and abs(number) < MAX_AMOUNT


def is_day(day: date) -> bool:
    """Whether `day` (or a datetime) lies between `FIRST_YEAR` and `LAST_YEAR`."""
    return FIRST_YEAR <= day.year <= LAST_YEAR


COUNT_RULE = f"a whole number from 1 to {MAX_COUNT:,}"
AMOUNT_RULE = f"an amount from 0 to below {MAX_AMOUNT:,.0f}"
DAY_RULE = f"a date between {FIRST_YEAR} and {LAST_YEAR}"
