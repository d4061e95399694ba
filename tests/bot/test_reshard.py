"""Spreading an aggregate over more shard files (bot/reshard.py) and when tasks do it."""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import datafile
from bot.models import TASK_CLAIMED, Task
from bot.repos import Repos
from bot.repos import tasks as tasks_module
from bot.repos.tasks import _subscriber_of
from bot.reshard import reshard
from bot.store import STORE_META, ReadOnlyError, Store, StoreError, shard_of
from tests.bot.repos.factories import task

# Shard keys as they come: plain, non-ASCII, a lone surrogate (from undecodable mail headers).
SUBSCRIBERS = ["cus_1", "cus_2", "cus_3", "cus_ümlaut", "cus_\ud800x", "cus_7", "x"]
UNREADABLE = {"note": "unreadable"}


def assert_every_task_once(repos: Repos, expected: dict[str, Task]) -> None:
    """Every task listed once, found by id, key and subscriber, and nothing else."""
    listed = [t.id for t in repos.tasks.all()]
    assert Counter(listed) == Counter(list(expected)), "a task lost or doubled"
    assert repos.tasks.count() == len(expected)
    for task_id, want in expected.items():
        assert repos.tasks.require(task_id) == want
        assert repos.tasks.by_key(want.key).id == task_id
    for sid in {t.subscriber_id for t in expected.values()}:
        found = sorted(t.id for t in repos.tasks.for_subscriber(sid))
        assert found == sorted(i for i, t in expected.items() if t.subscriber_id == sid)


def unreadable_docs(store: Store) -> int:
    return sum(
        1 for table in store.shard_tables("tasks") for doc in table.all() if doc == UNREADABLE
    )


@contextlib.contextmanager
def a_store(kind: str) -> Iterator[Store]:
    if kind == "memory":
        yield Store.memory(shards=2)
        return
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "data", shards=2) as store:
        yield store


create = st.tuples(st.just("create"), st.lists(st.sampled_from(SUBSCRIBERS), max_size=12))
claim = st.tuples(st.just("claim"), st.integers(0, 10_000))
spread = st.tuples(st.just("reshard"), st.sampled_from([2, 4]))


