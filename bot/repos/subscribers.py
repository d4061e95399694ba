"""Subscribers: one TinyDB file, indexed in memory by id and by email."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from bot.models import Subscriber
from bot.repos.loading import load
from bot.store import Store, copy_doc, raw_docs, rewrite


def normalize_email(email: str) -> str:
    return email.strip().lower()


def base_email(email: str) -> str:
    """`name+tag@example.com` -> `name@example.com` (lower-cased)."""
    return _base_of(normalize_email(email))


def _base_of(email: str) -> str:
    """`base_email` of an address already normalised."""
    if "+" not in email:
        return email
    local, at, domain = email.partition("@")
    if not at:
        return email
    return f"{local.split('+', 1)[0]}@{domain}"


# An address index maps an address to the id holding it, or to the ids holding it (first
# stored first) in the rare case of several: one list per address would cost 100k objects.
AddressIndex = dict[str, "str | list[str]"]


def _add(index: AddressIndex, address: str, sid: str) -> None:
    held = index.get(address)
    if held is None:
        index[address] = sid
    elif isinstance(held, str):
        if held != sid:
            index[address] = [held, sid]
    elif sid not in held:
        held.append(sid)


def _discard(index: AddressIndex, address: str, sid: str) -> None:
    held = index.get(address)
    if held == sid:
        del index[address]
    elif isinstance(held, list) and sid in held:
        held.remove(sid)
        if len(held) == 1:
            index[address] = held[0]


def _first(index: AddressIndex, address: str) -> str | None:
    held = index.get(address)
    return held[0] if isinstance(held, list) else held


class SubscriberRepo:
    """Subscribers keyed by their id (source customer id, else email)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table("subscribers")
        self._by_id: dict[str, int] | None = None
        self._by_email: AddressIndex = {}
        self._by_base_email: AddressIndex = {}
        self._email_of: dict[str, str] = {}

    def _index(self) -> dict[str, int]:
        if self._by_id is None:
            by_id: dict[str, int] = {}
            self._by_email, self._by_base_email, self._email_of = {}, {}, {}
            for doc_id, doc in raw_docs(self._table).items():
                sid = doc.get("id")
                if type(sid) is not str:  # unreadable: left in the file, out of every view
                    load(Subscriber, doc, self._table, doc_id)
                    continue
                by_id[sid] = int(doc_id)
                self._index_email(sid, doc.get("email") or "")
            self._by_id = by_id
        return self._by_id

    def _index_email(self, sid: str, email: str) -> None:
        """Index `sid` under `email`, dropping the address it was indexed under before."""
        email = normalize_email(email)
        old = self._email_of.get(sid)
        if old == email:
            return
        if old:
            _discard(self._by_email, old, sid)
            _discard(self._by_base_email, _base_of(old), sid)
        if email:
            _add(self._by_email, email, sid)
            _add(self._by_base_email, _base_of(email), sid)
            self._email_of[sid] = email
        else:
            self._email_of.pop(sid, None)

    def count(self) -> int:
        with self._store.lock:
            return len(self._index())

    def get(self, sid: str) -> Subscriber | None:
        with self._store.lock:
            doc_id = self._index().get(sid)
            if doc_id is None:
                return None
            doc = raw_docs(self._table)[str(doc_id)]
            sub: Subscriber | None = load(Subscriber, copy_doc(doc), self._table, doc_id)
            return sub

    def raw_doc(self, sid: str) -> dict[str, Any] | None:
        """The stored document of one subscriber, for read paths. Do not modify."""
        with self._store.lock:
            doc_id = self._index().get(sid)
            return None if doc_id is None else raw_docs(self._table)[str(doc_id)]

    def id_by_email(self, email: str) -> str | None:
        """The id holding exactly this address (case-insensitive), first stored first."""
        with self._store.lock:
            self._index()
            return _first(self._by_email, normalize_email(email))

    def by_email(self, email: str) -> Subscriber | None:
        """Exact address (case-insensitive), else the same address without a `+tag`."""
        with self._store.lock:
            self._index()
            email = normalize_email(email)
            sid = _first(self._by_email, email) or _first(self._by_base_email, _base_of(email))
            return self.get(sid) if sid else None

    def resolve(self, id_or_email: str) -> Subscriber | None:
        return self.get(id_or_email.strip()) or self.by_email(id_or_email)

    def search(self, text: str, limit: int = 10) -> list[Subscriber]:
        """Subscribers whose id, email or name contains `text` (case-insensitive)."""
        needle = text.strip().lower()
        if not needle:
            return []
        exact = self.resolve(needle)
        if exact:
            return [exact]
        found = []
        with self._store.lock:
            for doc in raw_docs(self._table).values():
                if needle in doc.get("name", "").lower() or needle in doc.get("email", "").lower():
                    found.append(doc["id"])
                    if len(found) >= limit:
                        break
        return [s for s in (self.get(sid) for sid in found) if s]

    def ids(self) -> list[str]:
        with self._store.lock:
            return list(self._index())

    def all(self) -> Iterator[Subscriber]:
        for sid in self.ids():
            sub = self.get(sid)
            if sub is not None:
                yield sub

    def load(self, doc: dict[str, Any]) -> Subscriber | None:
        """The subscriber a document `raw` gave holds, or None if unreadable (logged)."""
        sub: Subscriber | None = load(Subscriber, doc, self._table)
        return sub

    def raw(self) -> Iterable[dict[str, Any]]:
        """Stored documents, for bulk read paths (benchmarks, exports). Do not modify."""
        with self._store.lock:
            return list(raw_docs(self._table).values())

    def put(self, subscriber: Subscriber) -> None:
        self.put_many([subscriber])

    def put_many(self, subscribers: Iterable[Subscriber]) -> int:
        """Insert or replace subscribers in a single write. Returns how many were written."""
        items = list(subscribers)
        if not items:
            return 0
        with self._store.lock:
            self._store.check_writable()
            index = self._index()
            docs = {s.id: s.to_doc() for s in items}

            def change(table: dict[int, dict[str, Any]]) -> None:
                next_id = max(table, default=0) + 1
                for sid, doc in docs.items():
                    doc_id = index.get(sid)
                    if doc_id is None:
                        doc_id = next_id
                        next_id += 1
                    table[doc_id] = doc

            rewrite(self._table, change)
            # Re-read ids after the write succeeded (a failed write leaves the index as it was).
            for doc_id, doc in raw_docs(self._table).items():
                if doc["id"] in docs:
                    index[doc["id"]] = int(doc_id)
            for sub in items:
                self._index_email(sub.id, sub.email)
            return len(items)
