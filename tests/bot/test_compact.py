"""Subscribers held compact (bot/compact.py): the same data, as bytes, on memory and on disk."""

from __future__ import annotations

import json
import math
from pathlib import Path

import msgspec
import pytest

from bot.compact import CompactDocs
from bot.repos import Repos
from bot.store import Store, raw_docs
from tests.bot.repos.factories import subscriber


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
