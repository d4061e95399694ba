"""Sent mail: one record per outgoing email, by the caller's key (see `bot.outbox.models`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.outbox.models import SentMail
from bot.repos.loading import load, load_all
from bot.store import Store, copy_doc, raw_docs, rewrite

T = TypeVar("T")


class SentMailRepo:
    """The `sent_mail` table; every change under the store's lock."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table("sent_mail")

    def _find(self, key: str) -> tuple[int, dict[str, Any]] | None:
        for doc_id, doc in raw_docs(self._table).items():
            if doc.get("key") == key:
                return int(doc_id), doc
        return None

    def get(self, key: str) -> SentMail | None:
        with self._store.lock:
            found = self._find(key)
            return load(SentMail, copy_doc(found[1]), self._table, found[0]) if found else None

    def put(self, record: SentMail) -> None:
        """Store `record`, replacing the one with its key."""
        doc = record.to_doc()
        with self._store.lock:
            self._store.check_writable()
            found = self._find(record.key)
            if found is None:
                self._table.insert(doc)
                return
            doc_id = found[0]

            def replace(docs: dict[int, dict[str, Any]]) -> None:
                docs[doc_id] = doc

            rewrite(self._table, replace)

    def change(self, key: str, change: Callable[[SentMail], T]) -> tuple[SentMail, T]:
        """Apply `change` to the stored record under the lock and store it; returns both."""
        with self._store.lock:
            record = self.get(key)
            if record is None:
                raise KeyError(key)
            result = change(record)
            self.put(record)
            return record, result

    def for_item(self, item_id: str) -> list[SentMail]:
        with self._store.lock:
            docs = [d for d in raw_docs(self._table).values() if d.get("item_id") == item_id]
        return sorted(load_all(SentMail, docs, [self._table]), key=lambda m: m.created_at)

    def with_key_prefix(self, prefix: str) -> list[SentMail]:
        """The records whose key starts with `prefix` (one scan), oldest first."""
        with self._store.lock:
            docs = [
                d
                for d in raw_docs(self._table).values()
                if str(d.get("key", "")).startswith(prefix)
            ]
        return sorted(load_all(SentMail, docs, [self._table]), key=lambda m: m.created_at)

    def all(self) -> list[SentMail]:
        with self._store.lock:
            docs = list(raw_docs(self._table).values())
        return sorted(load_all(SentMail, docs, [self._table]), key=lambda m: m.created_at)
