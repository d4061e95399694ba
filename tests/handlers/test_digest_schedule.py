"""When the digest is posted: the schedule jobs, and the tick on a fixed clock in the team's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.jobs import digest_tick
from bot.repos import tasks as tasks_module
from bot.store import Store
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    TODAY,
    add_checkins,
    add_subscriber,
    join_digest_jobs,
    posted_record,
    wait_posted,
)

# 2026-06-15 is a Monday; New York is UTC-4 in June.
MONDAY_0859 = datetime(2026, 6, 15, 12, 59, tzinfo=UTC)
MONDAY_0900 = datetime(2026, 6, 15, 13, 0, tzinfo=UTC)
MONDAY_1100 = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
SATURDAY_1000 = datetime(2026, 6, 20, 14, 0, tzinfo=UTC)
MONDAY_2300_NY = datetime(2026, 6, 16, 3, 0, tzinfo=UTC)  # already Tuesday in UTC


def _posts(bot) -> int:  # noqa: ANN001
    return len(bot.fake.calls("chat.postMessage"))


def test_jobs_run_on_the_default_weekdays_at_nine_new_york_time(care_bot):
    jobs = care_bot.runtime.scheduler.get_jobs("digest")

    assert sorted(j.start_day for j in jobs) == sorted(
        ["monday", "tuesday", "wednesday", "thursday", "friday"]
    )
    assert {j.at_time for j in jobs} == {time(9, 0)}
    assert {str(j.at_time_zone) for j in jobs} == {"America/New_York"}
    catch_up = care_bot.runtime.scheduler.get_jobs("digest-catch-up")
    assert [(j.interval, j.unit) for j in catch_up] == [(5, "minutes")]


def test_jobs_follow_the_configured_time_weekdays_and_zone(bots, tmp_path: Path):
    config = tmp_path / "care.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\n[digest]\ntime = "07:30"\nweekdays = ["tue", "sat"]\n',
        encoding="utf-8",
    )
    bot = bots(CARE_CONFIG=str(config))

    jobs = bot.runtime.scheduler.get_jobs("digest")

    assert sorted(j.start_day for j in jobs) == ["saturday", "tuesday"]
    assert {j.at_time for j in jobs} == {time(7, 30)}
    assert {str(j.at_time_zone) for j in jobs} == {"Europe/Berlin"}


def test_tick_before_nine_posts_nothing_and_at_nine_posts_the_digest(bots):
    bot = bots(clock=FixedClock(MONDAY_0859))
    add_checkins(bot.repos, 3)

    digest_tick(bot.publisher)
    assert _posts(bot) == 0
    assert bot.repos.digests.get(TODAY) is None

    bot.clock.set(MONDAY_0900)
    digest_tick(bot.publisher)
    assert posted_record(bot) is not None
    assert _posts(bot) == 2  # the parent and one reply of three entries

    bot.clock.set(MONDAY_1100)
    digest_tick(bot.publisher)  # later turns that day change nothing
    assert _posts(bot) == 2


def test_no_digest_on_a_saturday(bots):
    bot = bots(clock=FixedClock(SATURDAY_1000))
    add_checkins(bot.repos, 3)

    digest_tick(bot.publisher)

    assert _posts(bot) == 0
    assert bot.repos.digests.recent() == []


def test_late_monday_evening_in_new_york_is_still_monday(bots):
    bot = bots(clock=FixedClock(MONDAY_1100))
    add_checkins(bot.repos, 2)
    digest_tick(bot.publisher)
    posts = _posts(bot)

    bot.clock.set(MONDAY_2300_NY)
    digest_tick(bot.publisher)

    assert _posts(bot) == posts
    assert [r.date for r in bot.repos.digests.recent()] == [TODAY]


def test_bot_started_after_nine_posts_the_missed_digest_once(bots):
    bot = bots(clock=FixedClock(MONDAY_1100))
    add_checkins(bot.repos, 3)

    bot.runtime.scheduler.run_all()  # run_bot runs every job once at start
    wait_posted(bot)
    join_digest_jobs(bot)
    bot.runtime.scheduler.run_all()  # and the 5-minute catch-up keeps running
    join_digest_jobs(bot)

    assert _posts(bot) == 2
    assert len(bot.fake.messages(DIGEST)) == 1


def test_restart_after_nine_without_a_digest_posts_it_once(bots):
    early = bots(clock=FixedClock(MONDAY_0859))
    add_checkins(early.repos, 3)
    early.runtime.scheduler.run_all()
    join_digest_jobs(early)
    assert _posts(early) == 0
    early.stop()

    late = bots(clock=FixedClock(MONDAY_1100), data_dir=early.data_dir)
    late.runtime.scheduler.run_all()
    wait_posted(late)
    join_digest_jobs(late)
    late.runtime.scheduler.run_all()
    join_digest_jobs(late)

    assert _posts(late) == 2


@pytest.fixture
def low_spread_bounds(monkeypatch):
    """Tasks are spread past 2 a shard on average (to 1), a write spreads them only past 100."""
    monkeypatch.setattr(tasks_module, "SPREAD_ABOVE", 2)
    monkeypatch.setattr(tasks_module, "SPREAD_TO", 1)
    monkeypatch.setattr(tasks_module, "SPREAD_FAR", 100)


def test_the_daily_job_spreads_grown_task_shards_before_the_engine_runs(
    bots, tmp_path, low_spread_bounds
):
    data = tmp_path / "data"
    Store(data, shards=2).close()  # a directory of two task shards
    bot = bots(clock=FixedClock(MONDAY_0900), data_dir=data)
    add_checkins(bot.repos, 5)
    digest_tick(bot.publisher)  # the engine writes 5 tasks: 2.5 a shard, the write leaves them
    assert posted_record(bot) is not None
    assert (bot.repos.tasks.count(), bot.repos.store.shard_count("tasks")) == (5, 2)

    tuesday = MONDAY_0900 + timedelta(days=1)
    for i in range(4):  # due Tuesday: the engine adds 4 tasks after the spread
        add_subscriber(bot.repos, f"tue_{i}", f"T {i}", f"t{i}@example.com", DAY_30 + timedelta(1))
    bot.clock.set(tuesday)
    digest_tick(bot.publisher)

    record = posted_record(bot, TODAY + timedelta(days=1))
    assert record is not None
    assert bot.repos.tasks.count() == 9
    assert bot.repos.store.shard_count("tasks") == 8  # 5 tasks spread (after the engine: 16)
    assert {f"8-{n:05d}.json" for n in range(8)} >= {p.name for p in (data / "tasks").iterdir()}
    bot.stop()

    again = bots(clock=FixedClock(tuesday), data_dir=data)  # a restart finds every task once
    assert again.repos.store.shard_count("tasks") == 8
    ids = [t.id for t in again.repos.tasks.all()]
    assert len(ids) == len(set(ids)) == 9
