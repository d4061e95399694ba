# ruff: noqa: F811  (the tests take the fixtures imported from test_triage)
"""Inbox faults driven as the webhook sender and Dovecot would: each email is posted once,
a bad one never blocks the ones behind it, and Slack's lies never double a triage post."""

from __future__ import annotations

import json
from datetime import date

import pytest

import bot.rescore
from bot.inbox.models import MESSAGE_POSTED
from bot.repos.inbox import InboxRepo
from handlers.triage_jobs import remind
from tests.bot.inbox.mail import make_email
from tests.bot.inbox.test_parse_hostile import UTF8_EMAIL
from tests.handlers.conftest import add_subscriber, message_text
from tests.handlers.test_triage import (  # noqa: F401  (fixtures)
    clock_at_monday,
    inbox_bot,
    post_inbox,
    start_imap_bot,
)

TRIAGE = "C0TRIAGE"


def triage_texts(bot) -> list[str]:  # noqa: ANN001
    return [message_text(m) for m in bot.fake.messages(TRIAGE)]


def test_raw_utf8_address_over_the_webhook_is_posted_once_and_later_mail_flows(inbox_bot):
    bot = inbox_bot
    status, answer = post_inbox(bot, UTF8_EMAIL)
    again = post_inbox(bot, UTF8_EMAIL)  # the sender retries anyway
    later = post_inbox(bot, make_email(subject="Later mail"))

    assert (status, answer["status"]) == (200, "posted")
    assert again == (200, {"ok": True, "status": "duplicate", "item": answer["item"]})
    assert later[1]["status"] == "posted"
    texts = triage_texts(bot)
    assert len(texts) == 2 and "josé@exämple.com" in texts[0] and "Later mail" in texts[1]
    item = bot.repos.inbox.item(answer["item"])
    assert item is not None and item.sender == "josé@exämple.com"
    assert bot.repos.inbox.message("<ça-1@exämple.com>").status == MESSAGE_POSTED


def test_email_without_subject_is_posted_listed_counted_and_reminded(inbox_bot):
    bot = inbox_bot
    raw = b"From: ann@example.com\r\nMessage-ID: <nosub@x>\r\n\r\nWhere is my box?\r\n"
    assert post_inbox(bot, raw)[1]["status"] == "posted"

    status, _, listing = bot.sender.command("triage", user_id="U1")
    assert status == 200 and "(no subject)" in listing and "1 open inbox item" in listing
    assert bot.sender.command("stats", user_id="U1")[0] == 200
    bot.clock.advance(hours=3)
    assert remind(bot.services.triage) == 1
    reply = make_email(subject="", body="Any news?", headers={"In-Reply-To": "<nosub@x>"})
    assert post_inbox(bot, reply)[1]["status"] == "threaded"


def test_a_failed_write_after_the_post_never_posts_twice(inbox_bot, monkeypatch):
    bot = inbox_bot
    real = InboxRepo.create_item
    failures = iter([OSError("No space left on device")])

    def create_item(self, item):  # noqa: ANN001, ANN202  (a full disk cannot be made as root)
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(self, item)

    monkeypatch.setattr(InboxRepo, "create_item", create_item)
    email = make_email(subject="Disk full")

    assert post_inbox(bot, email)[0] == 500
    status, answer = post_inbox(bot, email)  # the sender's retry

    assert (status, answer["status"]) == (200, "posted")
    assert len(bot.fake.messages(TRIAGE)) == 1
    assert bot.repos.inbox.item(answer["item"]).slack["ts"] == bot.fake.messages(TRIAGE)[0]["ts"]


@pytest.fixture
def churn_refresh_breaks(monkeypatch):
    """A bug that fails every cancel email for a non-Slack reason (the engine raising)."""

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("the risk engine fell over")

    monkeypatch.setattr(bot.rescore, "refresh_churn_risk", broken)
    return monkeypatch


def _imap_bot(fake_slack, tmp_path, clock, dovecot):  # noqa: ANN001, ANN202
    bot_ = start_imap_bot(fake_slack, tmp_path, clock, dovecot)
    add_subscriber(bot_.repos, "cus_ann", "Ann Lee", "ann@example.com", date(2025, 3, 1))
    return bot_, bot_.services.triage.connector


@pytest.mark.imap
def test_raw_utf8_address_over_imap_is_posted_once_and_does_not_block_later_mail(
    fake_slack,
    tmp_path,
    clock_at_monday,  # noqa: F811
    dovecot_server,
):
    bot_, connector = _imap_bot(fake_slack, tmp_path, clock_at_monday, dovecot_server)
    try:
        dovecot_server.append(UTF8_EMAIL)
        dovecot_server.append(make_email(subject="Later mail"))

        assert [r.status for r in connector.poll_once().results] == ["posted", "posted"]
        assert connector.poll_once().results == ()
        texts = triage_texts(bot_)
        assert len(texts) == 2 and "josé@exämple.com" in texts[0]
        assert all("$CareHandled" in dovecot_server.flags(u) for u in dovecot_server.uids())
    finally:
        bot_.stop()


@pytest.mark.imap
def test_a_permanently_failing_imap_email_is_parked_and_the_next_is_delivered(
    fake_slack,
    tmp_path,
    clock_at_monday,  # noqa: F811
    dovecot_server,
    churn_refresh_breaks,
):
    bot_, connector = _imap_bot(fake_slack, tmp_path, clock_at_monday, dovecot_server)
    try:
        dovecot_server.append(make_email(subject="Please cancel", body="Cancel please."))
        dovecot_server.append(make_email(subject="Later mail"))

        assert [connector.poll_once().status for _ in range(2)] == ["error", "error"]
        third = connector.poll_once()

        assert [r.status for r in third.results] == ["parked", "posted"]
        assert ["Later mail" in t for t in triage_texts(bot_)] == [True]
        assert connector.poll_once().results == ()  # parked, flagged, not fetched again
        [letter] = bot_.repos.inbox.dead.all()
        assert letter.source.startswith("imap:") and letter.attempts == 3
        assert json.dumps(letter.to_doc())
    finally:
        bot_.stop()
