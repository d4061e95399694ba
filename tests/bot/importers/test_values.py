"""Cell parsers: the date, amount, status and interval spellings real exports use."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.importers.values import (
    RowError,
    parse_amount,
    parse_count,
    parse_day,
    parse_flag,
    parse_interval,
    parse_status,
    parse_when,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-10", datetime(2025, 1, 10, tzinfo=UTC)),
        ("2025-01-10 09:00", datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),
        ("2025-01-10T09:00:00Z", datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),
        ("2025-01-10T09:00:00", datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),  # Recharge
        ("2025-01-10T04:00:00-05:00", datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),
        ("2025-01-10 09:00:00 UTC", datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),
        ("1736499600", datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),  # Chargebee, Unix seconds
        ("1736499600000", datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),
        ("10-Jan-2025 09:00", datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),
        ("Jan 10, 2025", datetime(2025, 1, 10, tzinfo=UTC)),
        ("2025/01/10", datetime(2025, 1, 10, tzinfo=UTC)),
    ],
)
def test_dates_in_export_spellings_are_read_as_utc(text: str, expected: datetime):
    assert parse_when(text, "Created") == expected


def test_an_offset_near_midnight_gives_the_utc_day():
    assert parse_day("2025-01-10T23:30:00-05:00", "Start") == date(2025, 1, 11)


def test_an_empty_date_cell_is_none():
    assert parse_when("  ", "Canceled At (UTC)") is None


@pytest.mark.parametrize("text", ["31/13/2025", "yesterday", "2025-13-01", "0001-01-01", "12345"])
def test_unreadable_dates_name_the_column_and_the_fix(text: str):
    with pytest.raises(RowError, match=r"Start Date \(UTC\) .* is not a date.*YYYY-MM-DD"):
        parse_when(text, "Start Date (UTC)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19.00", 19.0),
        ("$1,234.50", 1234.5),
        ("19,90 €", 19.9),
        ("1.234,56", 1234.56),
        ("1,234", 1234.0),
        ("USD 5", 5.0),
        ("", None),
    ],
)
def test_amounts_are_read_in_major_units(text: str, expected: float | None):
    assert parse_amount(text, "Amount") == expected


@pytest.mark.parametrize("text", ["abc", "-5.00", "1.2.3,4,5x"])
def test_bad_amounts_are_row_errors(text: str):
    with pytest.raises(RowError, match="Amount"):
        parse_amount(text, "Amount")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("active", "active"),
        ("Non Renewing", "non_renewing"),
        ("In Trial", "trialing"),
        ("Cancelled", "canceled"),
        ("CANCELLED", "canceled"),
        ("EXPIRED", "expired"),
        ("past_due", "past_due"),
        ("Future", "future"),
        ("PAUSED", "paused"),
    ],
)
def test_statuses_are_normalised(text: str, expected: str):
    assert parse_status(text, "Status") == expected


def test_an_unknown_status_lists_the_known_ones():
    with pytest.raises(RowError, match=r"'frozen' is not a status I know: use one of trialing"):
        parse_status("frozen", "Status")


def test_an_empty_status_is_a_row_error():
    with pytest.raises(RowError, match="Status is empty"):
        parse_status(" ", "Status")


def test_intervals_and_counts():
    assert parse_interval("quarterly", "Interval") == ("month", 3)
    assert parse_interval("Year", "Interval") == ("year", 1)
    assert parse_count("3", "Quantity") == 3
    with pytest.raises(RowError, match="not an interval"):
        parse_interval("fortnightly", "Interval")
    with pytest.raises(RowError, match="whole number"):
        parse_count("1.5", "Quantity")


def test_flags():
    assert parse_flag("TRUE", "Cancel At Period End") is True
    assert parse_flag("", "Cancel At Period End") is False
    with pytest.raises(RowError, match="not true or false"):
        parse_flag("maybe", "Cancel At Period End")
