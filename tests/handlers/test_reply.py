"""Reply to a triage email from Slack, end to end: signed Slack requests in, a real SMTP server
(STARTTLS + AUTH) and a real Dovecot (the Sent folder) out, the fake Slack for the rest."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from bot.blocks import ids
from bot.inbox.models import ITEM_RESOLVED
from handlers import in_time
from tests.bot.inbox.mail import make_email, reply_to
from tests.fakeslack.server import FakeSlack
from tests.handlers.conftest import MONDAY_MORNING, CareBot, add_subscriber, add_task, start_bot
from tests.handlers.test_in_time import WITHIN, store_held
from tests.handlers.test_triage import SECRET, post_inbox
from tests.inbox_server import USERS
from tests.slackreq import text_input
from tests.smtp_server import USERS as SMTP_USERS

pytestmark = pytest.mark.imap
TRIAGE = "C0TRIAGE"
SMTP_USER = next(iter(SMTP_USERS))


@pytest.fixture
def mail_bot(fake_slack: FakeSlack, tmp_path: Path, smtp_server, monkeypatch) -> Iterator[callable]:
    """start(**env) -> a bot that sends through the session's SMTP server (no copy in Sent
    unless `env` points IMAP_* at a Dovecot)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_server.cert))  # trust the throwaway CA
    started: list[CareBot] = []

    def start(**env: str) -> CareBot:
        from bot.clock import FixedClock

        settings = {
            "CARE_TRIAGE_CHANNEL": TRIAGE,
            "INBOX_WEBHOOK_SECRET": SECRET,
            "SMTP_HOST": smtp_server.host,
            "SMTP_PORT": str(smtp_server.port),
            "SMTP_SECURITY": "starttls",
            "SMTP_USER": SMTP_USER,
            "SMTP_PASSWORD": SMTP_USERS[SMTP_USER],
            "SMTP_FROM": f"Acme Support <{SMTP_USER}>",
            "SMTP_SAVE_SENT": "true",
            **env,
        }
        bot = start_bot(fake_slack, tmp_path / "data", FixedClock(MONDAY_MORNING), **settings)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


def _conversation(bot: CareBot) -> tuple[dict, bytes, str]:
    """Ann (a subscriber with an open task) writes, then writes again in the same thread."""
    add_subscriber(bot.repos, "cus_ann", "Ann Lee", "ann@example.com", date(2025, 3, 1))
    task = add_task(bot.repos, "cus_ann", "checkin_90", date(2026, 6, 15), MONDAY_MORNING)
    first = make_email(subject="Where is my box?", body="It has not arrived. <!channel>")
    assert post_inbox(bot, first)[1]["status"] == "posted"
    second = reply_to(first, "Any news?")
    assert post_inbox(bot, second)[1]["status"] == "threaded"
    [message] = bot.fake.messages(TRIAGE)
    return message, second, task.id


def _open_reply(bot: CareBot, message: dict, user: str = "U1") -> dict:
    status, _, body = bot.sender.action(
        ids.ACTION_TRIAGE_REPLY, message=message, channel_id=TRIAGE, user_id=user
    )
    assert (status, body) == (200, "")
    [modal] = bot.fake.wait_for(lambda: bot.fake.modals(user))
    return modal


def _values(text: str | None, *options: str) -> dict:
    checks = {
        "type": "checkboxes",
        "selected_options": [
            {"value": o, "text": {"type": "plain_text", "text": o}} for o in options
        ],
    }
    return {
        ids.BLOCK_REPLY_TEXT: {ids.ACTION_REPLY_TEXT: text_input(text)},
        ids.BLOCK_REPLY_OPTIONS: {ids.ACTION_REPLY_OPTIONS: checks},
    }


def _send(bot: CareBot, modal: dict, values: dict, user: str = "U1") -> dict:
    status, _, body = bot.sender.submit(ids.VIEW_REPLY, values, view=modal, user_id=user)
    assert status == 200
    return json.loads(body) if body else {}


