"""The ingest service: dedupe, noise, cancel signals and the intents they fold in, failures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.inbox.ingest import Ingestor
from bot.models import Subscriber
from tests.bot.inbox.mail import RecordingPoster, SlackDown, make_email, reply_to
from tests.conftest import SHARED


def test_new_email_is_posted_once_with_the_subscriber_context(ingestor, poster, repos, ann):
    raw = make_email(subject="Where is my order?", body="It has not arrived yet.")

    result = ingestor.ingest(raw, "webhook")

    assert result.status == "posted" and result.subscriber_id == "cus_ann"
    [post] = poster.posts
    assert post.kind == "item" and post.context.subscriber.id == "cus_ann"
    assert post.context.intent == "delivery"
    assert post.context.risk is not None and post.context.risk.band == "low"
    item = repos.inbox.require_item(result.item_id)
    assert item.slack == {"channel": "CTRIAGE", "ts": result.ts}
    assert (item.sender, item.subscriber_id, item.intent) == (
        "ann@example.com",
        "cus_ann",
        "delivery",
    )


def test_same_message_again_is_a_duplicate_and_posts_nothing(ingestor, poster):
    raw = make_email()
    first = ingestor.ingest(raw, "webhook")

    again = ingestor.ingest(raw, "imap:h/INBOX")

    assert again.status == "duplicate"
    assert (again.item_id, again.ts) == (first.item_id, first.ts)
    assert len(poster.posts) == 1


def test_cancel_request_records_a_signal_and_links_the_churn_task(ingestor, poster, repos, ann):
    raw = make_email(subject="Cancel my subscription", body="Please cancel, thanks.")

    result = ingestor.ingest(raw, "webhook")

    [event] = [e for e in repos.events.for_subscriber("cus_ann") if e.type == "cancel_request"]
    assert event.source == "inbox"
    churn = [t for t in repos.tasks.for_subscriber("cus_ann") if t.kind == "churn_risk"]
    assert len(churn) == 1 and churn[0].active
    context = poster.posts[0].context
    assert context.churn_task.id == churn[0].id and context.open_task.id == churn[0].id
    assert context.risk.band == "high"
    assert repos.inbox.require_item(result.item_id).churn_task_id == churn[0].id


def _requests(repos):
    return [e for e in repos.events.for_subscriber("cus_ann") if e.type == "cancel_request"]


def test_a_weak_cancel_request_is_pending_and_adds_nothing_to_the_score(
    ingestor, poster, repos, ann
):
    result = ingestor.ingest(make_email(subject="Question", body="How do I cancel?"), "webhook")

    assert _requests(repos) == [] and repos.tasks.for_subscriber("cus_ann") == []
    assert poster.posts[0].context.cancel == "pending"
    item = repos.inbox.require_item(result.item_id)
    assert (item.intent, item.cancel, item.cancel_confidence) == ("cancel", "pending", 0.5)
    assert item.triggers == {"cancel": "How do I cancel?"}


def test_a_negated_cancel_records_nothing_and_keeps_the_other_intent(ingestor, repos, ann):
    raw = make_email(subject="December", body="Please skip December and don't cancel my plan.")

    result = ingestor.ingest(raw, "webhook")

    assert _requests(repos) == []
    item = repos.inbox.require_item(result.item_id)
    assert (item.intent, item.intents, item.cancel) == ("pause_skip", ["pause_skip"], "")
    assert item.set_aside == [["cancel", "negated", "don't cancel my plan."]]


def test_a_cancel_request_from_a_stranger_has_nothing_to_count(ingestor, repos):
    raw = make_email(subject="Please cancel my subscription", sender="who@example.org")

    item = repos.inbox.require_item(ingestor.ingest(raw, "webhook").item_id)

    assert (item.intent, item.cancel) == ("cancel", "")


def test_with_cancel_confidence_1_every_request_waits_for_a_person(repos, settings, clock, ann):
    strict = replace(settings, triage=replace(settings.triage, cancel_confidence=1.0))
    ingestor = Ingestor(repos, strict, clock, RecordingPoster())

    result = ingestor.ingest(make_email(subject="Please cancel my subscription"), "webhook")

    assert _requests(repos) == []
    assert repos.inbox.require_item(result.item_id).cancel == "pending"


def test_a_reply_adds_its_intents_and_a_counted_request_replaces_a_pending_one(
    ingestor, poster, repos, ann
):
    first = make_email(subject="My box", body="How do I cancel?")
    posted = ingestor.ingest(first, "webhook")
    ingestor.ingest(reply_to(first, "Please refund the last box and cancel my plan."), "webhook")

    item = repos.inbox.require_item(posted.item_id)
    assert (item.intents, item.cancel, item.cancel_confidence) == (
        ["cancel", "billing"],
        "counted",
        0.95,
    )
    assert item.triggers["cancel"] == "cancel my plan."
    assert len(_requests(repos)) == 1 and item.churn_task_id
    assert poster.posts[1].context.changed


def test_second_cancel_email_keeps_one_churn_task(ingestor, repos, ann):
    ingestor.ingest(make_email(subject="Cancel please"), "webhook")
    ingestor.ingest(make_email(subject="cancel NOW"), "webhook")

    churn = [t for t in repos.tasks.for_subscriber("cus_ann") if t.kind == "churn_risk"]
    assert len(churn) == 1
    assert (
        len([e for e in repos.events.for_subscriber("cus_ann") if e.type == "cancel_request"]) == 2
    )


def test_noise_is_counted_not_posted(ingestor, poster, repos):
    ooo = make_email(subject="Automatic reply: Your box", body="Out until Monday")

    result = ingestor.ingest(ooo, "webhook")
    again = ingestor.ingest(ooo, "webhook")

    assert result.status == again.status == "noise" and result.kind == "auto_reply"
    assert poster.posts == []
    assert repos.inbox.noise_counts() == {"auto_reply": 2}


def test_bounce_for_a_subscriber_is_recorded_on_them(ingestor, poster, repos):
    repos.subscribers.put(Subscriber(id="cus_aol", email="user@aol.com"))
    raw = (SHARED / "email-corpus/flanker/bounce/mailbox-full.eml").read_bytes()

    result = ingestor.ingest(raw, "imap:h/INBOX")
    ingestor.ingest(raw, "imap:h/INBOX")  # fetched again after a crash: one event still

    assert result.status == "noise" and result.kind == "bounce"
    [event] = repos.events.for_subscriber("cus_aol")
    assert (event.type, event.source) == ("bounce", "inbox")
    assert "user@aol.com" in event.note
    assert poster.posts == []


def test_poster_failure_records_nothing_and_the_retry_posts_once(ingestor, poster, repos):
    raw = make_email(subject="Billing", body="I was charged twice")
    poster.fail_next = 1

    with pytest.raises(SlackDown):
        ingestor.ingest(raw, "webhook")

    assert repos.inbox.count_items() == 0
    result = ingestor.ingest(raw, "webhook")
    assert result.status == "posted"
    assert len(poster.posts) == 1 and repos.inbox.count_items() == 1


def test_failed_reply_post_leaves_the_item_unchanged(ingestor, poster, repos):
    first = make_email(subject="Box question", sender="bo@example.org")
    posted = ingestor.ingest(first, "webhook")
    reply = reply_to(first, "Hello?", sender="bo@example.org")
    poster.fail_next = 1

    with pytest.raises(SlackDown):
        ingestor.ingest(reply, "webhook")

    assert repos.inbox.require_item(posted.item_id).message_count == 1
    assert ingestor.ingest(reply, "webhook").status == "threaded"


def test_hostile_text_reaches_the_poster_unchanged_for_it_to_escape(ingestor, poster):
    ingestor.ingest(make_email(subject="<!channel>", body="<@U123> <http://evil|click>"), "webhook")

    parsed = poster.posts[0].parsed
    assert parsed.subject == "<!channel>"
    assert parsed.text == "<@U123> <http://evil|click>"
