"""The headline yields to people (`bot.metrics.headline.HeadlineKeeper` with `bot.activity`):
it starts after a lull in Slack requests, or anyway once deferred its bound; while it runs its
passes stop whenever a request is in flight; its figures stay the full report's."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from bot import bulk
from bot.activity import Activity
from bot.clock import FixedClock
from bot.metrics.headline import DEFER_AT_MOST, LULL, HeadlineKeeper, compute_headline
from bot.metrics.report import build_report
from bot.repos import Repos
from bot.repos.reports import HeadlineRepo
from bot.store import Store
from config import Settings
from tests.bot.metrics.test_headline import NOW, TODAY, fill

PEOPLE = [(n * 7, None if n % 3 else 20, "") for n in range(12)]


def a_request(activity: Activity) -> None:
    with activity.serving():
        pass


@pytest.fixture
def kept(repos: Repos, settings: Settings) -> tuple[HeadlineKeeper, Activity, FixedClock]:
    fill(repos, PEOPLE, [(1, "nps", 5, 9, "")], [], [])
    clock = FixedClock(NOW)  # Monday 14:00 in New York: the digest time has passed
    activity = Activity(clock)
    return HeadlineKeeper(repos, settings, clock, lambda: True, activity), activity, clock


def test_the_headline_does_not_start_while_requests_come_and_starts_after_a_lull(kept) -> None:  # noqa: ANN001
    keeper, activity, clock = kept
    for _ in range(20):  # a request every 30 s for 10 minutes, a turn after each
        a_request(activity)
        clock.advance(seconds=30)
        assert keeper.due() and keeper.tick() is False
    assert keeper.current() is None and keeper.deferred_since == NOW + timedelta(seconds=30)
    clock.advance(seconds=LULL.total_seconds() - 30)  # a minute since the last request
    assert keeper.tick() is True
    assert keeper.current() is not None and keeper.deferred_since is None
    assert keeper.tick() is False  # once a day


def test_a_request_in_flight_at_the_turn_is_no_lull_however_long_it_began_ago(kept) -> None:  # noqa: ANN001
    keeper, activity, clock = kept
    number = activity.begin()
    clock.advance(minutes=10)
    assert keeper.tick() is False
    activity.end(number)
    clock.advance(seconds=LULL.total_seconds())
    assert keeper.tick() is True


def test_a_headline_deferred_past_its_bound_is_computed_anyway(kept) -> None:  # noqa: ANN001
    keeper, activity, clock = kept
    turns = 0
    while keeper.current() is None:  # the team never rests a minute: a request each turn
        a_request(activity)
        keeper.tick()
        turns += 1
        clock.advance(minutes=1)
        assert turns <= DEFER_AT_MOST / timedelta(minutes=1) + 1
    assert turns == DEFER_AT_MOST / timedelta(minutes=1) + 1  # deferred the whole bound
    assert keeper.deferred_since is None


def test_the_next_days_deferral_counts_from_its_own_first_turn(kept) -> None:  # noqa: ANN001
    """A bound is counted from the first turn that deferred that day's computation, not from
    a deferral of the day before."""
    keeper, activity, clock = kept
    a_request(activity)
    assert keeper.tick() is False
    clock.advance(seconds=LULL.total_seconds())
    assert keeper.tick() is True
    clock.advance(days=1)  # Tuesday 14:00: due again
    a_request(activity)
    assert keeper.tick() is False and keeper.deferred_since == clock.now()
    clock.advance(minutes=30)
    a_request(activity)
    assert keeper.tick() is False  # 30 minutes deferred: not yet the bound
    assert keeper.current() is not None and keeper.current().as_of == TODAY


@pytest.fixture
def ticking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each step of a pass reads 1 ms on the passes' clock: every step is a rest point."""
    moments = iter(range(10**7))
    monkeypatch.setattr(bulk, "_clock", lambda: next(moments) * 0.001)
    monkeypatch.setattr(bulk, "_sleep", lambda _seconds: None)
    monkeypatch.setattr(bulk, "_threads", lambda: 4)


