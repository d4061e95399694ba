"""A slash command is answered within Slack's 3 s even when storing its effect stalls.

The slack bench's flake: a `/care claim` waited over 3 s for the store journal's fdatasync
behind another process's writeback, Bolt gave up on the listener and answered 404. Here the
disk's stall is made on purpose (the journal's `os.fdatasync` waits for the test), as is the
other way a claim waits (other work holding the store's lock), and the command is sent signed
to the bot's real endpoint from a real thread.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from handlers import in_time
from handlers.in_time import FAILED, HOLDING, Deadlines, InTime
from tests.handlers.conftest import CareBot, add_checkins, entry_message, message_text, post_digest

WITHIN = 0.3  # the holding answer's deadline in these tests (ANSWER_WITHIN, 2 s in the bot)


@contextmanager
def stalled_disk(
    monkeypatch: pytest.MonkeyPatch, error: OSError | None = None
) -> Iterator[threading.Event]:
    """Every fdatasync (the journal's commit) waits until the yielded event is set; then
    raises `error` instead, when one is given (a disk that fails after stalling)."""
    release, real = threading.Event(), os.fdatasync

    def fdatasync(fd: int) -> None:
        release.wait(20)
        if error is not None:
            raise error
        real(fd)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    try:
        yield release
    finally:
        release.set()


@contextmanager
def store_held(bot: CareBot) -> Iterator[threading.Event]:
    """Another thread holds the store's lock (a long write) until the yielded event is set."""
    release, held = threading.Event(), threading.Event()

    def hold() -> None:
        with bot.repos.store.lock:
            held.set()
            release.wait(20)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    held.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join(10)


def a_digest_task(bot: CareBot) -> str:
    add_checkins(bot.repos, 1)
    post_digest(bot)
    return bot.repos.tasks.for_subscriber("cus_000")[0].id


def send(bot: CareBot, text: str, url: str) -> Callable[[], tuple[int, str] | None]:
    """Send `/care TEXT` as U2 from a thread; returns a poll for its (status, body)."""
    answers: list[tuple[int, str]] = []
    sender = threading.Thread(
        target=lambda: answers.append(
            bot.sender.command(text, user_id="U2", channel_id="C1", response_url=url)[::2]
        ),
        daemon=True,
    )
    sender.start()
    return lambda: answers[0] if answers else None


@pytest.mark.parametrize("slow", ["the journal's fdatasync stalls", "other work holds the store"])
def test_a_claim_whose_write_is_slow_is_answered_in_time_and_its_answer_follows(
    bots, monkeypatch, slow
):
    bot = bots()
    task_id = a_digest_task(bot)
    monkeypatch.setattr(in_time, "ANSWER_WITHIN", WITHIN)
    url = bot.fake.new_response_url("C1", "U2")
    with (
        stalled_disk(monkeypatch) if slow.startswith("the journal") else store_held(bot)
    ) as release:
        answered = send(bot, f"claim {task_id}", url)
        status, body = bot.fake.wait_for(answered, timeout=5)  # Slack waits 3 s at most

        assert status == 200 and HOLDING in body  # while the write is still held up
        assert bot.fake.responses(url) == []
        release.set()
        late = bot.fake.wait_for(lambda: bot.fake.responses(url))
    assert len(late) == 1 and "You claimed" in late[0]["text"]
    assert late[0]["response_type"] == "ephemeral"
    assert bot.repos.tasks.require(task_id).claimed_by == "U2"
    assert bot.fake.wait_for(
        lambda: "Claimed by <@U2>" in message_text(entry_message(bot, task_id))
    )


def test_a_command_answered_in_time_posts_nothing_to_its_response_url(bots, monkeypatch):
    bot = bots()
    task_id = a_digest_task(bot)
    monkeypatch.setattr(in_time, "ANSWER_WITHIN", 1.0)  # a loaded CI machine claims within it
    url = bot.fake.new_response_url("C1", "U2")

    status, _, body = bot.sender.command(f"claim {task_id}", user_id="U2", response_url=url)

    assert status == 200 and "You claimed" in body and HOLDING not in body
    time.sleep(1.3)  # past the deadline: nothing may follow an answer already given
    assert bot.fake.responses(url) == []


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


def test_deadlines_fire_in_time_order_and_never_once_cancelled() -> None:
    deadlines, fired, done = Deadlines(), [], threading.Event()
    now = time.monotonic()
    deadlines.call_at(now + 0.3, lambda: (fired.append("late"), done.set()))
    deadlines.call_at(now + 0.1, lambda: fired.append("early"))  # nearer: wakes the thread
    cancel = deadlines.call_at(now + 0.2, lambda: fired.append("cancelled"))
    deadlines.call_at(now + 0.05, lambda: 1 / 0)  # a failing callback stops nothing
    cancel()

    assert done.wait(5)
    assert fired == ["early", "late"]
