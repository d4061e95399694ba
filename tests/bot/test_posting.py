"""The pacer every post goes through: Slack's one message a second per channel."""

from __future__ import annotations

import threading

from bot.posting import Pacer


def test_a_channel_waiting_its_turn_never_holds_up_another_channel() -> None:
    # The digest's channel waits a second between posts; a triage post to another channel,
    # through the same pacer meanwhile, goes at once.
    in_wait, release = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:
        in_wait.set()
        release.wait(5)

    pacer = Pacer(interval=1.0, sleep=sleep, monotonic=lambda: 50.0)
    pacer.wait("C0DIGEST")
    digest = threading.Thread(target=pacer.wait, args=("C0DIGEST",))
    digest.start()
    assert in_wait.wait(5)
    other = threading.Thread(target=pacer.wait, args=("C0TRIAGE",))
    other.start()
    other.join(2)
    went_at_once = not other.is_alive()
    release.set()
    digest.join(5)

    assert went_at_once


def test_each_post_to_a_channel_takes_the_next_turn() -> None:
    now, waits = [10.0], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacer = Pacer(interval=1.0, sleep=sleep, monotonic=lambda: now[0])
    for _ in range(3):
        pacer.wait("C1")
    now[0] += 5  # a quiet spell: the next post goes at once
    pacer.wait("C1")
    pacer.wait("C2")

    assert waits == [1.0, 1.0]
