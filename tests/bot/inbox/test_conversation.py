"""Which conversation an email joins: by its Message-ID headers, else by sender and subject
within the window; a reply to a resolved conversation reopens it."""

from __future__ import annotations

from tests.bot.inbox.mail import make_email, reply_to


def test_reply_with_in_reply_to_goes_into_the_thread(ingestor, poster, repos):
    first = make_email(subject="Box question", sender="bo@example.org")
    posted = ingestor.ingest(first, "webhook")

    result = ingestor.ingest(reply_to(first, "Any news?", sender="bo@example.org"), "webhook")

    assert result.status == "threaded" and result.item_id == posted.item_id
    assert [p.kind for p in poster.posts] == ["item", "reply"]
    assert poster.posts[1].item.slack["ts"] == posted.ts
    assert repos.inbox.require_item(posted.item_id).message_count == 2


def test_reply_from_a_colleague_address_still_threads_by_references(ingestor, poster):
    first = make_email(subject="Box question", sender="bo@example.org")
    posted = ingestor.ingest(first, "webhook")

    result = ingestor.ingest(reply_to(first, "Adding my wife", sender="cy@example.org"), "webhook")

    assert result.item_id == posted.item_id


def test_same_subject_and_sender_within_the_window_threads(ingestor, clock):
    posted = ingestor.ingest(make_email(subject="My box", sender="bo@example.org"), "webhook")
    clock.advance(days=13)

    again = ingestor.ingest(
        make_email(subject="RE: Fwd: my  box", sender="bo@example.org"), "webhook"
    )

    assert again.status == "threaded" and again.item_id == posted.item_id


def test_same_subject_after_the_window_is_a_new_item(ingestor, clock):
    posted = ingestor.ingest(make_email(subject="My box", sender="bo@example.org"), "webhook")
    clock.advance(days=15)

    later = ingestor.ingest(make_email(subject="Re: My box", sender="bo@example.org"), "webhook")

    assert later.status == "posted" and later.item_id != posted.item_id


def test_same_subject_from_another_sender_is_a_new_item(ingestor):
    posted = ingestor.ingest(make_email(subject="Help", sender="bo@example.org"), "webhook")

    other = ingestor.ingest(make_email(subject="Help", sender="cy@example.org"), "webhook")

    assert other.status == "posted" and other.item_id != posted.item_id


def test_reply_reopens_a_resolved_item(ingestor, poster, repos):
    first = make_email(subject="Box question", sender="bo@example.org")
    posted = ingestor.ingest(first, "webhook")
    repos.inbox.claim_item(posted.item_id, "U1", ingestor.clock.now())
    repos.inbox.mutate_item(posted.item_id, lambda i: setattr(i, "status", "resolved"))

    ingestor.ingest(reply_to(first, "Actually, one more thing", sender="bo@example.org"), "webhook")

    item = repos.inbox.require_item(posted.item_id)
    assert item.status == "open" and item.claimed_by == ""
    assert poster.posts[-1].context.reopened is True
