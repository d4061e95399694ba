"""The outreach's triage thread (bot.outreach.thread) on both stores, with a recording poster
standing in for Slack (the end-to-end tests: tests/handlers/test_outreach_thread.py)."""

from __future__ import annotations

import pytest

from bot.inbox.ingest import PostFailed
from bot.inbox.models import ITEM_AWAITING, MESSAGE_SENT, SOURCE_OUTREACH, TriageItem
from bot.outbox.models import MAIL_FAILED, MAIL_SENT, SentMail
from bot.outreach.thread import OutreachThreads


class Poster:
    """Posts into a list; `down` makes it refuse like Slack in an outage."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bool]] = []
        self.down = False

    def post_outreach(self, item: TriageItem, check_first: bool) -> tuple[str, str]:
        if self.down:
            raise PostFailed("Slack refused the triage post: internal_error")
        self.posts.append((item.id, check_first))
        return "C0TRIAGE", f"100.{len(self.posts)}"


def sent_mail(clock, status: str = MAIL_SENT, by: str = "U1", **fields) -> SentMail:  # noqa: ANN001
    return SentMail(
        key="email:V1",
        message_id="<abc.123@example.com>",
        status=status,
        to="Ann@Example.com",
        subject="How is it going?",
        by=by,
        created_at=clock.now(),
        sent_at=clock.now() if status == MAIL_SENT else None,
        subscriber_id="cus_ann",
        **fields,
    )


def test_a_sent_email_becomes_an_awaiting_item_keyed_by_its_message_id(repos, clock):
    poster = Poster()
    threads = OutreachThreads(repos, clock, poster)

    result = threads.record(sent_mail(clock), "Hi Ann", "Ann Lee", ["t1"])

    item = repos.inbox.item_by_key("<abc.123@example.com>")
    assert result.posted and result.item.id == item.id and not result.warning
    assert (item.status, item.source, item.sender, item.message_count) == (
        ITEM_AWAITING,
        SOURCE_OUTREACH,
        "ann@example.com",
        0,
    )
    assert item.slack == {"channel": "C0TRIAGE", "ts": "100.1"}
    assert (item.outreach_by, item.outreach_tasks, item.opened_at) == ("U1", ["t1"], None)
    assert repos.inbox.message("<abc.123@example.com>").status == MESSAGE_SENT
    assert not item.active  # nobody's work until the customer answers
    threads.record(sent_mail(clock), "Hi Ann", "Ann Lee")  # a double click, a retry
    assert poster.posts == [(item.id, False)] and len(list(repos.inbox.items())) == 1


def test_a_refused_post_waits_and_is_posted_once_later_looking_first(repos, clock):
    poster = Poster()
    poster.down = True
    threads = OutreachThreads(repos, clock, poster)

    result = threads.record(sent_mail(clock), "Hi Ann")

    assert not result.posted and "posted within minutes" in result.warning
    assert repos.inbox.item_by_key("<abc.123@example.com>").slack == {}
    assert threads.post_pending() == 0  # still down
    poster.down = False
    clock.advance(minutes=1)
    assert threads.post_pending() == 1
    assert poster.posts == [(result.item.id, True)]  # an earlier try may have posted it
    assert threads.post_pending() == 0


@pytest.mark.parametrize("status", [MAIL_FAILED, "sending", "uncertain"])
def test_only_a_sent_email_gets_a_thread(repos, clock, status):
    threads = OutreachThreads(repos, clock, Poster())
    assert threads.record(sent_mail(clock, status=status)).item is None
    assert list(repos.inbox.items()) == []


def test_without_a_triage_channel_nothing_is_recorded(repos, clock):
    assert OutreachThreads(repos, clock, None).record(sent_mail(clock)).item is None
    assert list(repos.inbox.items()) == []


def test_an_automatic_email_is_recorded_unposted_until_the_customer_answers(repos, clock):
    poster = Poster()
    threads = OutreachThreads(repos, clock, poster)

    result = threads.record(
        sent_mail(clock, by="care-bot"), "Hi Ann", "Ann Lee", ["t1"], post=False
    )

    item = repos.inbox.item_by_key("<abc.123@example.com>")
    assert result.item.id == item.id and not result.posted and not result.warning
    assert (item.outreach_by, item.outreach_tasks, item.slack) == ("", ["t1"], {})
    assert repos.inbox.message("<abc.123@example.com>").item_id == item.id
    clock.advance(minutes=5)
    assert threads.post_pending() == 0 and poster.posts == []  # waits for the answer
    assert threads.ensure_posted(item).slack == {"channel": "C0TRIAGE", "ts": "100.1"}
    assert poster.posts == [(item.id, False)]
