"""The activity tracker (`bot.activity`): lulls on the injected clock, pauses in real threads,
every pause bounded."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.activity import Activity
from bot.clock import FixedClock

NOW = datetime(2026, 6, 15, 13, 30, tzinfo=UTC)
MINUTE = timedelta(seconds=60)


def test_a_lull_is_a_quiet_length_of_the_clocks_time_since_the_last_request() -> None:
    clock = FixedClock(NOW)
    activity = Activity(clock)
    assert activity.lull(MINUTE)  # no request since the start
    with activity.serving():
        clock.advance(minutes=5)
        assert activity.in_flight == 1 and not activity.lull(MINUTE)  # one in flight
    assert activity.in_flight == 0 and not activity.lull(MINUTE)  # it just ended
    clock.advance(seconds=59)
    assert not activity.lull(MINUTE)
    clock.advance(seconds=1)
    assert activity.lull(MINUTE)


def test_a_request_that_fails_still_ends() -> None:
    activity = Activity(FixedClock(NOW))
    with pytest.raises(RuntimeError), activity.serving():
        raise RuntimeError("the handler failed")
    assert activity.in_flight == 0


@given(steps=st.lists(st.tuples(st.booleans(), st.integers(0, 120)), max_size=30))
def test_a_lull_needs_nothing_in_flight_and_the_length_since_the_last_change(steps) -> None:  # noqa: ANN001
    """Requests begin or end (True: begin) with `seconds` between: the lull is what a log of
    the same steps says."""
    clock = FixedClock(NOW)
    activity = Activity(clock)
    open_: list[int] = []
    last: datetime | None = None
    for begin, seconds in steps:
        clock.advance(seconds=seconds)
        if begin or not open_:
            open_.append(activity.begin())
        else:
            activity.end(open_.pop(0))
        last = clock.now()
        quiet = not open_ and clock.now() - last >= MINUTE
        assert activity.lull(MINUTE) is quiet
        clock.advance(seconds=seconds)
        expected = not open_ and clock.now() - last >= MINUTE
        assert activity.lull(MINUTE) is expected


def test_a_pause_waits_while_a_request_is_in_flight_and_not_otherwise() -> None:
    activity = Activity(FixedClock(NOW), patience=30)
    assert activity.pause() is False  # nothing in flight: no wait
    number = activity.begin()
    waited: list[bool] = []
    pauser = threading.Thread(target=lambda: waited.append(activity.pause()))
    pauser.start()
    pauser.join(0.3)
    assert pauser.is_alive() and not waited  # held while the request is in flight
    activity.end(number)
    pauser.join(10)
    assert waited == [True]


def test_a_pause_is_bounded_even_when_a_request_never_ends() -> None:
    activity = Activity(FixedClock(NOW), patience=0.05)
    activity.begin()  # never ended
    start = time.monotonic()
    assert activity.pause() is True
    assert time.monotonic() - start < 5
    time.sleep(0.06)
    assert activity.pause() is False  # held longer than the patience: it holds nothing


def test_a_stream_of_requests_cannot_hold_one_pause_longer_than_the_patience() -> None:
    activity = Activity(FixedClock(NOW), patience=0.2)
    stop = threading.Event()

    def stream() -> None:  # overlapping requests, never none in flight
        previous = activity.begin()
        while not stop.is_set():
            number = activity.begin()
            activity.end(previous)
            previous = number
            time.sleep(0.01)
        activity.end(previous)

    feeder = threading.Thread(target=stream)
    feeder.start()
    try:
        start = time.monotonic()
        assert activity.pause() is True
        assert time.monotonic() - start < 5
    finally:
        stop.set()
        feeder.join(10)
