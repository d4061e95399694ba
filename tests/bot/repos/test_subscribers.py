"""SubscriberRepo on memory and JSON storage: lookups, upsert, and reopening a JSON store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.lifecycle import MilestoneWindows
from bot.repos import Repos
from bot.repos import addresses as addresses_module
from bot.repos import subscriber_ids as ids_module
from bot.repos import subscribers as subscribers_module
from bot.store import Store
from config.rules import LifecycleRules
from tests.bot.repos.factories import subscriber


def test_put_then_get_returns_an_equal_subscriber(repos: Repos) -> None:
    ann = subscriber("cus_ann", "ann@example.com", "Ann Lee")
    repos.subscribers.put(ann)
    assert repos.subscribers.get("cus_ann") == ann
    assert repos.subscribers.get("cus_nobody") is None


def test_by_email_ignores_case_and_surrounding_space(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_ann", "ann@example.com"))
    found = repos.subscribers.by_email("  ANN@Example.COM ")
    assert found is not None and found.id == "cus_ann"


def test_by_email_finds_a_plus_tag_address_under_its_base_address(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_ann", "ann@example.com"))
    found = repos.subscribers.by_email("Ann+Billing@example.com")
    assert found is not None and found.id == "cus_ann"
    assert repos.subscribers.by_email("anna@example.com") is None


def test_exact_tagged_address_wins_over_the_base_address(repos: Repos) -> None:
    repos.subscribers.put_many(
        [subscriber("cus_ann", "ann@example.com"), subscriber("cus_vip", "ann+vip@example.com")]
    )
    assert repos.subscribers.by_email("ANN+VIP@example.com").id == "cus_vip"
    assert repos.subscribers.by_email("ann@example.com").id == "cus_ann"


def test_a_base_address_finds_the_first_stored_of_tagged_and_plain_holders(repos: Repos) -> None:
    repos.subscribers.put_many(
        [
            subscriber("cus_tag", "bo+a@example.com"),
            subscriber("cus_plain", "bo@example.com"),
            subscriber("cus_tag2", "bo+b@example.com"),
        ]
    )
    assert repos.subscribers.by_email("bo+zzz@example.com").id == "cus_tag"
    repos.subscribers.put(subscriber("cus_tag", "tag-gone@example.com"))
    assert repos.subscribers.by_email("bo+zzz@example.com").id == "cus_plain"
    repos.subscribers.put(subscriber("cus_plain", "bo+c@example.com"))
    assert repos.subscribers.by_email("bo@example.com").id == "cus_tag2"  # now by its base
    assert repos.subscribers.by_email("tag-gone+x@example.com").id == "cus_tag"
    repos.subscribers.put_many([subscriber("cus_tag2", "x@example.com")] * 2)
    assert repos.subscribers.by_email("bo+b@example.com").id == "cus_plain"
    assert repos.subscribers.by_email("x@example.com").id == "cus_tag2"


def test_stored_mixed_case_email_is_found_by_any_case(repos: Repos) -> None:
    repos.subscribers.put_many(
        [subscriber("cus_ann", "ann@example.com"), subscriber("cus_vip", "Ann+VIP@Example.com")]
    )
    assert repos.subscribers.by_email("ann+vip@example.com").id == "cus_vip"


def test_resolve_accepts_an_id_or_an_email(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_ann", "ann@example.com"))
    assert repos.subscribers.resolve(" cus_ann ").id == "cus_ann"
    assert repos.subscribers.resolve("Ann@example.com").id == "cus_ann"
    assert repos.subscribers.resolve("nobody") is None


def test_put_many_upserts_in_place_without_duplicates(repos: Repos) -> None:
    repos.subscribers.put_many([subscriber("cus_1"), subscriber("cus_2")])
    changed = subscriber("cus_2", name="Renamed", status="canceled")
    written = repos.subscribers.put_many([changed, subscriber("cus_3")])
    assert written == 2
    assert repos.subscribers.count() == 3
    assert sorted(repos.subscribers.ids()) == ["cus_1", "cus_2", "cus_3"]
    got = repos.subscribers.get("cus_2")
    assert got.name == "Renamed" and got.status == "canceled"
    assert len(list(repos.subscribers.raw())) == 3


def test_iter_raw_decodes_one_at_a_time_the_documents_raw_gives(repos: Repos) -> None:
    repos.subscribers.put_many([subscriber(f"cus_{i}") for i in range(4)])
    docs = repos.subscribers.iter_raw()
    assert not isinstance(docs, list)  # a pass over a million keeps one decoded at a time
    assert sorted(docs, key=lambda d: d["id"]) == sorted(
        repos.subscribers.raw(), key=lambda d: d["id"]
    )


def test_putting_the_same_subscribers_twice_changes_nothing(repos: Repos) -> None:
    subs = [subscriber(f"cus_{i}") for i in range(5)]
    repos.subscribers.put_many(subs)
    before = sorted(repos.subscribers.raw(), key=lambda d: d["id"])
    repos.subscribers.put_many(subs)
    assert sorted(repos.subscribers.raw(), key=lambda d: d["id"]) == before


def test_put_many_of_nothing_writes_nothing(repos: Repos) -> None:
    assert repos.subscribers.put_many([]) == 0
    assert repos.subscribers.count() == 0


def test_a_changed_email_is_found_and_the_old_one_is_not(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_ann", "ann@old.example"))
    repos.subscribers.put(subscriber("cus_ann", "ann@new.example"))
    assert repos.subscribers.by_email("ann@new.example").id == "cus_ann"
    assert repos.subscribers.by_email("ann@old.example") is None


def test_an_email_given_up_by_one_subscriber_finds_its_new_owner(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_old", "shared@example.com"))
    repos.subscribers.put(subscriber("cus_old", "moved@example.com"))
    repos.subscribers.put(subscriber("cus_new", "shared@example.com"))
    assert repos.subscribers.by_email("shared@example.com").id == "cus_new"


def test_changing_a_returned_subscriber_does_not_change_the_store(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_ann"))
    got = repos.subscribers.get("cus_ann")
    got.tags.append("vip")
    got.history.append({"field": "status", "from": "active", "to": "paused"})
    got.subscriptions[0].status = "paused"
    again = repos.subscribers.get("cus_ann")
    assert again.tags == [] and again.history == [] and again.status == "active"


def test_search_matches_name_or_email_fragments(repos: Repos) -> None:
    repos.subscribers.put_many(
        [
            subscriber("cus_1", "ann.lee@example.com", "Ann Lee"),
            subscriber("cus_2", "bob@shop.example", "Bob Stone"),
        ]
    )
    assert [s.id for s in repos.subscribers.search("stone")] == ["cus_2"]
    assert [s.id for s in repos.subscribers.search("ANN.LEE")] == ["cus_1"]
    assert repos.subscribers.search("   ") == []
    assert len(repos.subscribers.search("example", limit=1)) == 1


def test_a_reopened_json_store_finds_every_subscriber(tmp_path) -> None:
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        repos.subscribers.put_many(
            [subscriber(f"cus_{i}", f"Person{i}@example.com") for i in range(20)]
        )
        repos.subscribers.put(subscriber("cus_7", "seven@example.com", "Seven"))
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        assert repos.subscribers.count() == 20
        assert repos.subscribers.get("cus_7").name == "Seven"
        assert repos.subscribers.by_email("person3+x@example.com").id == "cus_3"
        assert repos.subscribers.get("cus_0").first_started == date(2026, 1, 10)


def test_search_matches_a_stored_mixed_case_email(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_vip", "Ann+VIP@Example.com", "Ann"))
    assert [s.id for s in repos.subscribers.search("+vip@")] == ["cus_vip"]


def test_a_shared_address_finds_the_first_holder_then_the_next(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_a", "team@example.com"))
    repos.subscribers.put(subscriber("cus_b", "Team@example.com"))
    assert repos.subscribers.by_email("team+x@example.com").id == "cus_a"
    repos.subscribers.put(subscriber("cus_a", "ops@example.com"))
    assert repos.subscribers.by_email("team@example.com").id == "cus_b"
    assert repos.subscribers.by_email("team+x@example.com").id == "cus_b"


ADDRESSES = ["ann@example.com", "ANN+x@example.com", "bo@example.com", "bo+y@example.com"]


# The id and address indexes hold hashes (bot/repos/hash_index.py): every answer is checked
# against the stored document. With every hash the same, each lookup meets every subscriber.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    puts=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.sampled_from(ADDRESSES)),
        min_size=1,
        max_size=12,
    ),
    buckets=st.sampled_from([1, 2, 1 << 62]),
)
def test_lookups_are_right_whatever_the_hashes_collide(
    puts: list[tuple[str, str]], buckets: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in (subscribers_module, ids_module, addresses_module):  # ids, and addresses
        monkeypatch.setattr(module, "key_hash", lambda key: hash(key) % buckets)
    repos = Repos.open(Store.memory())
    email_of: dict[str, str] = {}
    for sid, email in puts:
        repos.subscribers.put(subscriber(f"cus_{sid}", email))
        email_of[f"cus_{sid}"] = email
    for fresh in (repos, Repos.open(repos.store)):  # kept up to date, and built from the file
        found = fresh.subscribers
        assert found.count() == len(email_of)
        assert found.ids() == list(email_of)  # stored order: first put first
        for sid, email in email_of.items():
            got = found.get(sid)
            assert got is not None and got.email == email
        for address in ADDRESSES:
            holders = {sid for sid, email in email_of.items() if email.lower() == address.lower()}
            assert (
                (found.id_by_email(address) in holders)
                if holders
                else found.id_by_email(address) is None
            )
            held = found.by_email(address)
            if holders:
                assert held is not None and held.id in holders
        assert found.get("cus_z") is None


def test_reading_by_id_and_planning_read_each_document_once_and_no_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with Store(tmp_path) as store:
        Repos.open(store).subscribers.put_many(
            [subscriber(f"cus_{n}", f"n{n}@example.com") for n in range(50)]
        )
    reads: list[str] = []
    real_id, real_head = subscribers_module.read_id, subscribers_module.read_head
    for module in (subscribers_module, ids_module):  # the repository, and its id scan
        monkeypatch.setattr(module, "read_id", lambda raw: reads.append("id") or real_id(raw))
        monkeypatch.setattr(module, "read_head", lambda raw: reads.append("head") or real_head(raw))
    with Store(tmp_path, read_only=True) as store:
        repos = Repos.open(store)
        repos.subscribers.plan_candidates(MilestoneWindows(date(2026, 2, 10), LifecycleRules()), [])
        assert reads.count("head") == 50 and reads.count("id") == 0  # one pass for both indexes
        assert repos.subscribers.count() == 50
        sub = repos.subscribers.get("cus_7")
        assert sub is not None and sub.email == "n7@example.com"
        assert reads.count("id") == 0  # checked by its first bytes; no address index built
        found = repos.subscribers.by_email("n7@example.com")
        assert found is not None and found.id == "cus_7"  # built on the first read by address


def test_empty_says_whether_count_is_zero_whatever_the_documents_hold(tmp_path) -> None:
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        assert Repos.open(store).subscribers.empty()
    unreadable = {"1": {"id": 7, "email": "seven@example.com"}, "2": ["not", "a", "document"]}
    (data / "subscribers.json").write_text(json.dumps({"_default": unreadable}))
    for read_only in (True, False):
        with Store(data, shards=8, read_only=read_only) as store:
            repos = Repos.open(store)
            assert repos.subscribers.empty()
            assert repos.subscribers.count() == 0 and repos.subscribers.empty()
    with Store(data, shards=8) as store:
        Repos.open(store).subscribers.put(subscriber("cus_ann", "ann@example.com"))
    with Store(data, shards=8, read_only=True) as store:
        repos = Repos.open(store)
        assert not repos.subscribers.empty()
        assert repos.subscribers.count() == 1 and not repos.subscribers.empty()
