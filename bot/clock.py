"""An injectable clock: logic asks it for the time instead of calling `datetime.now()`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and previews: stands still until moved."""

    def __init__(self, at: datetime) -> None:
        self._at = at if at.tzinfo else at.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self._at = at if at.tzinfo else at.replace(tzinfo=UTC)


def local_today(clock: Clock, tz: ZoneInfo) -> date:
    """Today's date in the team's timezone."""
    return clock.now().astimezone(tz).date()


def local_day(at: datetime, tz: tzinfo) -> date:
    """`at`'s date in `tz`. A stored time at the calendar's ends (a hand edit's year 1 or
    9999) that has no date there counts as the first or last day: long before or after any
    window, never an error for the view or the score that reads it."""
    try:
        return at.astimezone(tz).date()
    except OverflowError:
        return date.min if at.year < 2 else date.max
