"""The health checks on their own: digest schedule across days, connectors, heartbeat, store."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FixedClock
from bot.health import (
    Heartbeat,
    check_connectors,
    check_digest,
    check_store,
    digest_due_at,
    report,
)
from bot.inbox.models import ConnectorStatus
from bot.repos.digests import POSTED, POSTING, DigestRecord
from bot.store import Store
from config.rules import DigestRules

NY = ZoneInfo("America/New_York")
RULES = DigestRules(time=time(9, 0), weekdays=("mon", "tue", "wed", "thu", "fri"))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY).astimezone(UTC)


def record(day: date, status: str = POSTED) -> DigestRecord:
    return DigestRecord(date=day, channel="C1", created_at=at(day, 9), status=status)


MONDAY, SATURDAY = date(2026, 6, 15), date(2026, 6, 20)


def test_due_at_is_the_local_digest_time_on_digest_days_only():
    assert digest_due_at(at(MONDAY, 23, 30), NY, RULES) == datetime(2026, 6, 15, 9, tzinfo=NY)
    assert digest_due_at(at(SATURDAY, 10), NY, RULES) is None
    # 01:00 UTC on Tuesday is still Monday evening in New York
    assert digest_due_at(datetime(2026, 6, 16, 1, tzinfo=UTC), NY, RULES).date() == MONDAY


@pytest.mark.parametrize(
    ("now", "today", "ok", "detail"),
    [
        (at(MONDAY, 8), None, True, "today's digest is not due yet"),
        (at(MONDAY, 9, 10), None, True, "today's digest is due and not posted"),
        (at(MONDAY, 9, 10), POSTING, True, "today's digest is due and still posting"),
        (at(MONDAY, 9, 31), None, False, "today's digest is not posted, 31 min after"),
        (at(MONDAY, 11), POSTING, False, "today's digest is still posting, 120 min after"),
        (at(MONDAY, 11), POSTED, True, "today's digest is posted"),
        (at(SATURDAY, 11), None, True, "no digest today"),
    ],
)
def test_digest_check_over_the_day(now, today, ok, detail):
    day = now.astimezone(NY).date()
    todays = record(day, today) if today else None
    yesterday = record(day - timedelta(days=1))
    last_posted = todays if today == POSTED else yesterday

    check = check_digest(todays, last_posted, digest_due_at(now, NY, RULES), now)

    assert (check.ok, check.detail) == (ok, detail)
    assert check.figures["last_posted"] == last_posted.date.isoformat()
    assert check.figures["today"] == today


def test_heartbeat_goes_stale_after_two_minutes_without_a_tick():
    clock = FixedClock(at(MONDAY, 10))
    beat = Heartbeat(clock)
    assert not beat.check().ok  # never started

    beat.beat()
    clock.advance(seconds=119)
    assert beat.check().ok
    clock.advance(seconds=2)
    assert beat.check().detail == "stalled: no tick for 121 s"


def test_connector_down_when_stopped_or_failing_three_polls_running():
    fine = ConnectorStatus(key="care@imap", state="connected", connected=True)
    retrying = ConnectorStatus(key="care@imap", state="retrying", consecutive_failures=2)
    failing = ConnectorStatus(
        key="care@imap", state="retrying", consecutive_failures=3, last_error="timed out"
    )
    stopped = ConnectorStatus(key="care@imap", state="stopped", last_error="LOGIN failed")

    assert check_connectors([], enabled=False).ok
    assert check_connectors([], enabled=True).detail == "connector starting"
    assert check_connectors([fine], True).ok and check_connectors([retrying], True).ok
    assert check_connectors([failing], True).detail == "care@imap retrying: timed out"
    assert check_connectors([stopped], True).detail == "care@imap stopped: LOGIN failed"


def test_store_probe_writes_and_leaves_nothing(tmp_path):
    store = Store(tmp_path / "data", shards=2)
    try:
        before = sorted(p.name for p in (tmp_path / "data").iterdir())
        assert check_store(store).ok
        assert sorted(p.name for p in (tmp_path / "data").iterdir()) == before
        assert check_store(Store.memory()).detail == "in memory"
    finally:
        store.close()


def test_store_probe_fails_when_the_directory_is_gone(tmp_path):
    store = Store(tmp_path / "data", shards=2)
    try:
        (tmp_path / "data").rename(tmp_path / "moved")
        (tmp_path / "data").write_text("not a directory")

        check = check_store(store)

        assert not check.ok and check.detail.startswith("cannot write to")
    finally:
        store.close()


def test_report_names_each_problem():
    clock = FixedClock(at(MONDAY, 10))
    stalled = Heartbeat(clock)
    stalled.beat()
    clock.advance(minutes=5)

    ok, body = report([stalled.check(), check_connectors([], False)])

    assert not ok
    assert body["problems"] == ["scheduler: stalled: no tick for 300 s"]
    assert body["checks"]["inbox"] == {"ok": True, "detail": "no IMAP connector"}
