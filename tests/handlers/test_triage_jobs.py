# ruff: noqa: F811  (the tests take the fixtures imported from test_triage)
"""The triage minute job: one reminder per unclaimed item after business hours, posted once
through Slack's lies, and again on a later turn when Slack refused it."""

from __future__ import annotations

from handlers.triage_jobs import remind
from tests.bot.inbox.mail import make_email
from tests.handlers.conftest import start_bot
from tests.handlers.test_triage import (  # noqa: F401  (fixtures)
    SECRET,
    clock_at_monday,
    inbox_bot,
    post_inbox,
)
from tests.stored import edit_stored

TRIAGE = "C0TRIAGE"
INBOX_ENV = {"CARE_TRIAGE_CHANNEL": TRIAGE, "INBOX_WEBHOOK_SECRET": SECRET}


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


def test_an_item_whose_reminder_cannot_be_made_leaves_the_others_reminded(inbox_bot, caplog):
    post_inbox(inbox_bot, make_email(subject="Bad one", sender="bad@example.org"))
    post_inbox(inbox_bot, make_email(subject="Good one", sender="good@example.org"))
    bad = next(i.id for i in inbox_bot.repos.inbox.active_items() if i.subject == "Bad one")
    inbox_bot.stop()
    edit_stored(  # a time in year 1, and a snapshot whose attachments are not (name, size) pairs
        inbox_bot.data_dir,
        "inbox_items",
        bad,
        lambda doc: doc["snapshot"].update(attachments="x.pdf"),
        last_message_at="0001-01-01T00:00:00Z",
    )
    bot = start_bot(inbox_bot.fake, inbox_bot.data_dir, inbox_bot.clock, **INBOX_ENV)
    try:
        bot.clock.advance(hours=3)
        assert remind(bot.services.triage) == 1  # the good one's
        assert remind(bot.services.triage) == 0  # the bad one is not tried every minute
    finally:
        bot.stop()
    assert any(r.exc_info and bad in r.getMessage() for r in caplog.records)
