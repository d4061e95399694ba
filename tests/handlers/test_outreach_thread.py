"""A customer's answer to an outreach email lands in the outreach's triage thread (issue 9,
item 4), end to end: the Email modal's signed Send, the real SMTP server, the answer through
the real Dovecot or the signed inbox webhook, and the fake Slack's threads (thread_ts)."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default

import pytest

from bot.blocks import ids
from bot.inbox.ingest import MAX_ATTEMPTS
from bot.inbox.models import ITEM_AWAITING, ITEM_OPEN, SOURCE_OUTREACH
from handlers.triage_jobs import remind
from handlers.triage_post import POST_ATTEMPTS
from tests.bot.inbox.mail import make_email, reply_to
from tests.handlers import test_reply
from tests.handlers.conftest import MONDAY_MORNING, CareBot, message_text
from tests.handlers.test_email import open_modal
from tests.handlers.test_email_send import seed, submit, thread_texts, wait_modal
from tests.handlers.test_triage import by_hand, imap_env, post_inbox

pytestmark = pytest.mark.imap
mail_bot = test_reply.mail_bot
TRIAGE = test_reply.TRIAGE
SUBJECT = "A month in: how is it going?"


def send_outreach(
    bot: CareBot, smtp_server, body: str = "Hi Ann,\n\nHow is it going?", before_send=None
):
    """Email Ann from her digest entry; returns the message as the customer receives it."""
    task_id = seed(bot)
    modal = open_modal(bot, task_id)
    if before_send is not None:
        before_send()
    seen = smtp_server.count()
    submit(bot, modal, SUBJECT, body, after=ids.EMAIL_KEEP)
    wait_modal(bot, "Sent")
    [(msg, _)] = smtp_server.wait_for(seen, timeout=30)
    return msg, task_id


def outreach_post(bot: CareBot) -> dict:
    return bot.fake.wait_for(
        lambda: next((m for m in bot.fake.messages(TRIAGE) if "emailed" in message_text(m)), None),
        timeout=20,
    )


def thread_posts(bot: CareBot, ts: str) -> list[dict]:
    """chat.postMessage calls that went into the thread `ts` of the triage channel."""
    return [
        c.args
        for c in bot.fake.calls("chat.postMessage")
        if c.args.get("channel") == TRIAGE and c.args.get("thread_ts") == ts and not c.error
    ]


def action_ids(message: dict) -> set[str]:
    return {
        e.get("action_id")
        for b in message.get("blocks", [])
        if b.get("type") == "actions"
        for e in b["elements"]
    }


def imap_bot(mail_bot, dovecot) -> CareBot:  # noqa: ANN001
    return by_hand(mail_bot(**imap_env(dovecot)))


def test_an_answer_by_imap_lands_in_the_outreach_thread_linked_and_answerable(
    mail_bot, smtp_server, dovecot_server
):
    bot = imap_bot(mail_bot, dovecot_server)
    sent, task_id = send_outreach(bot, smtp_server, "Hi Ann,\n\n<!channel> How is *it* going?")

    post = outreach_post(bot)
    shown = message_text(post)
    assert f"<@U1> emailed Ann Lee: *{SUBJECT}*" in shown
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown  # escaped: pings nobody
    assert "Reached by <@U1> by email today" in shown
    assert not action_ids(post)  # nothing to claim until Ann answers
    item = bot.repos.inbox.item_by_key(sent["Message-ID"])
    assert (item.status, item.source, item.subscriber_id) == (
        ITEM_AWAITING,
        SOURCE_OUTREACH,
        "cus_ann",
    )
    status, _, text = bot.sender.command("triage", user_id="U1")
    assert status == 200 and "No open inbox items" in text  # not work yet
    assert remind(bot.services.triage) == 0  # and no "still unclaimed" reminder

    answer = reply_to(sent.as_bytes(), "Going well! Can I skip the July box?")
    dovecot_server.append(answer)
    assert bot.services.triage.connector.poll_once().handled == 1

    [posted] = bot.fake.wait_for(lambda: thread_posts(bot, post["ts"]))
    assert "Can I skip the July box?" in json.dumps(posted)
    assert len(bot.fake.messages(TRIAGE)) == 1  # no new triage item
    item = bot.repos.inbox.item(item.id)
    assert (item.status, item.message_count, item.answered_at) == (ITEM_OPEN, 1, MONDAY_MORNING)
    assert item.opened_at == MONDAY_MORNING and item.subscriber_id == "cus_ann"
    card = bot.fake.message(TRIAGE, post["ts"])  # now a triage card for Ann's answer
    assert {ids.ACTION_TRIAGE_CLAIM, ids.ACTION_TRIAGE_REPLY} <= action_ids(card)
    assert "answers <@U1>'s email" in message_text(card)
    assert "Can I skip the July box?" in message_text(card)
    assert bot.fake.wait_for(  # the digest entry the email was sent from points to it
        lambda: [t for t in thread_texts(bot) if "Ann Lee answered the email" in t]
    )

    modal = test_reply._open_reply(bot, card, user="U2")  # U1 still has the Email modal
    before = smtp_server.count()
    values = test_reply._values("Yes, July is skipped.", ids.REPLY_RESOLVE)
    test_reply._send(bot, modal, values, user="U2")
    [(reply, _)] = smtp_server.wait_for(before, timeout=30)
    theirs = message_from_bytes(answer, policy=default)
    assert reply["In-Reply-To"] == theirs["Message-ID"]
    assert sent["Message-ID"] in reply["References"]
    assert reply["Subject"] == f"Re: {SUBJECT}"
    item = bot.fake.wait_for(lambda: (i := bot.repos.inbox.item(item.id)).responded_by and i)
    assert item.responded_at == MONDAY_MORNING and item.resolved_by == "U2"
    assert bot.repos.tasks.require(task_id).active  # "Keep the task open" was chosen


def test_an_answer_without_threading_headers_matches_by_re_subject_and_sender(
    mail_bot, smtp_server
):
    bot = mail_bot()
    sent, _ = send_outreach(bot, smtp_server)
    post = outreach_post(bot)

    bare = make_email(subject=f"RE: {SUBJECT}", body="All good, thanks.")  # no In-Reply-To
    status, answer = post_inbox(bot, bare)

    assert (status, answer["status"]) == (200, "threaded")
    assert answer["item"] == bot.repos.inbox.item_by_key(sent["Message-ID"]).id
    assert bot.fake.wait_for(lambda: thread_posts(bot, post["ts"]))
    other = make_email(subject="Something else entirely", body="New question")
    assert post_inbox(bot, other)[1]["status"] == "posted"  # another subject: its own item


def test_an_answer_to_a_triage_reply_that_keeps_only_in_reply_to_threads_there(
    mail_bot, smtp_server
):
    bot = mail_bot()
    message, _, _ = test_reply._conversation(bot)
    modal = test_reply._open_reply(bot, message)
    before = smtp_server.count()
    test_reply._send(bot, modal, test_reply._values("It ships today."))
    [(ours, _)] = smtp_server.wait_for(before, timeout=30)
    bot.fake.wait_for(  # the reply is recorded once its note is in the thread
        lambda: [m for m in bot.fake.thread(TRIAGE, message["ts"]) if "replied by" in str(m)]
    )

    answer = make_email(
        subject="Thanks!",  # a new subject, and only In-Reply-To: the id is all there is
        body="Got it, thank you.",
        headers={"In-Reply-To": str(ours["Message-ID"])},
    )
    status, result = post_inbox(bot, answer)

    assert (status, result["status"]) == (200, "threaded")
    assert bot.fake.wait_for(lambda: thread_posts(bot, message["ts"]))
    assert post_inbox(bot, ours.as_bytes())[1]["status"] == "duplicate"  # our own email, Bcc'd


def test_a_refused_triage_post_sends_once_and_the_thread_is_posted_later(
    mail_bot, smtp_server, fake_slack
):
    bot = mail_bot()
    down = lambda: fake_slack.fail_next("chat.postMessage", status=500, times=POST_ATTEMPTS)  # noqa: E731
    sent, _ = send_outreach(bot, smtp_server, before_send=down)

    modal = wait_modal(bot, "Sent")
    assert "it is posted within minutes" in message_text(modal)
    assert not [m for m in fake_slack.messages(TRIAGE) if "emailed" in message_text(m)]
    item = bot.repos.inbox.item_by_key(sent["Message-ID"])
    assert item is not None and not item.slack

    assert remind(bot.services.triage) == 0  # the minute job posts it ...
    post = outreach_post(bot)
    remind(bot.services.triage)  # ... once
    assert len([m for m in fake_slack.messages(TRIAGE) if "emailed" in message_text(m)]) == 1
    assert post_inbox(bot, reply_to(sent.as_bytes(), "Fine, thanks"))[1]["status"] == "threaded"
    assert bot.fake.wait_for(lambda: thread_posts(bot, post["ts"]))
    assert smtp_server.count() >= 1 and len(bot.repos.sent.all()) == 1  # sent once


def test_an_answer_arriving_while_the_thread_is_unposted_posts_it_first(
    mail_bot, smtp_server, fake_slack
):
    bot = mail_bot()
    down = lambda: fake_slack.fail_next("chat.postMessage", status=500, times=POST_ATTEMPTS)  # noqa: E731
    sent, _ = send_outreach(bot, smtp_server, before_send=down)
    assert "it is posted within minutes" in message_text(wait_modal(bot, "Sent"))
    bot.fake.wait_for(lambda: any("<@U1>" in t for t in thread_texts(bot)))  # the last post

    fake_slack.fail_next("chat.postMessage", status=503, times=POST_ATTEMPTS)
    answer = reply_to(sent.as_bytes(), "Quick question")
    assert post_inbox(bot, answer)[0] == 503  # Slack still down: the sender retries later
    status, result = post_inbox(bot, answer)

    assert (status, result["status"]) == (200, "threaded")
    item = bot.repos.inbox.item_by_key(sent["Message-ID"])
    assert [m["ts"] for m in fake_slack.messages(TRIAGE)] == [item.slack["ts"]]  # one post
    assert bot.fake.wait_for(lambda: thread_posts(bot, item.slack["ts"]))
    assert "answers <@U1>'s email" in message_text(fake_slack.messages(TRIAGE)[0])


def test_without_a_triage_channel_the_email_is_sent_and_no_thread_is_kept(mail_bot, smtp_server):
    bot = mail_bot(CARE_TRIAGE_CHANNEL="", INBOX_WEBHOOK_SECRET="")
    send_outreach(bot, smtp_server)

    assert bot.services.triage is None
    assert list(bot.repos.inbox.items()) == []


def test_a_post_or_edit_slack_refuses_for_itself_stops_no_other_triage_work(
    mail_bot, smtp_server, fake_slack
):
    # The triage minute job posts outreach threads Slack refused at send time, wakes snoozed
    # conversations and posts reminders. An answer about one message (its blocks refused, its
    # message deleted in Slack) is that message's: the rest of the minute's work goes on.
    bot = mail_bot()
    down = lambda: fake_slack.fail_next("chat.postMessage", status=500, times=POST_ATTEMPTS)  # noqa: E731
    send_outreach(bot, smtp_server, before_send=down)
    assert "it is posted within minutes" in message_text(wait_modal(bot, "Sent"))
    bot.fake.wait_for(lambda: any("<@U1>" in t for t in thread_texts(bot)))  # the last post
    snoozed = post_inbox(
        bot, make_email(subject="Skip June?", sender="Bo <bo@example.com>", message_id="<skip@x>")
    )[1]
    plain = post_inbox(
        bot, make_email(subject="Box?", sender="Cy <cy@example.com>", message_id="<box@x>")
    )[1]
    triage = bot.services.triage
    triage.actions.snooze(snoozed["item"], 60, "U1")
    bot.clock.advance(hours=3)  # past the snooze, and both emails past their reminder time
    fake_slack.fail_next("chat.postMessage", error="invalid_blocks")  # the outreach's post
    fake_slack.fail_next("chat.update", error="message_not_found")  # the snoozed one's redraw

    assert remind(triage) == 2  # both reminders, beside the two refusals

    parents = {i: bot.repos.inbox.item(i).slack["ts"] for i in (snoozed["item"], plain["item"])}
    assert all(len(bot.fake.thread(TRIAGE, ts)) == 2 for ts in parents.values())
    assert not [m for m in fake_slack.messages(TRIAGE) if "emailed" in message_text(m)]
    remind(triage)  # the next minute: the outreach's post goes through
    assert len([m for m in fake_slack.messages(TRIAGE) if "emailed" in message_text(m)]) == 1


def test_an_outreach_post_slack_always_refuses_is_parked_listed_and_posted_on_retry(
    mail_bot, smtp_server, fake_slack
):
    # invalid_blocks is about the message, not an outage: tried on MAX_ATTEMPTS minutes, then
    # parked with the inbox's parked emails, no longer tried every minute.
    bot = mail_bot()
    down = lambda: fake_slack.fail_next("chat.postMessage", status=500, times=POST_ATTEMPTS)  # noqa: E731
    sent, _ = send_outreach(bot, smtp_server, before_send=down)
    assert "it is posted within minutes" in message_text(wait_modal(bot, "Sent"))
    bot.fake.wait_for(lambda: any("<@U1>" in t for t in thread_texts(bot)))  # the last post
    item = bot.repos.inbox.item_by_key(sent["Message-ID"])
    key = f"inbox:{item.id}"

    def tries() -> int:  # posts of this item's message (its metadata carries its key)
        metas = [c.args.get("metadata") or {} for c in fake_slack.calls("chat.postMessage")]
        metas = [json.loads(m) if isinstance(m, str) else m for m in metas]
        return sum(1 for m in metas if m.get("event_payload", {}).get("key") == key)

    triage, before = bot.services.triage, tries()
    for _ in range(MAX_ATTEMPTS):
        fake_slack.fail_next("chat.postMessage", error="invalid_blocks")
        remind(triage)
        bot.clock.advance(minutes=1)
    assert tries() == before + MAX_ATTEMPTS
    for _ in range(5):  # parked: the minutes that follow leave it alone
        remind(triage)
        bot.clock.advance(minutes=1)
    assert tries() == before + MAX_ATTEMPTS
    assert not [m for m in fake_slack.messages(TRIAGE) if "emailed" in message_text(m)]
    (letter,) = bot.repos.inbox.dead.all()
    listing = bot.sender.command("triage", user_id="U1")[2]
    assert letter.id in listing and "invalid_blocks" in listing and SUBJECT in listing
    assert "the email was sent" in listing and "/care inbox retry ID" in listing

    status, _, text = bot.sender.command(f"inbox retry {letter.id}", user_id="U1")
    assert status == 200 and "Retrying" in text
    outreach_post(bot)
    assert bot.fake.wait_for(lambda: bot.repos.inbox.dead.count() == 0)
    assert bot.repos.inbox.item(item.id).slack.get("ts")
    assert bot.repos.inbox.awaiting_post() == []
