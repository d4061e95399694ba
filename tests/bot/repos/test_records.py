"""Events and outreach (sharded, append-mostly records): dedupe by id, grouping, reopening."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.compact import decode_doc, encode_doc
from bot.repos import Repos
from bot.repos.records import JOIN_FROM, holding, needle
from bot.store import Store
from tests.bot.repos.factories import event, outreach


def test_adding_the_same_event_twice_stores_it_once(repos: Repos) -> None:
    e = event("cus_1", 1)
    assert repos.events.add(e) is True
    assert repos.events.add(e) is False
    assert repos.events.count() == 1
    assert repos.events.exists(e.id)
    assert repos.events.for_subscriber("cus_1") == [e]


def test_add_many_dedupes_within_the_batch_and_against_the_store(repos: Repos) -> None:
    repos.events.add(event("cus_1", 1))
    batch = [event("cus_1", 1), event("cus_1", 2), event("cus_2", 3), event("cus_1", 2)]
    stored = repos.events.add_many(batch)
    assert sorted(e.id for e in stored) == sorted({event("cus_1", 2).id, event("cus_2", 3).id})
    assert repos.events.count() == 3


def test_events_are_grouped_by_subscriber(repos: Repos) -> None:
    repos.events.add_many([event("cus_1", n) for n in range(3)] + [event("cus_2", 9)])
    groups = repos.events.by_subscriber()
    assert {sid: len(evs) for sid, evs in groups.items()} == {"cus_1": 3, "cus_2": 1}
    assert sorted(e.id for e in repos.events.all()) == sorted(
        e.id for evs in groups.values() for e in evs
    )
    assert repos.events.for_subscriber("cus_3") == []


def test_outreach_is_deduped_by_id_and_found_by_task(repos: Repos) -> None:
    first, second = outreach("cus_1", "k7qx2", 1), outreach("cus_1", "k7qx2", 2)
    other = outreach("cus_1", "abcde", 3)
    assert len(repos.outreach.add_many([first, second, first, other])) == 3
    assert repos.outreach.add(second) is False
    assert sorted(o.note for o in repos.outreach.for_task("k7qx2", "cus_1")) == [
        "touch 1",
        "touch 2",
    ]
    assert len(repos.outreach.latest("cus_1", limit=2)) == 2


def test_a_reopened_json_store_finds_every_record_and_still_dedupes(tmp_path) -> None:
    data = tmp_path / "data"
    events = [event(f"cus_{n % 7}", n) for n in range(50)]
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        repos.events.add_many(events)
        repos.outreach.add(outreach("cus_1", "k7qx2", 1))
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        assert repos.events.count() == 50
        assert repos.events.add_many(events) == []
        assert sorted(e.id for e in repos.events.for_subscriber("cus_3")) == sorted(
            e.id for e in events if e.subscriber_id == "cus_3"
        )
        assert [o.note for o in repos.outreach.for_subscriber("cus_1")] == ["touch 1"]


_ids = st.text(alphabet=["a", "b", "_", "\\", '"', "'", "é", "{", "}"], min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(docs=st.lists(st.tuples(_ids, _ids), max_size=3 * JOIN_FROM), key=_ids)
def test_holding_yields_every_document_that_holds_the_key_whole_and_under_its_id(docs, key):
    pairs = [
        (n * 3 + 1, encode_doc({"id": rid, "subscriber_id": sid}))
        for n, (rid, sid) in enumerate(docs)
    ]
    wanted = needle(key)
    found = list(holding(iter(pairs), key))

    stored = dict(pairs)
    assert all(stored[doc_id] == data for doc_id, data in found)  # whole documents, own ids
    assert [doc_id for doc_id, _ in found] == sorted({doc_id for doc_id, _ in found})
    holds = [d for d, raw in pairs if wanted is None or wanted in raw or b"\\" in raw]
    assert set(holds) <= {doc_id for doc_id, _ in found}
    assert {d for d, raw in pairs if decode_doc(raw)["subscriber_id"] == key} <= set(holds)


class _CountedLock:
    """The store's lock, noting the shards each hold (outermost acquire to release) reads."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner, self.depth, self.holds = inner, 0, list[set[int]]()

    def __enter__(self) -> _CountedLock:
        self.inner.acquire()
        if self.depth == 0:
            self.holds.append(set())
        self.depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1
        self.inner.release()

    def read(self, table) -> None:  # noqa: ANN001
        self.holds[-1].add(id(table) if self.depth else -1)


def test_grouping_every_record_holds_the_store_lock_one_shard_at_a_time(tmp_path, monkeypatch):
    """At a million subscribers grouping every event under the store's lock held every claim's
    answer (and the digest's edits) for 15 s, once in the engine's run and once in the metrics
    report. Each hold now reads one shard, and the groups are what is stored."""
    import bot.repos.records as records

    events = [event(f"cus_{n % 13}", n) for n in range(60)]
    with Store(tmp_path / "data", shards=8) as store:
        repos = Repos.open(store)
        repos.events.add_many(events)
        lock = _CountedLock(store.lock)
        table_docs = records.table_docs
        monkeypatch.setattr(store, "lock", lock)
        monkeypatch.setattr(records, "table_docs", lambda t: lock.read(t) or table_docs(t))
        grouped = {
            sid: sorted(d["id"] for d in docs)
            for sid, docs in repos.events.raw_by_subscriber().items()
        }
        decoded = {
            sid: sorted(e.id for e in evs) for sid, evs in repos.events.by_subscriber().items()
        }
    read = [h for h in lock.holds if h]
    # the first grouping reads each shard under its own hold; the second is the kept one
    assert len(read) == 8 and all(len(h) == 1 for h in read)
    expected: dict[str, list[str]] = {}
    for e in events:
        expected.setdefault(e.subscriber_id, []).append(e.id)
    assert grouped == decoded == {sid: sorted(ids) for sid, ids in expected.items()}


