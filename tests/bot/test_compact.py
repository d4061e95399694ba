"""Documents held compact (bot/compact.py): the same data, as bytes, on memory and on disk."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import datafile
from bot.compact import CompactDocs, EncodedDocs
from bot.repos import Repos
from bot.store import Store, raw_docs, shard_of
from tests.bot.repos.factories import event, outreach, subscriber, task


def test_subscribers_are_held_as_json_bytes_and_read_as_fresh_copies(repos: Repos) -> None:
    repos.subscribers.put(subscriber("cus_ann", "ann@example.com", "Ann Lee"))
    held = raw_docs(repos.store.table("subscribers"))
    assert isinstance(held, CompactDocs)
    assert all(isinstance(raw, bytes | msgspec.Raw) for raw in held.encoded.values())
    doc = repos.subscribers.raw_doc("cus_ann")
    assert doc is not None
    doc["name"] = "changed by a careless reader"
    assert repos.subscribers.get("cus_ann").name == "Ann Lee"


def test_the_file_is_plain_tinydb_json_and_reads_back_after_reopening(tmp_path: Path) -> None:
    ann = subscriber("cus_ann", "ann@example.com", 'Zoë "the" Quinn')
    with Store(tmp_path / "data", shards=8) as store:
        Repos.open(store).subscribers.put_many([ann, subscriber("cus_bob")])
    stored = json.loads((tmp_path / "data" / "subscribers.json").read_text())
    assert [d["id"] for d in stored["_default"].values()] == ["cus_ann", "cus_bob"]
    with Store(tmp_path / "data", shards=8) as store:
        repos = Repos.open(store)
        assert repos.subscribers.get("cus_ann") == ann
        assert [s.id for s in repos.subscribers.search("zoë")] == ["cus_ann"]
        assert [s.id for s in repos.subscribers.search("quinn")] == ["cus_ann"]
        assert [s.id for s in repos.subscribers.search('"the"')] == ["cus_ann"]


def test_text_msgspec_refuses_still_round_trips(tmp_path: Path) -> None:
    odd = subscriber("cus_odd", "odd@example.com", "bad header \udcff byte")
    with Store(tmp_path / "data", shards=8) as store:
        repos = Repos.open(store)
        repos.subscribers.put(odd)
        store.table("subscribers").insert({"id": "cus_nan", "score": float("nan")})
    with Store(tmp_path / "data", shards=8) as store:
        repos = Repos.open(store)
        assert repos.subscribers.get("cus_odd") == odd
        assert math.isnan(repos.subscribers.raw_doc("cus_nan")["score"])
        assert [s.id for s in repos.subscribers.search("bad header")] == ["cus_odd"]


def test_tinydb_writes_to_the_table_are_seen_by_the_repository(store: Store) -> None:
    repos = Repos.open(store)
    repos.subscribers.put(subscriber("cus_ann"))
    store.table("subscribers").insert(subscriber("cus_bob").to_doc())
    assert Repos.open(store).subscribers.ids() == ["cus_ann", "cus_bob"]
    Repos.open(store).subscribers.put(subscriber("cus_cid"))
    assert len(store.table("subscribers")) == 3  # no doc id taken twice


def test_an_undone_transaction_leaves_neither_the_subscriber_nor_its_index(
    file_store: Store,
) -> None:
    repos = Repos.open(file_store)
    repos.subscribers.put(subscriber("cus_ann"))
    with pytest.raises(RuntimeError), file_store.transaction():
        repos.subscribers.put(subscriber("cus_bob", "bob@example.com"))
        raise RuntimeError("the second half failed")
    assert repos.subscribers.get("cus_bob") is None
    assert repos.subscribers.by_email("bob@example.com") is None
    assert repos.subscribers.ids() == ["cus_ann"]
    repos.subscribers.put(subscriber("cus_cid"))
    assert repos.subscribers.ids() == ["cus_ann", "cus_cid"]


def test_tasks_events_and_outreach_are_held_as_json_bytes(file_store: Store) -> None:
    repos = Repos.open(file_store)
    repos.tasks.create(task("t1", "cus_ann"))
    repos.events.add_many([event("cus_ann", 1), event("cus_bob", 2)])
    repos.outreach.add(outreach("cus_ann", "t1", 1))
    for name, key in (("tasks", "cus_ann"), ("events", "cus_bob"), ("outreach", "cus_ann")):
        held = raw_docs(file_store.shard_table(name, key))
        assert isinstance(held, CompactDocs) and len(held) >= 1, name
        assert all(isinstance(raw, bytes | msgspec.Raw) for raw in held.encoded.values())
    reopened = Repos.open(Store(file_store.data_dir, read_only=True, shards=file_store.shards))
    assert reopened.tasks.get("t1") == repos.tasks.get("t1")
    assert [e.id for e in reopened.events.for_subscriber("cus_bob")] == [event("cus_bob", 2).id]


def test_a_task_write_encodes_only_the_task_it_changes(file_store: Store) -> None:
    repos = Repos.open(file_store)
    repos.tasks.create_many([task(f"t{n}", "cus_ann", key=f"k{n}") for n in range(30)])
    held = raw_docs(file_store.shard_table("tasks", "cus_ann")).encoded
    before = {doc_id: held[doc_id] for doc_id in held}

    def claim(t: object) -> None:
        t.claimed_by = "U1"  # type: ignore[attr-defined]

    repos.tasks.mutate("t7", claim)
    after = raw_docs(file_store.shard_table("tasks", "cus_ann")).encoded
    changed = [doc_id for doc_id in after if after[doc_id] is not before[doc_id]]
    assert len(changed) == 1 and b'"claimed_by":"U1"' in bytes(after[changed[0]])
    stored = json.loads((file_store.data_dir / "tasks" / f"{_shard(file_store)}.json").read_text())
    assert stored["_default"][changed[0]]["claimed_by"] == "U1" and len(stored["_default"]) == 30


def _shard(store: Store) -> str:
    return f"{shard_of('cus_ann', store.shards):02d}"


def test_records_of_a_subscriber_are_found_whatever_their_id_holds(store: Store) -> None:
    repos = Repos.open(store)
    odd = ['cus_"quoted"', "cus_back\\slash", "cus_zoë", "cus_\udcff", "cus_1", "cus_10"]
    for n, sid in enumerate(odd):
        repos.events.add_many([event(sid, n), event(sid, n + 100)])
        repos.tasks.create(task(f"t{n}", sid, key=f"{sid}:k"))
    for n, sid in enumerate(odd):
        assert {e.id for e in repos.events.for_subscriber(sid)} == {
            event(sid, n).id,
            event(sid, n + 100).id,
        }
        assert [t.id for t in repos.tasks.for_subscriber(sid)] == [f"t{n}"]
    grouped = repos.events.raw_by_subscriber()
    assert set(grouped) == set(odd) and all(len(grouped[sid]) == 2 for sid in odd)
    removed = event("cus_1", 4).id
    assert repos.events.remove(removed, "cus_1")
    assert removed not in {e.id for e in repos.events.for_subscriber("cus_1")}
    assert len(repos.events.for_subscriber("cus_10")) == 2


def test_a_shard_file_is_written_from_the_held_bytes_as_they_are() -> None:
    # Held documents are copied into the file: not decoded to text and encoded again (which
    # cost most of a task write's CPU at 1M, and refused bytes that are not UTF-8).
    held = {"1": b'{"id":"t1","note":"caf\xe9"}', "2": msgspec.json.encode({"id": "t2"})}
    out = io.BytesIO()
    datafile.write_tables({"_default": CompactDocs(held)}, out)
    assert out.getvalue() == b'{"_default":{"1":' + held["1"] + b',"2":{"id":"t2"}}}'


@given(
    writes=st.lists(st.tuples(st.integers(1, 40), st.booleans()), max_size=60),
    asked=st.integers(-2, 45),
)
def test_a_document_read_by_its_number_is_the_one_read_by_its_key(
    writes: list[tuple[int, bool]], asked: int
) -> None:
    """`raw_at(n)` is `get(str(n))` through writes and deletions (holes) in any order."""
    docs = EncodedDocs()
    for doc_id, keep in writes:
        docs[str(doc_id)] = msgspec.json.encode({"n": doc_id})
        if not keep:
            del docs[str(doc_id)]
    assert docs.raw_at(asked) == docs.get(str(asked))
