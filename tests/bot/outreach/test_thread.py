"""The outreach's triage thread (bot.outreach.thread) on both stores, with a recording poster
standing in for Slack (the end-to-end tests: tests/handlers/test_outreach_thread.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.inbox.delivery import PostFailed
from bot.inbox.models import ITEM_AWAITING, MESSAGE_SENT, SOURCE_OUTREACH, TriageItem
from bot.outbox.models import MAIL_FAILED, MAIL_SENT, SentMail
from bot.outreach.thread import OutreachThreads
from bot.repos import Repos
from bot.store import Store


class Refusal(Exception):
    """What the Slack side raises for a post Slack refuses for itself (SlackApiError-like)."""

    def __init__(self, error: str) -> None:
        super().__init__(f"The request to the Slack API failed: {error}")
        self.response = {"ok": False, "error": error}


class Poster:
    """Posts into a list; `down` makes it refuse like Slack in an outage, `refuse` like Slack
    refusing this message for itself (as the Slack side raises it: SlackApiError)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bool]] = []
        self.down = False
        self.refuse = ""

    def post_outreach(self, item: TriageItem, check_first: bool) -> tuple[str, str]:
        if self.down:
            raise PostFailed("Slack refused the triage post: internal_error")
        if self.refuse:
            raise Refusal(self.refuse)
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


def reopened(tmp_path):  # noqa: ANN001, ANN201 - a restart: the store read again from its files
    store = Store(tmp_path / "data", shards=8)
    return store, Repos.open(store)


def test_an_item_awaits_its_post_across_restarts_until_posted(tmp_path, clock):
    store, repos = reopened(tmp_path)
    poster = Poster()
    poster.down = True
    threads = OutreachThreads(repos, clock, poster)
    item = threads.record(sent_mail(clock), "Hi Ann").item
    automatic = replace(sent_mail(clock, by="care-bot"), key="email:V2", message_id="<auto@x>")
    threads.record(automatic, "Hi", post=False)  # waits for the answer, not the minute job
    assert [i.id for i in repos.inbox.awaiting_post()] == [item.id]
    store.close()

    store, repos = reopened(tmp_path)
    assert [i.id for i in repos.inbox.awaiting_post()] == [item.id]
    poster.down = False
    assert OutreachThreads(repos, clock, poster).post_pending() == 1
    assert repos.inbox.awaiting_post() == []
    store.close()

    store, repos = reopened(tmp_path)
    assert repos.inbox.awaiting_post() == [] and len(list(repos.inbox.items())) == 2
    store.close()


def test_a_post_slack_refuses_for_itself_is_parked_after_max_attempts_minutes(tmp_path, clock):
    store, repos = reopened(tmp_path)
    poster = Poster()
    poster.down = True
    threads = OutreachThreads(repos, clock, poster, max_attempts=3)
    item = threads.record(sent_mail(clock), "Hi Ann").item
    poster.down, poster.refuse = False, "invalid_blocks"
    for _ in range(2):
        clock.advance(minutes=1)
        assert threads.post_pending() == 0
    assert repos.inbox.dead.all() == [] and repos.inbox.awaiting_post()  # still tried
    clock.advance(minutes=1)
    threads.post_pending()
    (letter,) = repos.inbox.dead.all()
    assert (letter.attempts, letter.error, letter.source) == (
        3,
        "Slack refused the post: invalid_blocks",
        SOURCE_OUTREACH,
    )
    assert letter.subject == "How is it going?" and letter.sender == "ann@example.com"
    assert repos.inbox.awaiting_post() == []
    store.close()

    store, repos = reopened(tmp_path)  # parked stays parked
    assert repos.inbox.awaiting_post() == [] and repos.inbox.dead.count() == 1
    poster = Poster()
    threads = OutreachThreads(repos, clock, poster, max_attempts=3)
    # The customer answers: the ingest posts the item first, which unparks it.
    posted = threads.ensure_posted(repos.inbox.item(item.id))
    assert posted.slack.get("ts") and repos.inbox.dead.count() == 0
    assert "post_parked" not in posted.snapshot
    store.close()
