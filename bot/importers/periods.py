"""The billing period of a subscription whose export has no period column (Chargebee).

Chargebee's `Subscriptions.csv` carries the current term (`current_term_start`,
`current_term_end`) and the plan id, not `billing_period`/`billing_period_unit` (API fields).
The term tells the period: a term from Jan 10 to Feb 10 is a month, Jan 10 to Jan 10 next
year a year. The plan id is a hint (`pro-annual`, `basic-monthly` is a naming habit, not a
rule): it decides when there is no term, and when the term is shorter than the plan says (a
first term cut short by calendar billing or a mid-term start). A term that is no whole period
and a plan id without a hint give no period: the amount is then shown without one.
"""

from __future__ import annotations

import re
from datetime import date

Period = tuple[str, int]  # (unit, count): ("month", 3) is quarterly

_HINTS: tuple[tuple[re.Pattern[str], Period], ...] = tuple(
    (re.compile(rf"(?:^|[^a-z]){words}(?:$|[^a-z])"), period)
    for words, period in (
        (r"(?:annual|annually|yearly|year|yr|12[\s_-]?months?)", ("year", 1)),
        (r"(?:semi[\s_-]?annual|half[\s_-]?year(?:ly)?|6[\s_-]?months?)", ("month", 6)),
        (r"(?:quarterly|quarter|3[\s_-]?months?)", ("month", 3)),
        (r"(?:monthly|month|mo)", ("month", 1)),
        (r"(?:weekly|week|wk)", ("week", 1)),
        (r"(?:daily|day)", ("day", 1)),
    )
)
# Terms counted in days, for terms that do not fall on the same day of a later month.
_BY_DAYS: tuple[tuple[int, int, Period], ...] = (
    (1, 1, ("day", 1)),
    (7, 7, ("week", 1)),
    (14, 14, ("week", 2)),
    (28, 31, ("month", 1)),
    (89, 92, ("month", 3)),
    (181, 184, ("month", 6)),
    (365, 366, ("year", 1)),
)
_MONTHS = {1: ("month", 1), 3: ("month", 3), 6: ("month", 6), 12: ("year", 1), 24: ("year", 2)}


def days_of(period: Period) -> float:
    """A period's length in days (a month is 30.44)."""
    unit, count = period
    return {"day": 1, "week": 7, "month": 30.44, "year": 365.25}[unit] * count


def plan_hint(plan: str) -> Period | None:
    """The period a plan id names (`pro-annual` -> year, `Basic Monthly` -> month), if any.

    Semi-annual is tested before annual, so "semi-annual" is never read as a year.
    """
    text = plan.lower()
    ordered = (_HINTS[1], _HINTS[0], *_HINTS[2:])
    for pattern, period in ordered:
        if pattern.search(text):
            return period
    return None


def term_period(start: date | None, end: date | None) -> Period | None:
    """The period a term spans: whole months by the calendar, else a known length in days."""
    if start is None or end is None or end <= start:
        return None
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day == start.day and months in _MONTHS:
        return _MONTHS[months]
    days = (end - start).days
    return next((p for low, high, p in _BY_DAYS if low <= days <= high), None)


def infer_period(start: date | None, end: date | None, plan: str) -> Period | None:
    """The billing period from the current term, with the plan id as a hint (module docstring)."""
    term, hint = term_period(start, end), plan_hint(plan)
    if term is not None and hint is not None and days_of(term) < days_of(hint):
        return hint  # a short first term of a longer plan
    return term or hint
