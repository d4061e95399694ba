"""TaskRepo on memory and JSON storage: unique keys, typeable ids, mutate, reopening."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ids import ALPHABET
from bot.models import TASK_CLAIMED, TASK_DONE, Task
from bot.repos import Repos, TaskNotFound, task_places
from bot.store import Store
from tests.bot.repos.factories import subscriber, task


def test_create_stores_a_task_found_by_id_key_and_subscriber(repos: Repos) -> None:
    t = task("k7qx2", "cus_1", "checkin_30")
    assert repos.tasks.create(t) is True
    assert repos.tasks.get("k7qx2") == t
    assert repos.tasks.by_key("cus_1:checkin_30") == t
    assert repos.tasks.has_key("cus_1:checkin_30")
    assert repos.tasks.for_subscriber("cus_1") == [t]
    assert repos.tasks.for_subscriber("cus_2") == []


def test_create_refuses_a_second_task_with_the_same_key(repos: Repos) -> None:
    assert repos.tasks.create(task("aaaaa", "cus_1", "checkin_30")) is True
    assert repos.tasks.create(task("bbbbb", "cus_1", "checkin_30")) is False
    assert repos.tasks.get("bbbbb") is None
    assert repos.tasks.count() == 1


def test_create_refuses_an_id_already_used_by_another_key(repos: Repos) -> None:
    repos.tasks.create(task("aaaaa", "cus_1", "checkin_30"))
    with pytest.raises(ValueError, match="aaaaa"):
        repos.tasks.create(task("aaaaa", "cus_2", "checkin_30"))
    assert repos.tasks.count() == 1


def test_create_many_skips_existing_and_repeated_keys(repos: Repos) -> None:
    repos.tasks.create(task("aaaaa", "cus_1", "onboarding"))
    created = repos.tasks.create_many(
        [
            task("bbbbb", "cus_1", "onboarding"),  # key exists
            task("ccccc", "cus_2", "onboarding"),
            task("ddddd", "cus_2", "onboarding"),  # same key as the one before
            task("eeeee", "cus_3", "checkin_90"),
        ]
    )
    assert [t.id for t in created] == ["ccccc", "eeeee"]
    assert sorted(t.id for t in repos.tasks.all()) == ["aaaaa", "ccccc", "eeeee"]


def test_lookup_by_id_ignores_case_and_space(repos: Repos) -> None:
    repos.tasks.create(task("k7qx2"))
    assert repos.tasks.get(" K7QX2 ").id == "k7qx2"
    assert repos.tasks.require("k7qx2").id == "k7qx2"


def test_require_names_the_missing_id_and_where_ids_come_from(repos: Repos) -> None:
    with pytest.raises(TaskNotFound, match=r"'zzzzz'.*digest"):
        repos.tasks.require("zzzzz")


def test_new_ids_are_unique_short_and_typeable(repos: Repos) -> None:
    ids = set()
    for n in range(400):
        key = f"cus_{n}:checkin_30"
        tid = repos.tasks.new_id(key)
        assert len(tid) == 5 and set(tid) <= set(ALPHABET)
        assert not set(tid) & set("01ilo")
        assert repos.tasks.create(task(tid, f"cus_{n}", key=key))
        ids.add(tid)
    assert len(ids) == 400 == repos.tasks.count()


def test_new_id_is_stable_for_a_key_and_avoids_taken_ids(repos: Repos) -> None:
    first = repos.tasks.new_id("cus_1:checkin_30")
    assert repos.tasks.new_id("cus_1:checkin_30") == first
    repos.tasks.create(task(first, "cus_9", key="cus_9:onboarding"))
    assert repos.tasks.new_id("cus_1:checkin_30") != first


def test_mutate_writes_the_change_and_returns_the_result(repos: Repos) -> None:
    repos.tasks.create(task("k7qx2"))
    at = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)

    def claim(t: Task) -> str:
        t.status, t.claimed_by, t.claimed_at = TASK_CLAIMED, "U42", at
        return "claimed"

    written, result = repos.tasks.mutate("K7QX2", claim)
    assert result == "claimed" and written.claimed_by == "U42"
    stored = repos.tasks.get("k7qx2")
    assert (stored.status, stored.claimed_by, stored.claimed_at) == (TASK_CLAIMED, "U42", at)
    assert [t.id for t in repos.tasks.active()] == ["k7qx2"]


def test_a_task_marked_done_leaves_the_active_list(repos: Repos) -> None:
    repos.tasks.create(task("aaaaa", "cus_1"))
    repos.tasks.create(task("bbbbb", "cus_2"))
    repos.tasks.mutate("aaaaa", lambda t: setattr(t, "status", TASK_DONE))
    assert [t.id for t in repos.tasks.active()] == ["bbbbb"]
    assert len(list(repos.tasks.all())) == 2


def test_mutate_of_an_unknown_task_raises_task_not_found(repos: Repos) -> None:
    with pytest.raises(TaskNotFound):
        repos.tasks.mutate("zzzzz", lambda t: None)


def test_a_change_that_raises_writes_nothing(repos: Repos) -> None:
    repos.tasks.create(task("k7qx2"))

    def half_done(t: Task) -> None:
        t.claimed_by = "U1"
        t.risk_reasons.append("half-written reason")
        t.slack["ts"] = "1.2"
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        repos.tasks.mutate("k7qx2", half_done)
    stored = repos.tasks.get("k7qx2")
    assert (stored.claimed_by, stored.risk_reasons, stored.slack) == ("", [], {})


def test_a_change_may_not_alter_the_id_or_key(repos: Repos) -> None:
    repos.tasks.create(task("k7qx2"))
    with pytest.raises(ValueError, match="never change"):
        repos.tasks.mutate("k7qx2", lambda t: setattr(t, "key", "other"))
    assert repos.tasks.get("k7qx2").key == "cus_1:checkin_30"


def test_changing_a_returned_task_does_not_change_the_store(repos: Repos) -> None:
    repos.tasks.create(task("k7qx2"))
    got = repos.tasks.get("k7qx2")
    got.risk_reasons.append("leaked")
    got.slack["channel"] = "C1"
    assert repos.tasks.get("k7qx2").risk_reasons == []
    assert repos.tasks.get("k7qx2").slack == {}


def test_a_reopened_json_store_finds_every_task_and_key(tmp_path) -> None:
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        for n in range(30):
            repos.tasks.create(task(repos.tasks.new_id(f"cus_{n}:x"), f"cus_{n}", key=f"cus_{n}:x"))
        tid = repos.tasks.by_key("cus_5:x").id
        repos.tasks.mutate(tid, lambda t: setattr(t, "claimed_by", "U7"))
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        assert repos.tasks.count() == 30
        assert repos.tasks.get(tid).claimed_by == "U7"
        assert not repos.tasks.create(task("zzzzz", "cus_5", key="cus_5:x"))


def test_a_task_write_leaves_the_subscriber_file_alone(file_store: Store) -> None:
    repos = Repos.open(file_store)
    repos.subscribers.put_many([subscriber(f"cus_{n}") for n in range(200)])
    subs_file = file_store.data_dir / "subscribers.json"
    before = os.stat(subs_file)
    repos.tasks.create(task("k7qx2", "cus_3"))
    repos.tasks.mutate("k7qx2", lambda t: setattr(t, "claimed_by", "U1"))
    after = os.stat(subs_file)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    written = [p for p in (file_store.data_dir / "tasks").glob("*.json")]
    assert len(written) == 1


# The id and key indexes hold hashes (bot/repos/hash_index.py), each answer checked against
# the stored task: with every hash the same, each lookup meets every task.
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    made=st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("xyz")), max_size=10),
    buckets=st.sampled_from([1, 3, 1 << 62]),
)
def test_task_lookups_are_right_whatever_the_hashes_collide(
    made: list[tuple[str, str]], buckets: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_places, "key_hash", lambda key: hash(key) % buckets)
    repos = Repos.open(Store.memory())
    stored: dict[str, Task] = {}  # key -> the task created under it
    for tid, sid in made:
        t = task(f"t{tid}{sid}", f"cus_{sid}", key=f"cus_{sid}:k{tid}")
        if t.key not in stored and all(s.id != t.id for s in stored.values()):
            assert repos.tasks.create(t)
            stored[t.key] = t
        elif t.key in stored:
            assert not repos.tasks.create(t)  # a second task under a key: refused
    for fresh in (repos, Repos.open(repos.store)):  # kept up to date, and built from the files
        assert fresh.tasks.count() == len(stored)
        for key, t in stored.items():
            assert fresh.tasks.get(t.id) == t and fresh.tasks.by_key(key) == t
        for sid in "xyz":
            mine = [t for t in stored.values() if t.subscriber_id == f"cus_{sid}"]
            assert sorted(fresh.tasks.for_subscriber(f"cus_{sid}"), key=str) == sorted(
                mine, key=str
            )
        assert fresh.tasks.get("tnone") is None and not fresh.tasks.has_key("cus_x:none")
        assert fresh.tasks.new_id("cus_x:new") not in {t.id for t in stored.values()}
