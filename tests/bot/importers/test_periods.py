"""The billing period from a current term and a plan id (Chargebee has no period column)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.importers.periods import infer_period, plan_hint, term_period


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ("pro-annual", ("year", 1)),
        ("Team Yearly", ("year", 1)),
        ("basic-monthly", ("month", 1)),
        ("box_quarterly", ("month", 3)),
        ("pro-semi-annual", ("month", 6)),  # not a year
        ("weekly-veg", ("week", 1)),
        ("demo", None),  # "mo" inside a word is no hint
        ("starter", None),
    ],
)
def test_plan_id_hints(plan: str, expected: tuple[str, int] | None) -> None:
    assert plan_hint(plan) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), ("month", 1)),  # by days: 28
        (date(2026, 1, 10), date(2026, 2, 10), ("month", 1)),
        (date(2026, 1, 10), date(2026, 4, 10), ("month", 3)),
        (date(2026, 1, 10), date(2027, 1, 10), ("year", 1)),
        (date(2024, 2, 29), date(2025, 2, 28), ("year", 1)),  # 365 days
        (date(2026, 1, 10), date(2026, 1, 17), ("week", 1)),
        (date(2026, 1, 10), date(2026, 1, 30), None),  # 20 days: no whole period
        (date(2026, 1, 10), date(2026, 1, 10), None),
    ],
)
def test_term_lengths(start: date, end: date, expected: tuple[str, int] | None) -> None:
    assert term_period(start, end) == expected


@given(
    start=st.none() | st.dates(min_value=date(1970, 1, 1), max_value=date(2200, 1, 1)),
    end=st.none() | st.dates(min_value=date(1970, 1, 1), max_value=date(2200, 1, 1)),
    plan=st.text(max_size=60),
)
def test_any_term_and_plan_give_a_known_period_or_none(
    start: date | None, end: date | None, plan: str
) -> None:
    period = infer_period(start, end, plan)
    assert period is None or (period[0] in ("day", "week", "month", "year") and period[1] >= 1)
