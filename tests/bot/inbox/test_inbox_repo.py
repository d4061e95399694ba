"""InboxRepo on memory and JSON stores: items, claims, handled messages, sync state, counters."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.inbox.models import ConnectorStatus, InboxMessage, SyncState, TriageItem
from bot.repos import Repos
from bot.repos.inbox import InboxRepo, ItemNotFound, ItemUnavailable
from bot.store import Store

NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)


def make_item(
    inbox: InboxRepo, key: str = "<m1@x>", sender: str = "ann@example.com", subject: str = "box"
) -> TriageItem:
    item = TriageItem(
        id=inbox.new_item_id(key),
        key=key,
        subject=subject,
        normalized_subject=subject,
        sender=sender,
        created_at=NOW,
        last_message_at=NOW,
    )
    inbox.create_item(item)
    return item


def test_item_round_trips_and_is_found_by_id_and_key(repos):
    item = make_item(repos.inbox)

    assert repos.inbox.item(item.id.upper()) == item
    assert repos.inbox.item_by_key("<m1@x>") == item
    assert len(item.id) == 5 and item.id.isalnum()


def test_unknown_item_says_what_ids_look_like(repos):
    with pytest.raises(ItemNotFound, match="/care triage"):
        repos.inbox.require_item("zzzzz")


def test_item_ids_avoid_other_namespaces(repos):
    first = repos.inbox.new_item_id("<a@x>")

    other = repos.inbox.new_item_id("<a@x>", also_taken=lambda c: c == first)

    assert other != first


def test_creating_the_same_conversation_twice_is_refused(repos):
    item = make_item(repos.inbox)

    with pytest.raises(ValueError, match="already exists"):
        repos.inbox.create_item(item)


def test_second_claim_is_refused_with_claimant_name(repos):
    item = make_item(repos.inbox)
    repos.inbox.claim_item(item.id, "U1", NOW)

    with pytest.raises(ItemUnavailable, match="Already claimed by U1") as refused:
        repos.inbox.claim_item(item.id, "U2", NOW)

    assert refused.value.item.claimed_by == "U1"
    assert (
        repos.inbox.claim_item(item.id, "U1", NOW).claimed_by == "U1"
    )  # idempotent for the holder


def test_simultaneous_claims_have_exactly_one_winner(repos):
    item = make_item(repos.inbox)
    winners, losers = [], []
    start = threading.Barrier(8)

    def claim(user: str) -> None:
        start.wait()
        try:
            repos.inbox.claim_item(item.id, user, NOW)
            winners.append(user)
        except ItemUnavailable:
            losers.append(user)

    threads = [threading.Thread(target=claim, args=(f"U{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert len(winners) == 1 and len(losers) == 7
    assert repos.inbox.item(item.id).claimed_by == winners[0]


def test_resolved_item_cannot_be_claimed(repos):
    item = make_item(repos.inbox)

    def resolve(i: TriageItem) -> None:
        i.status = "resolved"

    repos.inbox.mutate_item(item.id, resolve)

    with pytest.raises(ItemUnavailable, match="resolved"):
        repos.inbox.claim_item(item.id, "U1", NOW)


def test_thread_lookup_respects_sender_subject_and_window(repos):
    item = make_item(repos.inbox, subject="my box")
    week_ago = NOW - timedelta(days=7)

    assert repos.inbox.find_thread("ann@example.com", "my box", week_ago).id == item.id
    assert repos.inbox.find_thread("bo@example.com", "my box", week_ago) is None
    assert repos.inbox.find_thread("ann@example.com", "other", week_ago) is None
    assert repos.inbox.find_thread("ann@example.com", "my box", NOW + timedelta(minutes=1)) is None
    assert repos.inbox.find_thread("ann@example.com", "", week_ago) is None


def test_active_items_are_oldest_first_without_resolved(repos):
    first = make_item(repos.inbox, key="<1@x>")
    second = make_item(repos.inbox, key="<2@x>")
    repos.inbox.mutate_item(first.id, lambda i: setattr(i, "created_at", NOW - timedelta(hours=1)))
    third = make_item(repos.inbox, key="<3@x>")
    repos.inbox.mutate_item(third.id, lambda i: setattr(i, "status", "resolved"))

    assert [i.id for i in repos.inbox.active_items()] == [first.id, second.id]


def test_message_records_dedupe_by_message_id(repos):
    record = InboxMessage("<m1@x>", "abcde", "posted", NOW, "C1", "1.1", 7, "imap:h/INBOX")

    assert repos.inbox.record_message(record) is True
    assert repos.inbox.record_message(record) is False
    assert repos.inbox.message("<m1@x>") == record
    assert repos.inbox.has_message("<m2@x>") is False


def test_sync_state_is_fresh_until_saved(repos):
    state = repos.inbox.sync_state("imap.example.com", "care", "INBOX")
    assert (state.uidvalidity, state.last_uid) == (0, 0)

    repos.inbox.save_sync(SyncState("imap.example.com", "care", "INBOX", 42, 17))

    assert repos.inbox.sync_state("imap.example.com", "care", "INBOX").last_uid == 17
    assert repos.inbox.sync_state("imap.example.com", "care", "Archive").last_uid == 0


def test_noise_counters_add_up_per_kind(repos):
    repos.inbox.count_noise("bounce")
    repos.inbox.count_noise("bounce")
    repos.inbox.count_noise("auto_reply", 3)

    assert repos.inbox.noise_counts() == {"bounce": 2, "auto_reply": 3}


def test_connector_status_round_trips(repos):
    status = ConnectorStatus(
        "care@h/INBOX", "retrying", False, NOW, None, 2, "OSError: refused", 5, NOW
    )
    repos.inbox.save_connector_status(status)

    assert repos.inbox.connector_status("care@h/INBOX") == status
    assert repos.inbox.connector_statuses() == [status]


def test_everything_survives_a_restart(tmp_path):
    store = Store(tmp_path / "data", shards=4)
    inbox = Repos.open(store).inbox
    item = make_item(inbox)
    inbox.record_message(InboxMessage("<m1@x>", item.id, "posted", NOW, "C1", "1.1"))
    inbox.save_sync(SyncState("h", "u", "INBOX", 9, 3))
    inbox.count_noise("bounce")
    store.close()

    with Store(tmp_path / "data", shards=4) as again:
        reopened = Repos.open(again).inbox

        assert reopened.item(item.id) == item
        assert reopened.has_message("<m1@x>")
        assert reopened.sync_state("h", "u", "INBOX").last_uid == 3
        assert reopened.noise_counts() == {"bounce": 1}
        assert reopened.find_thread("ann@example.com", "box", NOW).id == item.id
