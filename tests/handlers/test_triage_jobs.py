# ruff: noqa: F811  (the tests take the fixtures imported from test_triage)
"""The triage minute job: one reminder per unclaimed item after business hours, posted once
through Slack's lies, and again on a later turn when Slack refused it."""

from __future__ import annotations

from handlers.triage_jobs import remind
from tests.bot.inbox.mail import make_email
from tests.handlers.test_triage import (  # noqa: F401  (fixtures)
    clock_at_monday,
    inbox_bot,
    post_inbox,
)

TRIAGE = "C0TRIAGE"


def test_unclaimed_item_gets_one_reminder_after_business_hours_pass(inbox_bot):
    post_inbox(inbox_bot, make_email())
    triage = inbox_bot.services.triage
    assert remind(triage) == 0
    inbox_bot.clock.advance(minutes=119)
    assert remind(triage) == 0
    inbox_bot.clock.advance(minutes=2)
    assert remind(triage) == 1
    inbox_bot.clock.advance(hours=3)
    assert remind(triage) == 0
    [parent] = inbox_bot.fake.messages("C0TRIAGE")
    assert len(inbox_bot.fake.thread("C0TRIAGE", parent["ts"])) == 2


def test_a_reminder_stored_by_slack_then_500_is_posted_once(inbox_bot):
    bot_ = inbox_bot
    post_inbox(bot_, make_email(subject="Where is my box?"))
    bot_.clock.advance(hours=3)
    bot_.fake.fail_next("chat.postMessage", status=500, after_store=True)

    assert remind(bot_.services.triage) == 1
    assert remind(bot_.services.triage) == 0
    [parent] = bot_.fake.messages(TRIAGE)
    assert len(bot_.fake.thread(TRIAGE, parent["ts"])) == 2  # the item and one reminder


def test_a_reminder_slack_refused_is_sent_on_a_later_turn(inbox_bot):
    bot_ = inbox_bot
    post_inbox(bot_, make_email(subject="Where is my box?"))
    bot_.clock.advance(hours=3)
    bot_.fake.fail_next("chat.postMessage", error="channel_not_found")

    assert remind(bot_.services.triage) == 0
    assert remind(bot_.services.triage) == 1
    [parent] = bot_.fake.messages(TRIAGE)
    assert len(bot_.fake.thread(TRIAGE, parent["ts"])) == 2
