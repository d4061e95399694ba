"""The shared inbox end to end: webhook and Dovecot into the running bot, out to the fake Slack
(`handlers/triage.py`; the buttons, commands, minute job and posting have their own files)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.inbox.webhook import sign
from handlers.triage_post import POST_ATTEMPTS
from tests.bot.inbox.mail import make_email, reply_to
from tests.fakeslack.server import FakeSlack
from tests.handlers.conftest import MONDAY_MORNING, CareBot, add_subscriber, start_bot
from tests.inbox_server import USERS

SECRET = "inbox-webhook-secret"


@pytest.fixture
def inbox_bot(fake_slack: FakeSlack, tmp_path: Path, clock_at_monday) -> Iterator[CareBot]:
    bot = start_bot(
        fake_slack,
        tmp_path / "data",
        clock_at_monday,
        CARE_TRIAGE_CHANNEL="C0TRIAGE",
        INBOX_WEBHOOK_SECRET=SECRET,
    )
    add_subscriber(bot.repos, "cus_ann", "Ann Lee", "ann@example.com", date(2025, 3, 1))
    yield bot
    bot.runtime.stop()


@pytest.fixture
def clock_at_monday():
    from bot.clock import FixedClock

    return FixedClock(MONDAY_MORNING)


def post_inbox(bot: CareBot, body: bytes, signature: str | None = "sign") -> tuple[int, dict]:
    port = bot.runtime.server.port  # type: ignore[attr-defined]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "message/rfc822"}
    if signature == "sign":
        headers["X-Care-Signature"] = sign(body, SECRET)
    elif signature is not None:
        headers["X-Care-Signature"] = signature
    try:
        conn.request("POST", "/inbox", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    except (ConnectionResetError, BrokenPipeError):  # the server may stop reading a huge body
        return 413, {}
    finally:
        conn.close()


def all_text(fake: FakeSlack, channel: str) -> str:
    return json.dumps([fake.messages(channel), [c.args for c in fake.calls()]])


def test_signed_cancel_email_posts_triage_item_with_context_and_opens_churn_task(inbox_bot):
    email = make_email(subject="Please cancel my subscription", body="I want to cancel, thanks.")
    status, answer = post_inbox(inbox_bot, email)
    assert status == 200 and answer["status"] == "posted"
    [message] = inbox_bot.fake.messages("C0TRIAGE")
    text = json.dumps(message["blocks"])
    assert "Ann Lee" in text and "Please cancel my subscription" in text
    assert "Claim" in text and "Resolve" in text
    churn = [t for t in inbox_bot.repos.tasks.for_subscriber("cus_ann") if t.kind == "churn_risk"]
    assert len(churn) == 1 and churn[0].active
    assert [e.type for e in inbox_bot.repos.events.for_subscriber("cus_ann")] == ["cancel_request"]
    item = inbox_bot.repos.inbox.item(answer["item"])
    assert item is not None and item.churn_task_id == churn[0].id


def test_unsigned_or_wrongly_signed_webhook_gets_401_and_changes_nothing(inbox_bot):
    email = make_email()
    assert post_inbox(inbox_bot, email, signature=None)[0] == 401
    assert post_inbox(inbox_bot, email, signature="sha256=" + "0" * 64)[0] == 401
    assert inbox_bot.fake.messages("C0TRIAGE") == []
    assert inbox_bot.repos.inbox.count_items() == 0


def test_webhook_body_over_10_mb_gets_413(inbox_bot):
    status, _ = post_inbox(inbox_bot, b"x" * (10 * 1024 * 1024 + 1))
    assert status == 413
    assert inbox_bot.fake.messages("C0TRIAGE") == []


def test_hostile_email_pings_nobody(inbox_bot):
    email = make_email(
        subject="<!channel> urgent <@U123>",
        body="Hello <!everyone> and <!here>, click <http://evil.example|here> &amp; more",
        sender="<!channel> <mallory@example.com>",
    )
    assert post_inbox(inbox_bot, email)[0] == 200
    posted = all_text(inbox_bot.fake, "C0TRIAGE")
    for raw in ("<!channel>", "<!everyone>", "<!here>", "<@U123>", "<http://evil"):
        assert raw not in posted


def test_reply_goes_into_the_thread_not_a_new_item(inbox_bot):
    first = make_email(subject="Where is my box?", body="It has not arrived.")
    post_inbox(inbox_bot, first)
    status, answer = post_inbox(inbox_bot, reply_to(first, "Any news?"))
    assert status == 200 and answer["status"] == "threaded"
    [parent] = inbox_bot.fake.messages("C0TRIAGE")
    replies = inbox_bot.fake.thread("C0TRIAGE", parent["ts"])
    assert any("Any news?" in json.dumps(r) for r in replies[1:])


def test_same_email_twice_is_posted_once(inbox_bot):
    email = make_email()
    assert post_inbox(inbox_bot, email)[1]["status"] == "posted"
    assert post_inbox(inbox_bot, email)[1]["status"] == "duplicate"
    assert len(inbox_bot.fake.messages("C0TRIAGE")) == 1


def start_imap_bot(fake_slack, tmp_path, clock, dovecot) -> CareBot:  # noqa: ANN001
    """A bot reading the test Dovecot, its connector driven by hand (`poll_once`)."""
    bot = start_bot(
        fake_slack, tmp_path / "data", clock, CARE_TRIAGE_CHANNEL="C0TRIAGE", **imap_env(dovecot)
    )
    return by_hand(bot)


def imap_env(dovecot) -> dict[str, str]:  # noqa: ANN001
    """The settings of a bot reading the test Dovecot's `care` mailbox, polled by hand."""
    return {
        "IMAP_HOST": dovecot.host,
        "IMAP_PORT": str(dovecot.port),
        "IMAP_USER": "care",
        "IMAP_PASSWORD": USERS["care"],
        "IMAP_SSL": "false",
        "IMAP_POLL_SECONDS": "3600",
    }


