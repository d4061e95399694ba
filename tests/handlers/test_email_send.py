"""Send from the Email modal, end to end: signed Slack requests in, a real SMTP server
(STARTTLS + AUTH, tests/smtp_server.py) out, the outreach log and the digest thread after."""

from __future__ import annotations

import threading

from bot.blocks import ids
from bot.models import TASK_DONE, TASK_OPEN
from tests.handlers import test_reply
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    CareBot,
    add_subscriber,
    message_text,
    post_digest,
    tasks_of,
)
from tests.handlers.test_email import inputs, open_modal, values

mail_bot = test_reply.mail_bot  # the fixture: a bot that sends through the test SMTP server


def seed(bot: CareBot, name: str = "Ann Lee") -> str:
    add_subscriber(bot.repos, "cus_ann", name, "ann@example.com", DAY_30, plan="Coffee Club")
    post_digest(bot)
    [task] = tasks_of(bot.repos, "cus_ann")
    return task.id


def submit(bot: CareBot, modal: dict, subject: str, body: str, after: str = ids.EMAIL_CLOSE):
    status, _, answer = bot.sender.submit(
        ids.VIEW_EMAIL, values(subject, body, after), view=modal, user_id="U1"
    )
    assert status == 200
    return answer


def wait_modal(bot: CareBot, text: str) -> dict:
    return bot.fake.wait_for(
        lambda: next((m for m in bot.fake.modals("U1") if text in message_text(m)), None),
        timeout=20,
    )


def thread_texts(bot: CareBot) -> list[str]:
    parent = bot.fake.messages(DIGEST)[0]
    return [message_text(m) for m in bot.fake.thread(DIGEST, parent["ts"])[1:]]


def test_send_delivers_the_edited_draft_logs_it_closes_the_task_and_posts_in_the_thread(
    mail_bot, smtp_server
):
    bot = mail_bot()
    task_id = seed(bot)
    modal = open_modal(bot, task_id)
    assert "*From:* Acme Support &lt;care@example.com&gt;" in message_text(modal)
    draft = inputs(modal)[ids.BLOCK_EMAIL_BODY]["initial_value"]
    seen = smtp_server.count()

    submit(bot, modal, "A month in: how is it going?", draft + "\n\nP.S. <b>new beans</b>!")

    wait_modal(bot, "Sent")
    [(msg, envelope)] = smtp_server.wait_for(seen)
    assert msg["To"] == "Ann Lee <ann@example.com>" and "care@example.com" in msg["From"]
    assert msg["Subject"] == "A month in: how is it going?"
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("Hi Ann,") and "P.S. <b>new beans</b>!" in text
    html = msg.get_body(("html",)).get_content()
    assert "&lt;b&gt;new beans&lt;/b&gt;" in html and "<b>new" not in html
    task = bot.repos.tasks.require(task_id)
    assert (task.status, task.closed_by) == (TASK_DONE, "U1")
    [logged] = bot.repos.outreach.for_subscriber("cus_ann")
    assert (logged.channel, logged.outcome, logged.by) == ("email", "reached", "U1")
    [record] = [r for r in bot.repos.sent.all() if r.subscriber_id == "cus_ann"]
    assert record.message_id == msg["Message-ID"]
    bot.fake.wait_for(lambda: any("<@U1>" in t for t in thread_texts(bot)))


def test_keep_open_logs_the_email_and_leaves_the_task_open(mail_bot, smtp_server):
    bot = mail_bot()
    task_id = seed(bot)
    modal = open_modal(bot, task_id)
    seen = smtp_server.count()

    submit(bot, modal, "Hello", "Hi Ann", after=ids.EMAIL_KEEP)

    wait_modal(bot, "still open")
    assert len(smtp_server.wait_for(seen)) >= 1
    assert bot.repos.tasks.require(task_id).status == TASK_OPEN
    [logged] = bot.repos.outreach.for_subscriber("cus_ann")
    assert logged.channel == "email"


def test_a_refused_login_says_why_in_the_modal_sends_nothing_and_keeps_the_text(
    mail_bot, smtp_server
):
    bot = mail_bot(SMTP_PASSWORD="wrong")
    task_id = seed(bot)
    modal = open_modal(bot, task_id)
    seen = smtp_server.count()

    submit(bot, modal, "My subject", "My words")

    form = wait_modal(bot, "Not sent")
    assert "SMTP_PASSWORD" in message_text(form)
    assert inputs(form)[ids.BLOCK_EMAIL_BODY]["initial_value"] == "My words"
    assert smtp_server.count() == seen
    assert bot.repos.tasks.require(task_id).status == TASK_OPEN
    assert list(bot.repos.outreach.all()) == []


def test_a_double_click_on_send_sends_once(mail_bot, smtp_server):
    bot = mail_bot()
    task_id = seed(bot)
    modal = open_modal(bot, task_id)
    seen = smtp_server.count()

    clicks = [
        threading.Thread(target=submit, args=(bot, modal, "Once", "Only once")) for _ in range(2)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()

    wait_modal(bot, "Sent")
    bot.fake.wait_for(lambda: len(bot.fake.calls("views.update")) >= 2, timeout=20)  # both ran
    smtp_server.wait_for(seen)
    assert smtp_server.count() == seen + 1
    assert len(bot.repos.outreach.for_subscriber("cus_ann")) == 1