@pytest.mark.parametrize("kind", ["memory", "file"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(st.one_of(create, claim, spread), max_size=8))
def test_every_task_is_found_once_after_any_reshard_and_writes(kind, ops):
    with a_store(kind) as store:
        repos = Repos.open(store)
        store.table("tasks/01").insert(UNREADABLE)  # no id: kept in a file, out of every view
        expected: dict[str, Task] = {}
        for op, arg in ops:
            if op == "create":
                new = [
                    task(f"t{len(expected) + n:04d}", sid, f"k{len(expected) + n}")
                    for n, sid in enumerate(arg)
                ]
                assert repos.tasks.create_many(new) == new
                expected.update((t.id, t) for t in new)
            elif op == "claim" and expected:
                task_id = sorted(expected)[arg % len(expected)]
                done, _ = repos.tasks.mutate(task_id, lambda t: setattr(t, "status", TASK_CLAIMED))
                expected[task_id] = done
            elif op == "reshard":
                reshard(store, "tasks", store.shard_count("tasks") * arg, _subscriber_of)
            assert_every_task_once(repos, expected)
        assert unreadable_docs(store) == 1
        for t in expected.values():  # each where its subscriber's shard is
            assert t.id in {d.get("id") for d in store.shard_table("tasks", t.subscriber_id).all()}
        if store.data_dir is None:
            return
        count, data = store.shard_count("tasks"), store.data_dir
        store.close()
        for read_only in (True, False):
            with Store(data, read_only=read_only) as again:
                assert again.shard_count("tasks") == count
                assert_every_task_once(Repos.open(again), expected)
                assert unreadable_docs(again) == 1


@pytest.fixture
def low_bounds(monkeypatch):
    """The daily job spreads past 2 tasks a shard, to 1; a write itself only past 4."""
    monkeypatch.setattr(tasks_module, "SPREAD_ABOVE", 2)
    monkeypatch.setattr(tasks_module, "SPREAD_TO", 1)
    monkeypatch.setattr(tasks_module, "SPREAD_FAR", 4)


def some_tasks(n: int, prefix: str = "t") -> list[Task]:
    return [task(f"{prefix}{i:04d}", f"cus_{i % 5}", f"k{prefix}{i}") for i in range(n)]


def test_the_daily_spread_moves_tasks_past_the_bound_and_a_write_below_the_far_one_never_does(
    tmp_path, low_bounds
):
    data = tmp_path / "data"
    with Store(data, shards=2) as store:
        repos = Repos.open(store)
        reported: list[object] = []
        repos.tasks.changes.add(reported.append)
        repos.tasks.create_many(some_tasks(4))  # 2 a shard: not past the bound
        assert repos.tasks.spread() is False
        repos.tasks.create(task("t0099", "cus_9", "k99"))  # 2.5 a shard: the write leaves it
        assert store.shard_count("tasks") == 2
        assert {p.name for p in (data / "tasks").iterdir()} == {
            f"{shard_of(f'cus_{i}', 2):02d}.json" for i in (0, 1, 2, 3, 9)
        }
        assert repos.tasks.spread() is True  # the daily job's: 5 -> 8 files
        assert store.shard_count("tasks") == 8
        assert repos.tasks.spread() is False  # once is enough
        assert reported == [{f"cus_{i}" for i in range(4)}, {"cus_9"}]  # the spread reports none
        names = {p.name for p in (data / "tasks").iterdir()}
        assert names == {f"8-{shard_of(f'cus_{i}', 8):05d}.json" for i in (0, 1, 2, 3, 9)}
        assert '"tasks": 8' in (data / STORE_META).read_text()
        assert repos.tasks.count() == 5


def test_a_write_far_past_the_bound_spreads_the_tasks_itself(tmp_path, low_bounds):
    with Store(tmp_path / "data", shards=2) as store:
        repos = Repos.open(store)
        repos.tasks.create_many(some_tasks(8))  # 4 a shard: at the far bound, not past it
        assert store.shard_count("tasks") == 2
        repos.tasks.create(task("t0099", "cus_9", "k99"))  # 4.5 a shard: 9 -> 16 files
        assert store.shard_count("tasks") == 16
        assert_every_task_once(repos, {t.id: repos.tasks.require(t.id) for t in repos.tasks.all()})


@pytest.mark.parametrize("kind", ["memory", "file"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.integers(0, 9), max_size=8), daily=st.lists(st.booleans(), max_size=8))
def test_a_write_spreads_only_when_it_leaves_a_shard_past_the_far_bound(kind, batches, daily):
    bounds = {"SPREAD_ABOVE": 2, "SPREAD_TO": 1, "SPREAD_FAR": 4}
    with pytest.MonkeyPatch.context() as patch, a_store(kind) as store:
        for name, value in bounds.items():
            patch.setattr(tasks_module, name, value)
        repos = Repos.open(store)
        made = 0
        for n, size in enumerate(batches):
            before = store.shard_count("tasks")
            repos.tasks.create_many(some_tasks(size, prefix=f"b{n}"))
            made += size
            far = made > 4 * before
            assert (store.shard_count("tasks") > before) is far
            if far:  # spread until a shard holds at most one
                assert made <= store.shard_count("tasks") < 2 * made
            if n < len(daily) and daily[n]:
                shards = store.shard_count("tasks")
                assert repos.tasks.spread() is (made > 2 * shards)
            assert repos.tasks.count() == made


def test_no_spread_inside_a_transaction_until_the_next_write_after_it(tmp_path, low_bounds):
    with Store(tmp_path / "data", shards=2) as store:
        repos = Repos.open(store)
        with store.transaction():
            repos.tasks.create_many(some_tasks(9))  # 4.5 a shard: past the far bound
            assert store.shard_count("tasks") == 2
            assert repos.tasks.spread() is False
        repos.tasks.mutate("t0000", lambda t: setattr(t, "status", TASK_CLAIMED))
        assert store.shard_count("tasks") == 2  # an update adds nothing
        repos.tasks.create(task("t0099", "cus_9", "k99"))
        assert store.shard_count("tasks") == 16
        assert_every_task_once(repos, {t.id: repos.tasks.require(t.id) for t in repos.tasks.all()})
        assert repos.tasks.count() == 10


def test_an_old_store_is_spread_by_the_daily_spread_not_by_reading_it(tmp_path, monkeypatch):
    data = tmp_path / "data"
    with Store(data, shards=2) as store:
        Repos.open(store).tasks.create_many(some_tasks(7))
    monkeypatch.setattr(tasks_module, "SPREAD_ABOVE", 2)
    monkeypatch.setattr(tasks_module, "SPREAD_TO", 1)
    with Store(data, read_only=True) as store:  # a preview never writes
        repos = Repos.open(store)
        assert repos.tasks.count() == 7
        assert repos.tasks.spread() is False
        assert store.shard_count("tasks") == 2
    with Store(data) as store:  # indexing the tasks (a claim's first read) does not spread
        repos = Repos.open(store)
        assert repos.tasks.count() == 7
        assert store.shard_count("tasks") == 2
        assert repos.tasks.spread() is True  # the bot's start-up, the daily job: 7 -> 8 files
        assert store.shard_count("tasks") == 8
        assert repos.tasks.count() == 7
        assert not (data / "tasks" / "00.json").exists()


def test_a_spread_that_cannot_write_its_files_leaves_the_old_ones_in_use(
    tmp_path, low_bounds, monkeypatch
):
    data = tmp_path / "data"

    def full_disk() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(datafile, "sync_all", full_disk)
    with Store(data, shards=2) as store:
        repos = Repos.open(store)
        repos.tasks.create_many(some_tasks(5))
        assert repos.tasks.spread() is False  # the spread fails and is logged
        assert store.shard_count("tasks") == 2
        assert all(p.name in ("00.json", "01.json") for p in (data / "tasks").iterdir())
        repos.tasks.create_many(some_tasks(5, prefix="u"))  # 5 a shard, past the far bound
        assert repos.tasks.spread() is False  # not tried again in this process
        assert store.shard_count("tasks") == 2
        assert repos.tasks.count() == 10
    with Store(data) as store:
        assert Repos.open(store).tasks.count() == 10


def test_reshard_refuses_a_count_it_cannot_split_into_or_a_store_it_may_not_write(tmp_path):
    with Store(tmp_path / "data", shards=4) as store:
        Repos.open(store).tasks.create(task("t0001"))
        for count in (4, 2, 6):
            with pytest.raises(ValueError, match="multiple of 4"):
                reshard(store, "tasks", count, _subscriber_of)
        with store.transaction(), pytest.raises(StoreError, match="transaction"):
            reshard(store, "tasks", 8, _subscriber_of)
    with Store(tmp_path / "data", read_only=True) as store, pytest.raises(ReadOnlyError):
        reshard(store, "tasks", 8, _subscriber_of)


def test_a_preview_opened_before_the_bot_spread_the_tasks_still_reads_every_task(
    tmp_path, monkeypatch
):
    data = tmp_path / "data"
    with Store(data, shards=2) as store:
        Repos.open(store).tasks.create_many(some_tasks(7))
    with Store(data, read_only=True) as preview:
        seen = Repos.open(preview)  # store.json read: 2 shards
        monkeypatch.setattr(tasks_module, "SPREAD_ABOVE", 2)
        monkeypatch.setattr(tasks_module, "SPREAD_TO", 1)
        with Store(data) as bot:  # the bot starts meanwhile: spread, the old files removed
            assert Repos.open(bot).tasks.spread() is True
            assert not (data / "tasks" / "00.json").exists()
        assert seen.tasks.count() == 7
        assert preview.shard_count("tasks") == 8
        assert_every_task_once(seen, {t.id: t for t in some_tasks(7)})
