"""Cell parsers shared by every import format: dates, amounts, counts, flags, statuses.

Each parser takes the cell text and the column it came from, and either returns a value or
raises `RowError` with a reason a person can act on ("Start Date (UTC) '31/02/2025' is not a
date: use YYYY-MM-DD"). The importer turns a `RowError` into a rejected row with its line.

Every parser is wrapped by `cell_parser`, so no text can make one raise anything else: a
value Python cannot represent (`inf`, `1e999`, a date that overflows when moved to UTC) is
a `RowError` too. Numbers and dates keep the bounds of `bot.bounds`, as a webhook's do.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import ParamSpec, TypeVar

from bot.bounds import COUNT_RULE, is_amount, is_count, is_day, is_number
from bot.importers import dates
from bot.models import STATUSES
from bot.money import ZERO_DECIMAL

P = ParamSpec("P")
T = TypeVar("T")

_SHOWN = 60  # characters of a bad cell quoted in a message


class RowError(ValueError):
    """One row cannot be imported; the message says why."""


def shown(text: str) -> str:
    """A cell as quoted in a message: repr, cut to a readable length."""
    text = text.strip()
    return repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text):,} characters)"


def cell_parser(parse: Callable[P, T]) -> Callable[P, T]:
    """Make `parse(text, column)` raise only `RowError`, whatever the text.

    A parser that meets text it did not foresee (an overflow, a value error deep in
    `datetime`) rejects the row naming the column and the cell, instead of ending the import.
    """

    @functools.wraps(parse)
    def parser(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return parse(*args, **kwargs)
        except RowError:
            raise
        except (ValueError, ArithmeticError, OSError) as exc:
            text, column = (list(args) + ["", ""])[:2]
            raise RowError(f"{column} {shown(str(text))} cannot be read ({exc})") from None

    return parser


# Source spellings -> canonical status (bot.models.STATUSES). Keys are lower-case, with
# spaces and hyphens turned into underscores, so "Non Renewing" and "IN-TRIAL" both match.
_STATUS_ALIASES = {
    "trial": "trialing",
    "trialling": "trialing",
    "in_trial": "trialing",
    "cancelled": "canceled",
    "nonrenewing": "non_renewing",
    "failed": "past_due",  # Shopify contract FAILED: billing failed, still recoverable
    "dunning": "past_due",
    "on_hold": "paused",
    "stale": "expired",  # Shopify contract STALE: replaced or no longer billed
    "ended": "expired",
}

_INTERVALS = {
    "day": ("day", 1),
    "days": ("day", 1),
    "daily": ("day", 1),
    "d": ("day", 1),
    "week": ("week", 1),
    "weeks": ("week", 1),
    "weekly": ("week", 1),
    "w": ("week", 1),
    "month": ("month", 1),
    "months": ("month", 1),
    "monthly": ("month", 1),
    "m": ("month", 1),
    "quarter": ("month", 3),
    "quarterly": ("month", 3),
    "year": ("year", 1),
    "years": ("year", 1),
    "yearly": ("year", 1),
    "annual": ("year", 1),
    "annually": ("year", 1),
    "y": ("year", 1),
}

_TRUE = frozenset({"true", "yes", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "n", "f", "0", ""})

# Unambiguous non-ISO date spellings seen in billing exports. Numeric day/month orders
# (01/02/2025) are read by bot.importers.dates, in the order the file proves or is given.
_DATE_FORMATS = (
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d-%b-%Y",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y %H:%M:%S",
    "%d %b %Y",
    "%d %b %Y %H:%M",
    "%b %d, %Y",
    "%b %d, %Y %H:%M",
    "%B %d, %Y",
    "%B %d, %Y %H:%M",
)
_TZ_WORDS = re.compile(r"\s*(UTC|GMT|Z)$", re.IGNORECASE)
_MONEY_NOISE = re.compile(r"[\sA-Za-z$€£¥\u00a0']")
_NUMBER = re.compile(r"-?[\d.,]+")

_when_caches: dict[str | None, dict[str, datetime]] = {None: {}, "dmy": {}, "mdy": {}}


@cell_parser
def parse_when(text: str, column: str, order: str | None = None) -> datetime | None:
    """A timestamp cell as an aware UTC datetime, or None when the cell is empty.

    Accepts ISO 8601 (`2025-01-10`, `2025-01-10 09:00`, `2025-01-10T09:00:00Z`, offsets),
    Unix timestamps in seconds or milliseconds (Chargebee, APIs), a trailing `UTC`, a few
    month-name spellings (`10-Jan-2025 09:00`, `Jan 10, 2025`), and numeric dates as
    spreadsheets save them (`31/10/2026 09:00`, `10/31/26 9:00 PM`, `31.10.2026`): those that
    can be read only one way always, the others in `order` ("dmy" or "mdy", see
    `bot.importers.dates`). Naive times are taken as UTC.

    Raises:
        RowError: the cell holds something that is not such a date, or a numeric date that
            could be read both ways when no order is given.
    """
    text = text.strip()
    if not text:
        return None
    cache = _when_caches[order]
    cached = cache.get(text)
    if cached is not None:
        return cached
    try:
        value = _parse_when(text, order)
    except dates.Ambiguous:
        raise RowError(
            f"{column} {shown(text)} can be read day-first or month-first: import again with "
            "--date-order dmy or --date-order mdy"
        ) from None
    except (ValueError, OverflowError, OSError):  # 0001-01-01T00:00+01:00 has no UTC time
        value = None
    if value is None or not is_day(value):
        raise RowError(
            f"{column} {shown(text)} is not a date I can read: use YYYY-MM-DD or YYYY-MM-DD HH:MM"
        )
    if len(cache) < 100_000:
        cache[text] = value
    return value


def _parse_when(text: str, order: str | None) -> datetime | None:
    if text.isascii() and text.isdigit():
        if len(text) in (10, 13):
            seconds = int(text) / (1000 if len(text) == 13 else 1)
            return datetime.fromtimestamp(seconds, UTC)
        if len(text) != 8:  # 20250110 is ISO basic format, handled below
            return None
    stripped = _TZ_WORDS.sub("", text)  # "...Z", "... UTC": UTC, as naive times are
    value = _parse_text(stripped, order)
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_text(text: str, order: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    numeric = dates.parse(text, order)
    if numeric is not None:
        return numeric
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_day(text: str, column: str, order: str | None = None) -> date | None:
    """A date cell as a UTC calendar date (see `parse_when`), or None when empty."""
    when = parse_when(text, column, order)  # a cell_parser: raises only RowError
    return when.date() if when else None


@cell_parser
def parse_amount(text: str, column: str) -> float | None:
    """A money cell in major units ("19.00", "$1,234.50", "19,90 €"), or None when empty.

    Raises:
        RowError: not a number, or negative.
    """
    raw = text.strip()
    if not raw:
        return None
    cleaned = _MONEY_NOISE.sub("", raw)
    if not _NUMBER.fullmatch(cleaned):
        raise RowError(f"{column} {shown(raw)} is not an amount: write it like 19.00")
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):  # 1.234,56
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:  # 1,234.56
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        head, _, tail = cleaned.rpartition(",")
        # one comma not followed by exactly three digits is a decimal comma: 19,9 / 19,90
        cleaned = f"{head}.{tail}" if cleaned.count(",") == 1 and len(tail) != 3 else cleaned
        cleaned = cleaned.replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise RowError(f"{column} {shown(raw)} is not an amount: write it like 19.00") from None
    if value < 0:
        raise RowError(f"{column} {shown(raw)} is negative")
    if not is_amount(value):  # also inf and nan
        raise RowError(f"{column} {shown(raw)} is too large to be a price")
    return value


_DECIMALS = re.compile(r"[.,]\d{1,2}$")


@cell_parser
def parse_minor_amount(text: str, column: str, currency: str = "") -> float | None:
    """A price in the currency's minor unit (Chargebee's `plan_unit_price`: 99000 is 990.00),
    in major units; None when empty.

    A whole number is minor units ("99000", "1,200" -> 990.0, 12.0), unless the currency has
    none (JPY). A cell written with decimals ("990.00", "1,200.00") is already in major units:
    cents never have decimals.

    Raises:
        RowError: not an amount, or negative (see `parse_amount`).
    """
    value = parse_amount(text, column)
    if value is None:
        return None
    if _DECIMALS.search(_MONEY_NOISE.sub("", text.strip())):
        return value
    return value if currency.strip().upper() in ZERO_DECIMAL else round(value / 100, 2)


@cell_parser
def parse_number(text: str, column: str) -> float | None:
    """A plain finite number ("3", "4.5", "4,5"), or None when empty.

    Raises:
        RowError: not a number, or infinite, or not a number at all (`nan`).
    """
    raw = text.strip()
    if not raw:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise RowError(f"{column} {shown(raw)} is not a number") from None
    if not is_number(value):
        raise RowError(f"{column} {shown(raw)} is not a number I can store")
    return value


@cell_parser
def parse_count(text: str, column: str) -> int | None:
    """A whole number >= 1 (quantity, interval count), or None when empty.

    Raises:
        RowError: not a whole number, or below 1.
    """
    raw = text.strip()
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise RowError(f"{column} {shown(raw)} is not a whole number") from None
    if not is_count(number):  # also inf and nan
        raise RowError(f"{column} {shown(raw)} is not {COUNT_RULE}")
    return int(number)


@cell_parser
def parse_flag(text: str, column: str) -> bool:
    """A yes/no cell (true/false, yes/no, 1/0; empty is no).

    Raises:
        RowError: anything else.
    """
    key = text.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise RowError(f"{column} {shown(text)} is not true or false")


@cell_parser
def parse_status(text: str, column: str) -> str:
    """A subscription status in any source's spelling, as one of `bot.models.STATUSES`.

    Raises:
        RowError: empty or unknown; the message lists the statuses understood.
    """
    key = re.sub(r"[\s\-]+", "_", text.strip().lower())
    if not key:
        raise RowError(f"{column} is empty: every subscription needs a status")
    status = _STATUS_ALIASES.get(key, key)
    if status not in STATUSES:
        raise RowError(
            f"{column} {shown(text)} is not a status I know: use one of "
            f"{', '.join(STATUSES)} (or the source's own: Cancelled, Non Renewing, In Trial)"
        )
    return status


@cell_parser
def parse_interval(text: str, column: str) -> tuple[str, int] | None:
    """A billing interval word as (unit, multiplier): "quarterly" -> ("month", 3).

    Raises:
        RowError: not an interval.
    """
    key = text.strip().lower()
    if not key:
        return None
    interval = _INTERVALS.get(key)
    if interval is None:
        raise RowError(f"{column} {shown(text)} is not an interval: use day, week, month or year")
    return interval


@cell_parser
def parse_email(text: str, column: str) -> str:
    """An email address, lower-cased; empty stays empty.

    Raises:
        RowError: text that is not an address (no `@`).
    """
    email = text.strip().lower()
    if email and ("@" not in email or " " in email):
        raise RowError(f"{column} {shown(text)} is not an email address")
    return email
