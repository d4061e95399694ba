"""Who wrote: the sender matched to a subscriber by From, tagged or upper-case, or Reply-To."""

from __future__ import annotations

from tests.bot.inbox.mail import make_email


def test_unknown_sender_is_posted_without_a_subscriber(ingestor, poster, ann):
    ingestor.ingest(make_email(sender="stranger@example.org"), "webhook")

    assert poster.posts[0].context.subscriber is None
    assert poster.posts[0].context.risk is None


def test_tagged_and_upper_case_address_matches_the_subscriber(ingestor, poster, ann):
    ingestor.ingest(make_email(sender="Ann <ANN+orders@Example.com>"), "webhook")

    assert poster.posts[0].context.subscriber.id == "cus_ann"


def test_contact_form_reply_to_matches_the_subscriber(ingestor, poster, ann):
    raw = make_email(sender="forms@shop.example", headers={"Reply-To": "Ann <ann@example.com>"})

    ingestor.ingest(raw, "webhook")

    assert poster.posts[0].context.subscriber.id == "cus_ann"
