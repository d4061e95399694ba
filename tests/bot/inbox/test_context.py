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


def _with_reply_to(reply_to: str, subject: str = "My box") -> bytes:
    """A form's email whose Reply-To is written raw (a mail library would refuse it)."""
    return (
        "From: Shop forms <forms@shop.example>\r\nTo: support@shop.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@shop.example>\r\n"
        f"Reply-To: {reply_to}\r\n\r\nWhere is my box?\r\n"
    ).encode()


def test_a_reply_to_of_nested_comments_is_no_address_and_the_email_is_posted(ingestor, poster, ann):
    # The standard library's address parser recurses once per "(": thousands of them raised
    # RecursionError, and the email was parked instead of reaching triage.
    result = ingestor.ingest(_with_reply_to("(" * 5_000 + " ann@example.com"), "webhook")

    assert result.status == "posted"
    assert poster.posts[0].context.subscriber is None


def test_only_the_start_of_a_long_reply_to_is_read(ingestor, poster, ann):
    far = ingestor.ingest(_with_reply_to("x" * 3_000 + " <ann@example.com>"), "webhook")
    near = ingestor.ingest(_with_reply_to("Ann <ann@example.com>", "Other box"), "webhook")

    assert (far.status, near.status) == ("posted", "posted")
    assert poster.posts[0].context.subscriber is None  # past the header bound: not read
    assert poster.posts[1].context.subscriber.id == "cus_ann"
