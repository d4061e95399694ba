"""A Log outreach submission is answered within Slack's 3 s even when storing the log stalls.

The modal used to store the log before its ack: with the journal's fdatasync held up behind
another process's writeback (1.6-3 s seen), Slack gave up on the submission and showed an
error in the modal although the log went on to be saved, and a second Submit logged it twice.
Here the disk's stall is made on purpose (as in test_in_time.py) and the submission is sent
signed to the bot's real endpoint from a real thread; the late outcome arrives at the fake
Slack as an ephemeral message in the digest channel the modal was opened from.
"""

from __future__ import annotations

import errno
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.blocks import ids
from bot.models import TASK_DONE, TASK_OPEN
from handlers import in_time
from tests.handlers.conftest import DIGEST, CareBot, message_text, tasks_of
from tests.handlers.test_in_time import WITHIN, a_digest_task, stalled_disk, store_held
from tests.handlers.test_log import _open_modal, _thread_texts, _values

SLACK_WAITS = 3.0
NOTE = "Offered a pause <b>& a 10% discount</b>\nCall back after the 5th"


def submit(bot: CareBot, modal: dict[str, Any], values: dict) -> Callable[[], Any]:
    """Submit `modal` as U2 from a thread; returns a poll for (status, body, seconds taken)."""
    answers: list[tuple[int, str, float]] = []

    def send() -> None:
        start = time.monotonic()
        status, _, body = bot.sender.submit(ids.VIEW_LOG_OUTREACH, values, view=modal, user_id="U2")
        answers.append((status, body, time.monotonic() - start))

    threading.Thread(target=send, daemon=True).start()
    return lambda: answers[0] if answers else None


def notes(bot: CareBot) -> list[str]:
    return [message_text(e) for e in bot.fake.ephemerals("U2")]


@pytest.fixture
def logging_bot(bots, monkeypatch) -> tuple[CareBot, str, dict[str, Any]]:
    """A bot with one digest task and U2's Log outreach modal open on it."""
    bot = bots()
    task_id = a_digest_task(bot)
    modal = _open_modal(bot, task_id, user="U2")
    monkeypatch.setattr(in_time, "ANSWER_WITHIN", WITHIN)
    return bot, task_id, modal


@pytest.mark.parametrize("slow", ["the journal's fdatasync stalls", "other work holds the store"])
def test_a_log_whose_write_stalls_closes_the_modal_in_time_and_says_it_was_logged(
    logging_bot, monkeypatch, slow
):
    bot, task_id, modal = logging_bot
    with (
        stalled_disk(monkeypatch) if slow.startswith("the journal") else store_held(bot)
    ) as release:
        answered = submit(bot, modal, _values("call", "saved", note=NOTE))
        status, body, took = bot.fake.wait_for(answered, timeout=5)

        assert (status, body) == (200, "") and took < SLACK_WAITS  # the modal closes
        assert notes(bot) == []  # nothing to say while the log is not stored
        release.set()
        [note] = bot.fake.wait_for(lambda: notes(bot))
    assert "Logged call: *Saved: staying*" in note and task_id in note
    assert bot.fake.ephemerals("U2")[0]["channel"] == DIGEST  # where the modal was opened
    assert bot.repos.tasks.require(task_id).status == TASK_DONE
    [outreach] = bot.repos.outreach.for_subscriber("cus_000")
    assert (outreach.by, outreach.outcome, outreach.note) == ("U2", "saved", NOTE)
    bot.fake.wait_for(lambda: any("Offered a pause" in t for t in _thread_texts(bot)))


def test_a_log_that_fails_after_the_modal_closed_says_what_was_lost_with_the_input(
    logging_bot, monkeypatch
):
    bot, task_id, modal = logging_bot
    with stalled_disk(monkeypatch, OSError(errno.EIO, "Input/output error")) as release:
        answered = submit(bot, modal, _values("call", "saved", note=NOTE))
        status, body, took = bot.fake.wait_for(answered, timeout=5)
        assert (status, body) == (200, "") and took < SLACK_WAITS
        release.set()
        [note] = bot.fake.wait_for(lambda: notes(bot))

    assert "*not saved*" in note and "something went wrong on our side" in note
    assert "*Channel:* Call" in note and "*Outcome:* Saved" in note
    escaped = NOTE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in note  # every character typed comes back, escaped
    assert "Log outreach* again" in note
    assert bot.repos.tasks.require(task_id).status == TASK_OPEN
    assert list(bot.repos.outreach.all()) == []
    assert bot.fake.take_violations() == []  # the message fits Slack's limits


def test_a_retried_submission_is_logged_once_and_answered_in_time(logging_bot, monkeypatch):
    bot, task_id, modal = logging_bot
    values = _values("email", "reached", note="Happy")
    with stalled_disk(monkeypatch) as release:
        first = bot.fake.wait_for(submit(bot, modal, values), timeout=5)
        again = bot.fake.wait_for(submit(bot, modal, values), timeout=5)  # Slack sends it again
        assert [a[:2] for a in (first, again)] == [(200, "")] * 2
        assert max(first[2], again[2]) < SLACK_WAITS
        release.set()
        bot.fake.wait_for(lambda: notes(bot))
    bot.fake.wait_for(lambda: _thread_texts(bot))
    status, _, body = bot.sender.submit(ids.VIEW_LOG_OUTREACH, values, view=modal, user_id="U2")
    assert (status, body) == (200, "")  # once more, in time: closed, not "already done"

    time.sleep(WITHIN + 0.3)  # past every deadline: a repeat says nothing more
    assert len(bot.repos.outreach.for_subscriber("cus_000")) == 1
    assert len(notes(bot)) == 1 and "Logged email" in notes(bot)[0]
    assert len([t for t in _thread_texts(bot) if "Happy" in t]) == 1
    assert [t.status for t in tasks_of(bot.repos, "cus_000")] == [TASK_DONE]


def test_a_refusal_in_time_still_comes_back_under_the_field(logging_bot):
    bot, task_id, modal = logging_bot
    bot.sender.command(f"claim {task_id}", user_id="U3")

    status, body, _ = bot.fake.wait_for(submit(bot, modal, _values("call", "reached")), 5)

    assert status == 200
    assert "claimed by @U3" in json.loads(body)["errors"][ids.BLOCK_LOG_OUTCOME]
    assert notes(bot) == []


def test_a_log_refused_after_the_modal_closed_says_why_with_the_input(logging_bot):
    bot, task_id, modal = logging_bot
    with bot.repos.store.lock:  # the store is busy; meanwhile U3 claims the task (same thread)
        answered = submit(bot, modal, _values("sms", "reached", note="Texted her"))
        status, body, took = bot.fake.wait_for(answered, timeout=5)
        assert (status, body) == (200, "") and took < SLACK_WAITS
        bot.services.care.claim([task_id], "U3")
    [note] = bot.fake.wait_for(lambda: notes(bot))

    assert "*not saved*" in note and "claimed by <@U3>" in note and "Texted her" in note
    assert bot.repos.tasks.require(task_id).claimed_by == "U3"
    assert list(bot.repos.outreach.all()) == []