@pytest.mark.parametrize("pass_name", ["headline", "report"])
@pytest.mark.parametrize("people", [PEOPLE, []], ids=["customers", "events-only"])
def test_a_pass_stops_while_a_request_is_in_flight_and_finishes_once_it_is_answered(
    ticking,  # noqa: ANN001
    settings: Settings,
    pass_name: str,
    people: list,
) -> None:
    """Over customers, or over events alone (no customer stored: only the events' pass)."""
    with Store.memory() as store:
        repos = Repos.open(store)
        fill(repos, people, [(n, "nps", 5, 9, "") for n in range(12)], [], [])
        expected = build_report(repos, settings, TODAY, 30, NOW).figures()
        activity = Activity(FixedClock(NOW), patience=60)
        asked = threading.Event()

        def pause() -> bool:
            asked.set()
            return activity.pause()

        out: list[dict] = []

        def compute() -> None:
            if pass_name == "headline":
                out.append(compute_headline(repos, settings, NOW, pause).figures)
            else:
                out.append(build_report(repos, settings, TODAY, 30, NOW, pause).figures())

        number = activity.begin()  # a claim is being answered
        worker = threading.Thread(target=compute)
        worker.start()
        assert asked.wait(10)
        worker.join(0.3)
        assert worker.is_alive() and not out  # stopped at its first rest point
        activity.end(number)
        worker.join(30)
        assert not worker.is_alive()
    assert out == [expected]


def test_a_pass_finishes_beside_a_request_that_is_never_answered(ticking, settings) -> None:  # noqa: ANN001
    with Store.memory() as store:
        repos = Repos.open(store)
        fill(repos, PEOPLE, [(1, "nps", 5, 9, "")], [], [])
        activity = Activity(FixedClock(NOW), patience=0.05)
        activity.begin()  # stuck
        headline = compute_headline(repos, settings, NOW, activity.pause)
        assert headline.figures == build_report(repos, settings, TODAY, 30, NOW).figures()


def a_bot_life(data_dir, settings: Settings, clock: FixedClock, minutes: int) -> bool:  # noqa: ANN001
    """A bot on `data_dir` for `minutes`, a Slack request and a turn every minute: whether
    it computed the headline."""
    with Store(data_dir, shards=8) as store:
        activity = Activity(clock)
        keeper = HeadlineKeeper(Repos.open(store), settings, clock, lambda: True, activity)
        for _ in range(minutes):
            a_request(activity)
            if keeper.tick():
                return True
            clock.advance(minutes=1)
    return False


def test_a_bot_restarted_every_50_minutes_still_computes_its_headline(tmp_path, settings) -> None:  # noqa: ANN001
    """When the wait began is kept with the headline: a crash loop does not start it again."""
    data_dir = tmp_path / "data"
    with Store(data_dir, shards=8) as store:
        fill(Repos.open(store), PEOPLE, [(1, "nps", 5, 9, "")], [], [])
    clock = FixedClock(NOW)
    lives = 1
    while not a_bot_life(data_dir, settings, clock, 50):
        lives += 1
        assert lives <= 3
    assert (lives, clock.now() - NOW) == (2, DEFER_AT_MOST)
    with Store(data_dir, shards=8) as store:
        keeper = HeadlineKeeper(Repos.open(store), settings, clock, lambda: True)
        assert keeper.current() is not None and keeper.deferred_since is None


@pytest.mark.parametrize(
    ("kept", "starts"),
    [
        ("2026-06-15T19:00:00+00:00", "now"),  # ahead of the clock (set back): from now
        ("yesterday", "now"),  # unreadable: as if never deferred
        ("2026-06-15T17:30:00", "now"),  # no timezone: unreadable
        ("2026-06-15T17:30:00+00:00", "kept"),
    ],
)
def test_a_kept_deferral_is_trusted_only_when_readable_and_not_ahead(
    kept: str,
    starts: str,
    tmp_path,  # noqa: ANN001
    settings: Settings,
) -> None:
    with Store(tmp_path / "data", shards=8) as store:
        repos = Repos.open(store)
        fill(repos, PEOPLE, [], [], [])
        HeadlineRepo(store).save({"deferred_since": kept})
        clock = FixedClock(NOW)  # 18:00 UTC
        activity = Activity(clock)
        keeper = HeadlineKeeper(repos, settings, clock, lambda: True, activity)
        a_request(activity)

        assert keeper.tick() is False and keeper.current() is None
        expected = NOW if starts == "now" else datetime.fromisoformat(kept)
        assert keeper.deferred_since == expected
