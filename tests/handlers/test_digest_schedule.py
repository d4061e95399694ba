"""When the digest is posted: the schedule jobs, and the tick on a fixed clock in the team's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

from bot.clock import FixedClock
from bot.jobs import digest_tick
from tests.handlers.conftest import (
    DIGEST,
    TODAY,
    add_checkins,
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
