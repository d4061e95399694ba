"""Numeric dates as spreadsheets save them (`31/10/2026`, `10/31/26 9:00 PM`, `31.10.2026`),
and which order, day or month first, a file uses.

A date whose first number is above 12 can only be day-first, one whose second is above 12 only
month-first: those are read whatever the file. `02/03/2026` could be either. The order for
those comes from `--date-order dmy|mdy`, else from what the other dates of the file prove
(`DateOrder.decide`); a file with such dates and no proof either way, or with proof both ways,
is refused with the option to pass, so no date is ever guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ORDERS = ("dmy", "mdy")
NUMERIC = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?"
)
# Cheap tests on the whole file, so files without such dates are not scanned twice. Each
# starts with a literal, which `re` finds fast; ISO dates (2026-10-31) match none of them.
_HINTS = (
    re.compile(r"/\d\d?/\d\d"),
    re.compile(r"\.\d\d?\.\d\d"),
    re.compile(r"-\d\d?-\d{4}(?!\d)"),
)


def may_hold_numeric_dates(text: str) -> bool:
    """False when no numeric date can be anywhere in the text (a fast test, not a proof)."""
    return any(hint.search(text) for hint in _HINTS)


class Ambiguous(ValueError):
    """A numeric date that means two different days, read without an order."""


def _match(text: str) -> re.Match[str] | None:
    match = NUMERIC.fullmatch(text)
    if match is None or (match["sep"] == "-" and len(match["y"]) == 2):
        return None  # 31-10-26 is too close to an ISO date read backwards to guess
    return match


def split(text: str) -> tuple[int, int] | None:
    """The first two numbers of a numeric date, or None when the text is not one."""
    match = _match(text)
    return (int(match["a"]), int(match["b"])) if match else None


def proves(text: str) -> str | None:
    """ "dmy" or "mdy" when the text can only be read one way, else None."""
    parts = split(text)
    if parts is None:
        return None
    a, b = parts
    if a > 12 >= b > 0:
        return "dmy"
    if b > 12 >= a > 0:
        return "mdy"
    return None


def ambiguous(text: str) -> bool:
    """Whether the text is a numeric date that means two different days."""
    parts = split(text)
    return parts is not None and parts[0] != parts[1] and min(parts) > 0 and max(parts) <= 12


def parse(text: str, order: str | None) -> datetime | None:
    """A numeric date (naive) in `order`, or None when it is not one or not a real date.

    Without an order only dates that can be read one way are read.

    Raises:
        Ambiguous: the date can be read both ways and no order is given.
    """
    match = _match(text)
    if match is None:
        return None
    a, b = int(match["a"]), int(match["b"])
    if not a or not b or min(a, b) > 12:
        return None  # no day-month order makes 31/13 or 00/05 a date
    order = proves(text) or order
    if order is None:
        if a != b:
            raise Ambiguous(text)
        order = "dmy"
    day, month = (a, b) if order == "dmy" else (b, a)
    year = int(match["y"])
    if len(match["y"]) == 2:  # Excel's two-digit years: 00-69 is 20xx, 70-99 is 19xx
        year += 2000 if year < 70 else 1900
    hour, minute, second = int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


@dataclass
class DateOrder:
    """The order a file's numeric dates are read in, and why.

    Attributes:
        order: "dmy", "mdy", or None when the file has no numeric dates.
        asked: whether `--date-order` chose it (else the file's own dates proved it).
        numeric: how many numeric dates the file's date columns hold.
        ambiguous: how many of those could be read either way.
        proof: a (line, text) that shows the order, when the file proved it.
    """

    order: str | None = None
    asked: bool = False
    numeric: int = 0
    ambiguous: int = 0
    proof: tuple[int, str] | None = None

    @classmethod
    def decide(cls, cells: Iterable[tuple[int, str]], asked: str | None) -> DateOrder:
        """Look at every (line, date cell) of a file and choose the order.

        Raises:
            UndecidedOrder: the file holds ambiguous dates and nothing decides their order.
        """
        found = cls(order=asked, asked=asked is not None)
        first: dict[str, tuple[int, str]] = {}
        example: tuple[int, str] | None = None
        for line, text in cells:
            if split(text) is None:
                continue
            found.numeric += 1
            way = proves(text)
            if way is not None:
                first.setdefault(way, (line, text))
            elif ambiguous(text):
                found.ambiguous += 1
                example = example or (line, text)
        if asked is not None or not found.numeric:
            return found
        if len(first) == 1:
            [(found.order, found.proof)] = first.items()
            return found
        if not first and not found.ambiguous:
            found.order = "dmy"  # only dates like 05/05/2026: both orders agree
            return found
        raise UndecidedOrder(found, example, first)


class UndecidedOrder(Exception):
    """A file whose numeric dates could be day-first or month-first; the message says what to
    pass."""

    def __init__(
        self,
        found: DateOrder,
        example: tuple[int, str] | None,
        proofs: dict[str, tuple[int, str]],
    ) -> None:
        self.found = found
        if proofs:  # both orders proven: the file mixes them
            (dl, dt), (ml, mt) = proofs["dmy"], proofs["mdy"]
            why = (
                f"it mixes day-first dates (line {dl}: {dt!r}) and month-first dates "
                f"(line {ml}: {mt!r})"
            )
        else:
            line, text = example or (0, "")
            why = (
                f"{found.ambiguous:,} of its {found.numeric:,} dates can be read day-first or "
                f"month-first (line {line}: {text!r}) and none of them shows which"
            )
        super().__init__(
            f"{why}. Import it again with --date-order dmy (day first: 02/03/2026 is 2 March) "
            "or --date-order mdy (month first: 02/03/2026 is February 3)."
        )


def describe(found: DateOrder) -> str:
    """One sentence for the import summary about how numeric dates were read, or ""."""
    if not found.numeric or found.order is None:
        return ""
    way = (
        "day first (31/10/2026 is 31 October)"
        if found.order == "dmy"
        else ("month first (10/31/2026 is October 31)")
    )
    if found.asked:
        why = "as --date-order asked"
    elif found.proof is not None:
        why = f"as line {found.proof[0]} shows ({found.proof[1]!r})"
    else:
        why = "either order gives the same days"
    dates = f"{found.numeric:,} date{'s' if found.numeric != 1 else ''}"
    return f"{dates} written like 31/10/2026 read {way}, {why}."
