"""Sent mail: one record per outgoing email, by the caller's key (see `bot.outbox.models`).

Records are sharded by key (`sent_mail/<n>.json`), so sending one email rewrites one small
file: one table for all of them made every send rewrite every email ever sent, under the
store's lock (a second per email at 50,000 sent, and tech touch sends hundreds a day). A data
directory from before keeps them in `sent_mail.json`; the first write moves them into the
shards, in one store transaction (a kill leaves them all in one place or the other).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tinydb.table import Table

from bot.outbox.models import SentMail
from bot.repos.loading import load, load_all
from bot.store import Store, copy_doc, iter_docs, raw_docs, rewrite

T = TypeVar("T")
NAME = "sent_mail"


class SentMailRepo:
    """The sent mail, sharded by key; every change under the store's lock."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._legacy = store.table(NAME)  # one table for all: data directories from before

    def _table(self, key: str) -> Table:
        return self._store.shard_table(NAME, key)

    def _tables(self) -> list[Table]:
        return [*self._store.shard_tables(NAME), self._legacy]

    def _find(self, key: str) -> tuple[Table, int, dict[str, Any]] | None:
        for table in (self._table(key), self._legacy):
            for doc_id, doc in raw_docs(table).items():
                if doc.get("key") == key:
                    return table, int(doc_id), doc
        return None

    def get(self, key: str) -> SentMail | None:
        with self._store.lock:
            found = self._find(key)
            return load(SentMail, copy_doc(found[2]), found[0], found[1]) if found else None

    def put(self, record: SentMail) -> None:
        """Store `record`, replacing the one with its key."""
        doc = record.to_doc()
        with self._store.lock:
            self._store.check_writable()
            self._move_legacy()
            found = self._find(record.key)
            if found is None:
                self._table(record.key).insert(doc)
                return
            table, doc_id, _ = found

            def replace(docs: dict[int, dict[str, Any]]) -> None:
                docs[doc_id] = doc

            rewrite(table, replace)

    def _move_legacy(self) -> None:
        """Move the records of the one table of earlier versions into the shards, at once."""
        docs = list(raw_docs(self._legacy).values())
        if not docs:
            return
        with self._store.transaction({"action": "sent_mail_sharded"}):
            by_table: dict[int, tuple[Table, list[dict[str, Any]]]] = {}
            for doc in docs:
                table = self._table(str(doc.get("key", "")))
                by_table.setdefault(id(table), (table, []))[1].append(copy_doc(doc))
            for table, group in by_table.values():
                table.insert_multiple(group)
            self._legacy.truncate()

    def change(self, key: str, change: Callable[[SentMail], T]) -> tuple[SentMail, T]:
        """Apply `change` to the stored record under the lock and store it; returns both."""
        with self._store.lock:
            record = self.get(key)
            if record is None:
                raise KeyError(key)
            result = change(record)
            self.put(record)
            return record, result

    def _where(self, keep: Callable[[dict[str, Any]], bool]) -> list[SentMail]:
        """The records whose document `keep` accepts (one pass over every shard), oldest first."""
        tables = self._tables()
        with self._store.lock:
            docs = [doc for _, _, doc in iter_docs(tables) if keep(doc)]
        return sorted(load_all(SentMail, docs, tables), key=lambda m: m.created_at)

    def for_item(self, item_id: str) -> list[SentMail]:
        return self._where(lambda d: d.get("item_id") == item_id)

    def with_key_prefix(self, prefix: str) -> list[SentMail]:
        """The records whose key starts with `prefix`, oldest first."""
        return self._where(lambda d: str(d.get("key", "")).startswith(prefix))

    def all(self) -> list[SentMail]:
        return self._where(lambda d: True)
