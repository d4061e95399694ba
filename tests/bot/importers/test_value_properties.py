"""Every CSV value parser, on any text: a value it can stand behind, or a `RowError`.

Hypothesis feeds arbitrary text and text shaped like the cells that broke the importer
(`inf`, `nan`, `1e999`, `0001-01-01T00:00:00+01:00`, huge digit runs); a parser that raises
anything else, or returns a value the store could not hold, fails the test.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.bounds import MAX_AMOUNT, MAX_COUNT
from bot.importers.events import parse_type
from bot.importers.values import (
    RowError,
    parse_amount,
    parse_count,
    parse_day,
    parse_email,
    parse_flag,
    parse_interval,
    parse_minor_amount,
    parse_number,
    parse_status,
    parse_when,
)
from bot.models import EVENT_TYPES, STATUSES

NUMBERISH = st.from_regex(
    r"\A[-+ $€]?(\d{0,40}|inf|nan|infinity)([.,]\d{0,40})?([eE][-+]?\d{1,5})?[ €]?\Z"
)
DATEISH = (
    st.from_regex(r"\A\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}( \d{1,2}:\d\d( [AP]M)?)?\Z")
    | st.from_regex(
        r"\A\d{1,4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?(Z|[+-]\d{2}:\d{2}| UTC)?\Z"
    )
    | st.from_regex(r"\A\d{1,20}\Z")
)
CELLS = st.text() | NUMBERISH | DATEISH


def _finite_amount(value: Any) -> bool:
    return value is None or (isinstance(value, float) and 0 <= value < MAX_AMOUNT)


def _finite_number(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isfinite(value))


def _count(value: Any) -> bool:
    return value is None or (type(value) is int and 1 <= value <= MAX_COUNT)


def _when(value: Any) -> bool:
    return value is None or (
        isinstance(value, datetime) and value.tzinfo is UTC and 1970 <= value.year <= 2200
    )


def _day(value: Any) -> bool:
    return value is None or (isinstance(value, date) and 1970 <= value.year <= 2200)


PARSERS: dict[str, tuple[Callable[[str, str], Any], Callable[[Any], bool]]] = {
    "when": (parse_when, _when),
    "when day-first": (lambda text, column: parse_when(text, column, "dmy"), _when),
    "when month-first": (lambda text, column: parse_when(text, column, "mdy"), _when),
    "day": (parse_day, _day),
    "amount": (parse_amount, _finite_amount),
    "amount in cents": (parse_minor_amount, _finite_amount),
    "amount in yen": (lambda text, column: parse_minor_amount(text, column, "jpy"), _finite_amount),
    "number": (parse_number, _finite_number),
    "count": (parse_count, _count),
    "flag": (parse_flag, lambda v: isinstance(v, bool)),
    "status": (parse_status, lambda v: v in STATUSES),
    "interval": (parse_interval, lambda v: v is None or v[0] in ("day", "week", "month", "year")),
    "email": (parse_email, lambda v: isinstance(v, str) and (not v or "@" in v)),
    "event type": (lambda text, _column: parse_type(text), lambda v: v in EVENT_TYPES),
}


@pytest.mark.parametrize("name", PARSERS)
@settings(max_examples=100, deadline=None)
@given(text=CELLS)
@example(text="inf")
@example(text="-inf")
@example(text="nan")
@example(text="1e999")
@example(text="9" * 400)
@example(text="0001-01-01T00:00:00+01:00")
@example(text="9999-12-31T23:59:59-01:00")
@example(text="²³⁴⁵⁶⁷⁸⁹⁰¹")
def test_any_text_gives_a_value_or_a_row_error(name: str, text: str):
    parse, valid = PARSERS[name]
    try:
        value = parse(text, "Column")
    except RowError as exc:
        assert "Column" in str(exc) or name == "event type"
    else:
        assert valid(value), f"{name} parser returned {value!r} for {text!r}"


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_count, "inf"),
        (parse_count, "nan"),
        (parse_count, "1e999"),
        (parse_count, "99999999999"),
        (parse_amount, "9" * 400),
        (parse_number, "nan"),
        (parse_number, "-inf"),
        (parse_number, "1e999"),
        (parse_when, "0001-01-01T00:00:00+01:00"),
        (parse_when, "9999-12-31T23:59:59-01:00"),
    ],
)
def test_values_python_cannot_hold_are_row_errors_naming_the_cell(parse: Any, text: str):
    with pytest.raises(RowError, match=re.escape(f"Quantity '{text[:60]}")):
        parse(text, "Quantity")


def test_a_huge_bad_cell_is_quoted_short_in_the_message():
    with pytest.raises(RowError) as caught:
        parse_status("x" * 100_000, "Status")
    assert len(str(caught.value)) < 400 and "100,000 characters" in str(caught.value)