class _Undone(Exception):
    """Raised inside a transaction to undo it."""


def _grouping(records) -> dict[str, list]:
    return {sid: list(docs) for sid, docs in records.raw_by_subscriber().items()}


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["add", "add_many", "remove", "undone", "reopen"]),
            st.integers(0, 3),
            st.integers(0, 3),
        ),
        max_size=12,
    )
)
@example(steps=[("add", 1, 1), ("add", 1, 2), ("remove", 1, 1)])
def test_the_kept_grouping_equals_a_fresh_one_after_any_writes(steps) -> None:
    # The bulk readers' grouping is built once and then kept by writes: after any adds,
    # removals, an undone transaction or a reopen, it must be what a fresh read groups.
    import tempfile
    from pathlib import Path

    from bot.repos.events import EventRepo

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        store = Store(data, shards=4)
        repos = Repos.open(store)
        _grouping(repos.events)  # built before any write
        try:
            for what, customer, n in steps:
                sid = f"cus_{customer}"
                if what == "add":
                    repos.events.add(event(sid, n))
                elif what == "add_many":
                    repos.events.add_many([event(sid, n), event(f"cus_{n % 3}", n + 20)])
                elif what == "remove":
                    repos.events.remove(event(sid, n).id, sid)
                elif what == "undone":
                    try:
                        with store.transaction():
                            repos.events.add(event(sid, n + 40))
                            raise _Undone
                    except _Undone:
                        pass
                else:
                    store.close()
                    store = Store(data, shards=4)
                    repos = Repos.open(store)
                fresh = EventRepo(store)
                for sid in (f"cus_{n}" for n in range(4)):  # the kept grouping's, the shard's
                    assert repos.events.for_subscriber(sid) == fresh.for_subscriber(sid)
                    assert repos.events.docs_for_subscriber(sid) == fresh.docs_for_subscriber(sid)
                assert _grouping(repos.events) == _grouping(fresh)
                assert sum(map(len, _grouping(repos.events).values())) == fresh.count()
        finally:
            store.close()


def test_a_record_added_while_the_grouping_is_built_is_in_the_next_one(tmp_path) -> None:
    # The grouping is built one shard at a time under the store's lock: a write between two
    # shards must not leave a kept grouping without it.
    from bot.repos.events import EventRepo

    with Store(tmp_path / "data", shards=4) as store:
        repos = Repos.open(store)
        repos.events.add_many([event(f"cus_{n}", n) for n in range(8)])
        shards = repos.events._groups

        def adding_midway():
            for n, found in enumerate(shards()):
                yield found
                if n == 0:  # grouped shard 0 already: add to every shard
                    repos.events.add_many([event(f"cus_{n}", 30 + n) for n in range(8)])

        repos.events._groups = adding_midway  # type: ignore[method-assign]
        _grouping(repos.events)
        del repos.events._groups
        assert _grouping(repos.events) == _grouping(EventRepo(store))
        assert sum(map(len, _grouping(repos.events).values())) == 16


def test_once_grouped_a_subscribers_records_are_read_without_searching_their_shard(
    tmp_path, monkeypatch
) -> None:
    # Every posted digest entry reads its customer's events and outreach; a shard holds some
    # 130 events at 100k subscribers and 1,300 at a million. Once the engine's bulk read has
    # grouped them, that read must not search the shard (nor miss a record added since).
    import bot.repos.records as records

    with Store(tmp_path / "data", shards=4) as store:
        repos = Repos.open(store)
        repos.events.add_many([event(f"cus_{n % 5}", n) for n in range(40)])
        _grouping(repos.events)
        repos.events.add(event("cus_1", 99))
        searched: list[str] = []
        search = records.holding
        monkeypatch.setattr(
            records, "holding", lambda pairs, key: (searched.append(key), search(pairs, key))[1]
        )
        found = repos.events.for_subscriber("cus_1")
        assert searched == []
        assert [e.id for e in found] == [event("cus_1", n).id for n in (*range(1, 40, 5), 99)]
        assert repos.events.for_subscriber("cus_nobody") == [] and searched == []


def test_a_grouped_record_only_json_reads_is_read_from_its_shard(tmp_path) -> None:
    # A hand-edited document the struct decoder refuses (a lone surrogate, escaped) is still
    # read as the shard read reads it, grouped or not.
    with Store(tmp_path / "data", shards=4) as store:
        repos = Repos.open(store)
        repos.events.add(event("cus_1", 1))
        doc = {**event("cus_1", 2).to_doc(), "note": "lone"}
        odd = encode_doc(doc).replace(b'"lone"', b'"\\ud800"', 1)
        table = store.shard_table("events", "cus_1")
        from bot.compact import table_docs, write_docs

        write_docs(table, {table_docs(table).last_id() + 1: odd})
        fresh = Repos.open(store).events.for_subscriber("cus_1")
        _grouping(repos.events)
        assert len(fresh) == 2
        assert repos.events.for_subscriber("cus_1") == fresh
