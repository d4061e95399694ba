# ruff: noqa: F811  (the tests take the fixtures imported from test_triage)
"""Posting to the triage channel: paced by the bot's one pacer, and posted once when Slack
stores a post and then answers 500."""

from __future__ import annotations

from bot.posting import Pacer
from tests.bot.inbox.mail import make_email
from tests.handlers.conftest import message_text, start_bot
from tests.handlers.test_triage import (  # noqa: F401  (fixtures)
    SECRET,
    clock_at_monday,
    inbox_bot,
    post_inbox,
)

TRIAGE = "C0TRIAGE"


def test_triage_posts_keep_to_slacks_rate_through_the_bots_one_pacer(
    fake_slack, tmp_path, clock_at_monday
):
    # Slack takes about one message a second per channel: triage posts wait their turn in the
    # same pacer as the digest's (the clock stands still, so the second waits a whole second).
    waits: list[float] = []
    pacer = Pacer(interval=1.0, sleep=waits.append, monotonic=lambda: 100.0)
    bot = start_bot(
        fake_slack,
        tmp_path / "data",
        clock_at_monday,
        pacer,
        CARE_TRIAGE_CHANNEL="C0TRIAGE",
        INBOX_WEBHOOK_SECRET=SECRET,
    )
    try:
        first = post_inbox(bot, make_email(subject="First"))
        second = post_inbox(bot, make_email(subject="Second"))
    finally:
        bot.runtime.stop()

    assert (first[1]["status"], second[1]["status"]) == ("posted", "posted")
    assert len(fake_slack.messages("C0TRIAGE")) == 2
    assert waits == [1.0]


def test_slack_storing_the_triage_post_then_answering_500_posts_it_once(inbox_bot):
    bot = inbox_bot
    bot.fake.fail_next("chat.postMessage", status=500, after_store=True)

    status, answer = post_inbox(bot, make_email(subject="Where is my box?"))

    assert (status, answer["status"]) == (200, "posted")
    [message] = bot.fake.messages(TRIAGE)
    assert "Where is my box?" in message_text(message)
    assert bot.repos.inbox.item(answer["item"]).slack["ts"] == message["ts"]


def test_reply_stored_by_slack_then_500_is_threaded_once(inbox_bot):
    bot = inbox_bot
    first = make_email(subject="Where is my box?")
    post_inbox(bot, first)
    bot.fake.fail_next("chat.postMessage", status=500, after_store=True)
    reply = make_email(subject="Re: Where is my box?", body="Any news?")

    assert post_inbox(bot, reply)[1]["status"] == "threaded"
    [parent] = bot.fake.messages(TRIAGE)
    assert len(bot.fake.thread(TRIAGE, parent["ts"])) == 2