def by_hand(bot: CareBot) -> CareBot:
    """Stop `bot`'s IMAP connector thread: the test drives its polls (`poll_once`)."""
    triage = bot.services.triage
    triage.stop()
    triage.connector.stop_event.clear()
    return bot


def test_imap_mail_reaches_slack_once_even_through_a_slack_outage(
    fake_slack, tmp_path, clock_at_monday, dovecot_server
):
    bot = start_imap_bot(fake_slack, tmp_path, clock_at_monday, dovecot_server)
    try:
        connector = bot.services.triage.connector
        dovecot_server.append(make_email(subject="First"))
        fake_slack.fail_next("chat.postMessage", status=500, times=POST_ATTEMPTS)  # every try
        assert connector.poll_once().handled == 0
        assert fake_slack.messages("C0TRIAGE") == []
        assert dovecot_server.flags(dovecot_server.uids()[0]) & {"$CareHandled"} == set()
        dovecot_server.append(make_email(subject="Second"))
        assert connector.poll_once().handled == 2
        assert connector.poll_once().handled == 0
        subjects = [json.dumps(m["blocks"]) for m in fake_slack.messages("C0TRIAGE")]
        assert len(subjects) == 2 and "First" in subjects[0] and "Second" in subjects[1]
        assert all("$CareHandled" in dovecot_server.flags(uid) for uid in dovecot_server.uids())
        assert all("\\Seen" not in dovecot_server.flags(uid) for uid in dovecot_server.uids())
    finally:
        bot.runtime.stop()


def test_webhook_without_a_secret_is_not_served(bots):
    bot = bots(CARE_TRIAGE_CHANNEL="C0TRIAGE")

    status, answer = post_inbox(bot, make_email())

    assert status == 404 and answer["ok"] is False
    assert bot.repos.inbox.active_items() == []


def _raw_email(headers: str, body: str = "Hi, my box never came.") -> bytes:
    """An email as raw bytes, headers exactly as given (UTF-8, RFC 6532 style)."""
    lines = [*headers.strip().splitlines(), "Date: Mon, 15 Jun 2026 13:00:00 +0000"]
    lines += ["Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def test_email_without_a_subject_is_posted_and_triage_and_stats_still_work(inbox_bot):
    """Issue 8: the item was stored without its empty subject, and /care triage, /care stats
    and the reminders then failed with a 500."""
    email = _raw_email("From: Ann Lee <ann@example.com>\nMessage-ID: <nosubject@mail.example>")
    status, answer = post_inbox(inbox_bot, email)
    assert (status, answer["status"]) == (200, "posted")
    [item] = inbox_bot.repos.inbox.active_items()
    assert item.subject == ""
    for text in ("triage", "stats"):
        status, _, body = inbox_bot.sender.command(text, user_id="U1")
        assert status == 200, (text, body)
        assert "(no subject)" in body or text == "stats"


def test_raw_utf8_headers_are_stored_and_a_retry_is_not_posted_again(inbox_bot):
    """Issue 8: undecodable header text (lone surrogates) failed the store write after the
    post ('surrogates not allowed'), so the webhook answered 500 and each retry posted again."""
    email = _raw_email(
        "From: Zoë Ürban <zoë@exämple.com>\nSubject: Où est ma boîte\nMessage-ID: <ü1@exämple.com>"
    )
    first, second = post_inbox(inbox_bot, email), post_inbox(inbox_bot, email)
    assert (first[0], second[0]) == (200, 200)
    assert len(inbox_bot.fake.messages("C0TRIAGE")) == 1
    assert inbox_bot.repos.inbox.count_items() == 1


def test_the_triage_message_says_when_the_email_was_sent(inbox_bot):
    post_inbox(inbox_bot, make_email(date="Mon, 15 Jun 2026 13:05:00 +0000"))

    [message] = inbox_bot.fake.messages("C0TRIAGE")

    sent = int(datetime(2026, 6, 15, 13, 5, tzinfo=UTC).timestamp())
    assert f"<!date^{sent}^" in json.dumps(message["blocks"][0])
