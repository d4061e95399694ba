"""A slash command is answered within Slack's 3 s even when storing its effect stalls."""

from __future__ import annotations

import time

import pytest

from handlers.in_time import FAILED, HOLDING, InTime

WITHIN = 0.3  # the holding answer's deadline in these tests (ANSWER_WITHIN, 2 s in the bot)


def recorded(acks: list[dict], responses: list[dict]) -> InTime:
    """An `InTime` whose ack and respond record what they are sent; deadline 50 ms."""
    return InTime(lambda **a: acks.append(a), lambda **a: responses.append(a), within=0.05)


def test_work_that_fails_after_the_holding_answer_says_so_and_the_error_goes_on() -> None:
    acks: list[dict] = []
    responses: list[dict] = []

    with pytest.raises(RuntimeError, match="disk gone"), recorded(acks, responses):
        deadline = time.monotonic() + 5
        while not acks and time.monotonic() < deadline:
            time.sleep(0.01)
        raise RuntimeError("disk gone")

    assert len(acks) == 1 and HOLDING in acks[0]["text"]
    assert len(responses) == 1 and FAILED in responses[0]["text"]
    assert responses[0]["response_type"] == "ephemeral"


def test_work_that_fails_in_time_leaves_the_answer_to_bolt() -> None:
    acks: list[dict] = []
    responses: list[dict] = []

    with pytest.raises(RuntimeError), recorded(acks, responses):
        raise RuntimeError("a bug")
    time.sleep(0.15)  # past the deadline: no holding answer for work that is over

    assert acks == [] and responses == []
