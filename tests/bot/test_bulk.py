"""Bulk passes: a background pass rests so the threads answering Slack get the interpreter."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import bulk


class Ticks:
    """A clock that moves `step` seconds each time it is read, and the rests it was given."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.rests = 0.0, step, []  # type: list[float]

    def clock(self) -> float:
        self.now += self.step
        return self.now

    def sleep(self, seconds: float) -> None:
        self.rests.append(seconds)


@pytest.fixture
def ticks(monkeypatch) -> Ticks:  # noqa: ANN001
    t = Ticks(0.001)
    monkeypatch.setattr(bulk, "_clock", t.clock)
    monkeypatch.setattr(bulk, "_sleep", t.sleep)
    monkeypatch.setattr(bulk, "_threads", lambda: 8)
    return t


@given(items=st.lists(st.integers() | st.text(max_size=3)), step=st.sampled_from([0, 1e-4, 0.01]))
def test_every_item_comes_through_in_order_whatever_the_rests(items, step) -> None:  # noqa: ANN001
    t = Ticks(step)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "_clock", t.clock)
        patch.setattr(bulk, "_sleep", t.sleep)
        patch.setattr(bulk, "_threads", lambda: 3)
        assert list(bulk.yielding(items)) == items
    if step == 0:
        assert t.rests == []


def test_a_pass_rests_once_each_time_it_has_run_longer_than_its_share(ticks: Ticks) -> None:
    # Each step of the pass reads the clock once (1 ms); a rest reads it once more.
    out = list(bulk.yielding(range(10), run_for=0.0025, rest_for=0.0005))
    assert out == list(range(10))
    assert ticks.rests == [0.0005] * 3  # after items 2, 5 and 8: 3 ms since the last rest


def test_a_process_with_one_thread_never_rests(ticks: Ticks, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(bulk, "_threads", lambda: 1)
    assert list(bulk.yielding(itertools.islice(itertools.count(), 50))) == list(range(50))
    assert ticks.rests == []


def test_a_pass_pauses_instead_of_resting_while_a_request_is_in_flight(ticks: Ticks) -> None:
    """At each rest, `pause` is asked first: when it waited (a request was in flight) the pass
    goes on at once; when nothing was in flight it rests as before."""
    asked: list[int] = []
    in_flight = iter([True, False, True])

    def pause() -> bool:
        asked.append(len(asked))
        return next(in_flight)

    out = list(bulk.yielding(range(10), run_for=0.0025, rest_for=0.0005, pause=pause))
    assert out == list(range(10))
    assert len(asked) == 3  # after items 2, 5 and 8, as the rests
    assert ticks.rests == [0.0005]  # only where nothing was in flight


def test_a_process_with_one_thread_never_pauses(ticks: Ticks, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(bulk, "_threads", lambda: 1)
    asked: list[bool] = []
    assert list(bulk.yielding(range(50), pause=lambda: asked.append(True) or True)) == list(
        range(50)
    )
    assert asked == []
