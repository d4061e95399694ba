"""Parked emails (the inbox's dead-letter list) and the failure counts that lead there.

A failure count is kept per email (by a digest of its raw bytes) in the inbox state table;
after `Ingestor.max_attempts` failures the email is parked: a `DeadLetter` record in
`inbox_dead` plus its raw bytes (base64) in a file of its own, `inbox_dead/raw/<key>`, so the
list stays small to read while the email can still be retried as it arrived.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.ids import short_id
from bot.inbox.models import DeadLetter
from bot.repos.loading import load_all
from bot.store import Store, raw_docs, rewrite

LETTERS, RAW = "inbox_dead", "inbox_dead/raw"


class DeadLetters:
    """The parked emails over one store; every change under the store's lock."""

    def __init__(self, store: Store, state: Any, put_state: Callable[..., None]) -> None:
        self._store = store
        self._table = store.table(LETTERS)
        self._state = state
        self._put_state = put_state

    # ----- failure counts ----------------------------------------------------------------

    def failures(self, key: str) -> int:
        with self._store.lock:
            for doc in raw_docs(self._state).values():
                if doc.get("type") == "failure" and doc.get("key") == key:
                    return int(doc.get("attempts", 0))
            return 0

    def note_failure(self, key: str, error: str, now: datetime) -> int:
        """Count one more failure of the email `key`; returns the count."""
        with self._store.lock:
            attempts = self.failures(key) + 1
            self._put_state(
                "failure", key, {"attempts": attempts, "error": error[:500], "at": now.isoformat()}
            )
            return attempts

    def clear_failures(self, key: str) -> None:
        with self._store.lock:
            if not self.failures(key):
                return
            self._store.check_writable()

            def drop(docs: dict[int, dict[str, Any]]) -> None:
                for doc_id, doc in list(docs.items()):
                    if doc.get("type") == "failure" and doc.get("key") == key:
                        del docs[doc_id]

            rewrite(self._state, drop)

    # ----- parked emails -----------------------------------------------------------------

    def park(self, letter: DeadLetter, raw: bytes) -> DeadLetter:
        """Store a parked email and its bytes (the id is assigned here); returns it."""
        with self._store.lock:
            self._store.check_writable()
            known = self.by_key(letter.key)
            if known is not None:
                return known
            taken = {doc["id"] for doc in raw_docs(self._table).values()}
            letter.id = short_id(f"dead:{letter.key}", lambda c: c in taken)
            blob = self._store.table(f"{RAW}/{letter.key[:32]}")
            rewrite(blob, lambda docs: docs.update({1: {"raw": base64.b64encode(raw).decode()}}))
            self._table.insert(letter.to_doc())
            self.clear_failures(letter.key)
            return letter

    def all(self) -> list[DeadLetter]:
        """Parked emails, oldest first."""
        with self._store.lock:
            docs = list(raw_docs(self._table).values())
        return sorted(load_all(DeadLetter, docs, [self._table]), key=lambda d: d.parked_at)

    def count(self) -> int:
        with self._store.lock:
            return len(raw_docs(self._table))

    def get(self, letter_id: str) -> DeadLetter | None:
        wanted = letter_id.strip().lower()
        return next((d for d in self.all() if d.id == wanted), None)

    def by_key(self, key: str) -> DeadLetter | None:
        return next((d for d in self.all() if d.key == key), None)

    def raw(self, letter: DeadLetter) -> bytes:
        with self._store.lock:
            docs = raw_docs(self._store.table(f"{RAW}/{letter.key[:32]}"))
            doc = next(iter(docs.values()), None)
        return base64.b64decode(doc["raw"]) if doc else b""

    def drop(self, letter: DeadLetter) -> None:
        """Forget a parked email and its bytes."""
        with self._store.lock:
            self._store.check_writable()

            def remove(docs: dict[int, dict[str, Any]]) -> None:
                for doc_id, doc in list(docs.items()):
                    if doc.get("id") == letter.id:
                        del docs[doc_id]

            rewrite(self._table, remove)
            rewrite(self._store.table(f"{RAW}/{letter.key[:32]}"), lambda docs: docs.clear())
