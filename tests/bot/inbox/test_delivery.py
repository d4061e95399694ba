"""The order of effects around a post: the record "posting" before the post, the stored item
finishing a new conversation's record in the same write."""

from __future__ import annotations

import pytest

from bot.inbox.ingest import Ingestor
from bot.inbox.models import MESSAGE_POSTED, MESSAGE_POSTING
from tests.bot.inbox.mail import SlackDown, make_email


def test_the_record_is_written_posting_before_the_post(repos, settings, clock, poster):
    ingestor = Ingestor(repos, settings, clock, poster)
    raw = make_email(subject="Billing", message_id="<bill@x>")
    poster.fail_next = 1

    with pytest.raises(SlackDown):
        ingestor.ingest(raw, "webhook")

    record = repos.inbox.message("<bill@x>")
    assert record is not None and record.status == MESSAGE_POSTING and record.item_id
    result = ingestor.ingest(raw, "webhook")
    assert result.status == "posted" and result.item_id == record.item_id
    assert poster.checked_first == [False, True]  # the retry looks in Slack first
    assert repos.inbox.message("<bill@x>").status == MESSAGE_POSTED


def test_the_stored_item_finishes_a_new_conversations_record_in_the_same_write(
    repos, settings, clock, poster, monkeypatch
):
    ingestor = Ingestor(repos, settings, clock, poster)
    raw = make_email(subject="Billing", message_id="<bill@x>")
    create = repos.inbox.create_item
    finished: list[tuple] = []
    monkeypatch.setattr(repos.inbox, "finish_message", lambda *args: finished.append(args))

    def full_disk(item):  # noqa: ANN001, ANN202
        raise OSError("disk full")

    monkeypatch.setattr(repos.inbox, "create_item", full_disk)
    with pytest.raises(OSError):
        ingestor.ingest(raw, "webhook")
    assert repos.inbox.message("<bill@x>").status == MESSAGE_POSTING  # posted, not stored

    monkeypatch.setattr(repos.inbox, "create_item", create)
    result = ingestor.ingest(raw, "webhook")

    assert result.status == "posted" and poster.checked_first == [False, True]
    record = repos.inbox.message("<bill@x>")
    assert (record.status, record.channel, record.ts) == (MESSAGE_POSTED, "CTRIAGE", result.ts)
    assert finished == []  # no second write of the record
    again = ingestor.ingest(raw, "webhook")
    assert (again.status, again.ts, len(poster.checked_first)) == ("duplicate", result.ts, 2)