def _updates(bot: CareBot, view_id: str) -> list[dict]:
    """The views the bot set on this modal with views.update, in order."""
    calls = [c for c in bot.fake.calls("views.update") if c.args.get("view_id") == view_id]
    return [v if isinstance(v, dict) else json.loads(v) for v in (c.args["view"] for c in calls)]


def _final_view(bot: CareBot, view_id: str, count: int = 1) -> dict:
    """The modal once the `count`th send is over (the bot updates it from "Sending…")."""
    return bot.fake.wait_for(lambda: _updates(bot, view_id)[count - 1 :], timeout=15)[0]


def test_reply_edit_send_arrives_threaded_in_sent_in_slack_and_logged(
    mail_bot, smtp_server, dovecot_server
):
    bot = mail_bot(
        IMAP_HOST=dovecot_server.host,
        IMAP_PORT=str(dovecot_server.port),
        IMAP_USER="care",
        IMAP_PASSWORD=USERS["care"],
        IMAP_SSL="false",
    )
    message, latest, task_id = _conversation(bot)
    before = smtp_server.count()

    modal = _open_reply(bot, message)
    shown = json.dumps(modal)
    assert "Ann Lee &lt;ann@example.com&gt;" in shown and "Re: Where is my box?" in shown
    mrkdwn = json.dumps([b for b in modal["blocks"] if b["type"] != "input"])
    assert "It has not arrived." in mrkdwn and "<!channel>" not in mrkdwn  # escaped: no ping
    draft = modal["blocks"][
        [b.get("block_id") for b in modal["blocks"]].index(ids.BLOCK_REPLY_TEXT)
    ]
    assert draft["element"]["initial_value"].startswith("Hi Ann,")

    answer = _send(bot, modal, _values("Hi Ann,\n\nIt ships today.\n\nDana", ids.REPLY_RESOLVE))
    assert answer["response_action"] == "update" and "Sending" in json.dumps(answer["view"])

    ((msg, meta),) = smtp_server.wait_for(before)
    parent = message_from_bytes(latest, policy=default)
    assert meta["rcpt_tos"] == ["ann@example.com"] and meta["login"] == SMTP_USER
    assert msg["In-Reply-To"] == parent["Message-ID"]
    assert parent["In-Reply-To"] in msg["References"] and parent["Message-ID"] in msg["References"]
    assert msg["Subject"] == "Re: Where is my box?"
    assert str(msg["From"]) == f"Acme Support <{SMTP_USER}>"
    assert "It ships today." in msg.get_content()

    assert "Sent" in json.dumps(_final_view(bot, modal["id"]))
    thread = bot.fake.wait_for(
        lambda: [
            m for m in bot.fake.thread(TRIAGE, message["ts"]) if "replied by email" in json.dumps(m)
        ]
    )
    assert "<@U1> replied by email" in json.dumps(thread[0]) and "It ships today." in json.dumps(
        thread[0]
    )

    with dovecot_server.client() as conn:
        conn.select("Sent", readonly=True)
        _, found = conn.uid("SEARCH", "HEADER", "Message-ID", f'"{msg["Message-ID"]}"')
        assert len(found[0].split()) == 1
    [logged] = bot.repos.outreach.for_subscriber("cus_ann")
    assert (logged.channel, logged.task_id, logged.by) == ("email", task_id, "U1")
    assert bot.repos.tasks.require(task_id).active  # "close their task" was not ticked
    item = bot.repos.inbox.item(bot.repos.sent.all()[0].item_id)
    assert item.responded_at == MONDAY_MORNING and item.responded_by == "U1"
    assert item.status == ITEM_RESOLVED and item.resolved_at == MONDAY_MORNING


