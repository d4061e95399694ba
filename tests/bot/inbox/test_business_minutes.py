"""Business minutes between two times: counted within business hours on business days, and
bounded however old the start (a hand edit's year 1 neither overflows nor scans 2,000 years)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.inbox.triage import MAX_SPAN, business_minutes
from config.rules import TriageRules

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 15, 17, 0, tzinfo=UTC)  # Monday 13:00 in New York
RULES = TriageRules()


def test_minutes_are_counted_in_business_hours_only() -> None:
    friday_4pm = datetime(2026, 6, 12, 20, 0, tzinfo=UTC)
    assert business_minutes(friday_4pm, NOW, RULES, TZ) == 60 + 4 * 60


def test_a_start_at_the_calendars_beginning_counts_the_last_years_only_and_quickly() -> None:
    began = time.perf_counter()
    for start in (datetime(1, 1, 1, tzinfo=UTC), datetime(2, 1, 1, tzinfo=UTC)):
        assert business_minutes(start, NOW, RULES, TZ) == business_minutes(
            NOW - MAX_SPAN, NOW, RULES, TZ
        )
    assert time.perf_counter() - began < 1.0
    assert business_minutes(NOW - timedelta(days=400), NOW, RULES, TZ) > 250 * 8 * 60
