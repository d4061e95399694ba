"""Append-mostly records (events, outreach) sharded by subscriber, indexed by id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

from tinydb.table import Table

from bot.repos.changes import ChangeListeners
from bot.repos.loading import load, load_all
from bot.store import Store, iter_docs, rewrite

R = TypeVar("R")


class ShardedRecords(Generic[R]):
    """Records with an `id` and a `subscriber_id`; adding one rewrites one small shard."""

    name = ""

    def __init__(self, store: Store, cls: Any) -> None:
        self._store = store
        self._cls = cls
        self._tables = store.shard_tables(self.name)
        self._ids: set[str] | None = None
        self._by_subscriber: dict[str, list[dict[str, Any]]] = {}
        self.changes = ChangeListeners()  # who else must know (bot.worklist)
        store.on_undo(self._drop_index)

    def _drop_index(self) -> None:
        """Rebuild the index from the files on next use (a transaction was undone)."""
        self._ids, self._by_subscriber = None, {}
        self.changes(None)

    def _index(self) -> set[str]:
        if self._ids is None:
            ids: set[str] = set()
            for table, doc_id, doc in iter_docs(self._tables):
                if load(self._cls, doc, table, doc_id) is None:  # left in its file, unseen
                    continue
                ids.add(doc["id"])
                self._by_subscriber.setdefault(doc["subscriber_id"], []).append(doc)
            self._ids = ids
        return self._ids

    def add_many(self, records: Iterable[Any]) -> list[Any]:
        """Store records whose id is new, one write per shard. Returns those stored."""
        with self._store.lock:
            self._store.check_writable()
            ids = self._index()
            fresh: dict[str, Any] = {}
            for record in records:
                if record.id not in ids and record.id not in fresh:
                    fresh[record.id] = record
            groups: dict[int, tuple[Table, list[dict[str, Any]]]] = {}
            for record in fresh.values():
                table = self._store.shard_table(self.name, record.subscriber_id)
                groups.setdefault(id(table), (table, []))[1].append(record.to_doc())
            for table, docs in groups.values():
                table.insert_multiple(docs)
                for doc in docs:
                    ids.add(doc["id"])
                    self._by_subscriber.setdefault(doc["subscriber_id"], []).append(doc)
            if fresh:
                self.changes({r.subscriber_id for r in fresh.values()})
            return list(fresh.values())

    def remove(self, record_id: str, subscriber_id: str) -> bool:
        """Delete one record (a signal a person dismissed). Returns whether it was there."""
        with self._store.lock:
            self._store.check_writable()
            if record_id not in self._index():
                return False

            def drop(docs: dict[int, dict[str, Any]]) -> None:
                for doc_id in [k for k, d in docs.items() if d.get("id") == record_id]:
                    del docs[doc_id]

            rewrite(self._store.shard_table(self.name, subscriber_id), drop)
            self._index().discard(record_id)
            kept = [d for d in self._by_subscriber.get(subscriber_id, ()) if d["id"] != record_id]
            self._by_subscriber[subscriber_id] = kept
            self.changes([subscriber_id])
            return True

    def add(self, record: Any) -> bool:
        return bool(self.add_many([record]))

    def exists(self, record_id: str) -> bool:
        with self._store.lock:
            return record_id in self._index()

    def for_subscriber(self, subscriber_id: str) -> list[R]:
        with self._store.lock:
            self._index()
            docs = list(self._by_subscriber.get(subscriber_id, ()))
        return load_all(self._cls, docs, self._tables)

    def by_subscriber(self) -> dict[str, list[R]]:
        with self._store.lock:
            self._index()
            groups = {sid: list(docs) for sid, docs in self._by_subscriber.items()}
        return {sid: load_all(self._cls, docs, self._tables) for sid, docs in groups.items()}

    def raw_by_subscriber(self) -> dict[str, list[dict[str, Any]]]:
        """Stored documents grouped by subscriber, for bulk read paths (the engine).

        The lists are copies; the documents are the store's own: do not modify them.
        """
        with self._store.lock:
            self._index()
            return {sid: list(docs) for sid, docs in self._by_subscriber.items()}

    def all(self) -> Iterator[R]:
        with self._store.lock:
            self._index()
            docs = [d for docs in self._by_subscriber.values() for d in docs]
        yield from load_all(self._cls, docs, self._tables)

    def count(self) -> int:
        with self._store.lock:
            return len(self._index())