def test_double_click_on_send_sends_once(mail_bot, smtp_server):
    bot = mail_bot()
    message, _, _ = _conversation(bot)
    modal = _open_reply(bot, message)
    before = smtp_server.count()
    values = _values("Sent once, however often it is clicked.")
    clicks = [threading.Thread(target=_send, args=(bot, modal, values)) for _ in range(3)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join(20)
    smtp_server.wait_for(before)
    assert "Sent" in json.dumps(_final_view(bot, modal["id"], count=3))
    assert len(bot.repos.outreach.for_subscriber("cus_ann")) == 1
    assert smtp_server.count() == before + 1
    notes = [
        m for m in bot.fake.thread(TRIAGE, message["ts"]) if "replied by email" in json.dumps(m)
    ]
    assert len(notes) == 1


def test_send_while_the_store_is_held_is_answered_in_time_and_the_reply_still_goes_out(
    mail_bot, smtp_server, monkeypatch
):
    bot = mail_bot()
    message, _, _ = _conversation(bot)
    modal = _open_reply(bot, message)
    before = smtp_server.count()
    monkeypatch.setattr(in_time, "ANSWER_WITHIN", WITHIN)
    answers: list[tuple[dict, float]] = []

    def send() -> None:
        start = time.monotonic()
        answers.append(
            (_send(bot, modal, _values("Held up, then sent.")), time.monotonic() - start)
        )

    with store_held(bot) as release:  # another write holds the store: the draft waits
        threading.Thread(target=send, daemon=True).start()
        [(answer, took)] = bot.fake.wait_for(lambda: answers, timeout=5)
        assert took < 3.0 and answer["response_action"] == "update"
        assert "Sending" in json.dumps(answer["view"])
        release.set()

    smtp_server.wait_for(before)
    assert "Sent" in json.dumps(_final_view(bot, modal["id"]))
    assert len(bot.repos.outreach.for_subscriber("cus_ann")) == 1


def test_a_refused_smtp_login_shows_the_error_in_the_modal_and_sends_nothing(mail_bot, smtp_server):
    bot = mail_bot(SMTP_PASSWORD="wrong-password")
    message, _, _ = _conversation(bot)
    modal = _open_reply(bot, message)
    before = smtp_server.count()

    _send(bot, modal, _values("This should not leave.", ids.REPLY_RESOLVE))
    shown = json.dumps(_final_view(bot, modal["id"]))
    assert "Not sent." in shown and "SMTP_USER" in shown and "app password" in shown
    assert "This should not leave." in shown  # the text is kept for the retry
    _send(bot, modal, _values("This should not leave."))  # a retry fails the same way
    assert "Not sent." in json.dumps(_final_view(bot, modal["id"], count=2))
    assert bot.repos.sent.all()[0].attempts == 2
    assert smtp_server.count() == before
    assert bot.repos.outreach.for_subscriber("cus_ann") == []
    assert not [
        m for m in bot.fake.thread(TRIAGE, message["ts"]) if "replied by email" in json.dumps(m)
    ]
    item = bot.repos.inbox.item(bot.repos.sent.all()[0].item_id)
    assert item.responded_at is None and item.status != ITEM_RESOLVED


def test_empty_text_is_a_field_error_and_nothing_typed_in_a_thread_reaches_a_customer(
    mail_bot, smtp_server
):
    bot = mail_bot()
    message, _, _ = _conversation(bot)
    modal = _open_reply(bot, message)
    before = smtp_server.count()
    answer = _send(bot, modal, _values("   "))
    assert answer == {
        "response_action": "errors",
        "errors": {ids.BLOCK_REPLY_TEXT: "Write your reply first."},
    }
    thread_message = {
        "type": "message", "channel": TRIAGE, "user": "U1", "text": "Ann, it ships today!",
        "ts": "1781530000.000100", "thread_ts": message["ts"], "channel_type": "channel",
    }  # fmt: skip
    bot.sender.event(thread_message)
    assert smtp_server.count() == before and bot.repos.sent.all() == []


def test_reply_needs_a_manager_and_sending_set_up(mail_bot, fake_slack):
    bot = mail_bot(SMTP_HOST="")
    message, _, _ = _conversation(bot)
    bot.sender.action(ids.ACTION_TRIAGE_REPLY, message=message, channel_id=TRIAGE, user_id="U1")
    [told] = bot.fake.wait_for(lambda: bot.fake.ephemerals("U1"))
    assert "SMTP_HOST" in json.dumps(told) and bot.fake.modals("U1") == []
