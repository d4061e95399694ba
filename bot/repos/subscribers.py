"""Subscribers: one TinyDB file held compact, indexed in memory by id, email and plan dates."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from bot.compact import CompactDocs, Encoded, decode_doc, encode_doc
from bot.lifecycle import MilestoneWindows
from bot.models import Subscriber
from bot.repos.loading import load
from bot.repos.subscriber_index import PlanIndex, read_head, read_id
from bot.store import Store, raw_docs


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
    """Subscribers keyed by their id (source customer id, else email).

    Documents are held encoded (`bot.compact`) and decoded when read; the indexes (id, email,
    and `PlanIndex` for planning) are built in one pass over a slim decode of each document.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table("subscribers")
        self._by_id: dict[str, int] | None = None
        self._by_email: AddressIndex = {}
        self._by_base_email: AddressIndex = {}  # only addresses with a +tag: base -> ids
        self._plan: PlanIndex | None = None  # built by the first plan, then kept up to date
        self._last_doc_id = 0
        store.on_undo(self._drop_index)

    def _drop_index(self) -> None:
        """Rebuild the indexes from the file on next use (a write undone, or a failed one)."""
        self._by_id, self._plan = None, None

    def _docs(self) -> CompactDocs:
        return CompactDocs.of(raw_docs(self._table))

    def _index(self) -> dict[str, int]:
        if self._by_id is None:
            by_id: dict[str, int] = {}
            self._by_email, self._by_base_email = {}, {}
            self._plan, self._last_doc_id = None, 0
            docs = self._docs()
            self._last_doc_id = docs.encoded.last_id()
            for doc_id, raw in docs.encoded.pairs():
                sid, email = read_id(raw)
                if type(sid) is not str:  # unreadable: left in the file, out of every view
                    load(Subscriber, decode_doc(raw), self._table, doc_id)
                    continue
                by_id[sid] = doc_id
                if type(email) is str and email:
                    self._index_email(sid, email)
            self._by_id = by_id
        return self._by_id

    def _plan_index(self) -> PlanIndex:
        self._index()
        if self._plan is None:
            plan = PlanIndex()
            for raw in self._docs().encoded.values():
                head, sid = read_head(raw)
                if type(sid) is str:
                    plan.add(sid, head)
            self._plan = plan
        return self._plan

    def _index_email(self, sid: str, email: str, old: str = "") -> None:
        """Index `sid` under `email`, dropping the address `old` it was indexed under before.

        An address without a +tag is its own base: it is found in `_by_email` alone (most
        addresses; a second index of a million would cost some 40 MB).
        """
        email, old = normalize_email(email), normalize_email(old) if old else ""
        if old == email:
            return
        if old:
            _discard(self._by_email, old, sid)
            if _base_of(old) != old:
                _discard(self._by_base_email, _base_of(old), sid)
        if email:
            _add(self._by_email, email, sid)
            if _base_of(email) != email:
                _add(self._by_base_email, _base_of(email), sid)

    def _first_by_base(self, base: str) -> str | None:
        """The first stored subscriber whose address, without its +tag, is `base`."""
        tagged, plain = _first(self._by_base_email, base), _first(self._by_email, base)
        if tagged is None or plain is None:
            return tagged or plain
        by_id = self._index()
        return min((tagged, plain), key=lambda sid: by_id.get(sid, 0))

    def count(self) -> int:
        with self._store.lock:
            return len(self._index())

    def get(self, sid: str) -> Subscriber | None:
        with self._store.lock:
            doc_id = self._index().get(sid)
            if doc_id is None:
                return None
            docs = self._docs()
            raw = docs.encoded[str(doc_id)]
        try:  # straight from JSON to the struct: no dict in between
            return _read_subscriber(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            sub: Subscriber | None = load(Subscriber, decode_doc(raw), self._table, doc_id)
            return sub

    def held(self, sid: str) -> Encoded | None:
        """The stored document of one subscriber as its JSON bytes, not decoded."""
        with self._store.lock:
            doc_id = self._index().get(sid)
            return None if doc_id is None else self._docs().encoded[str(doc_id)]

    def raw_doc(self, sid: str) -> dict[str, Any] | None:
        """The stored document of one subscriber (a fresh copy), for read paths."""
        with self._store.lock:
            doc_id = self._index().get(sid)
            return None if doc_id is None else self._docs()[str(doc_id)]

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
            sid = _first(self._by_email, email) or self._first_by_base(_base_of(email))
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
        # A document whose JSON (ASCII, lower-cased) lacks a plain ASCII needle cannot hold it
        # in its name or email: only the others are decoded.
        plain = needle.encode() if _PLAIN.fullmatch(needle) else None
        found = []
        with self._store.lock:
            for raw in self._docs().encoded.values():
                data = bytes(raw)
                if plain is not None and data.isascii() and plain not in data.lower():
                    continue
                doc = decode_doc(data)
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
        """Stored documents (fresh copies), for bulk read paths (exports, metrics)."""
        with self._store.lock:
            encoded = list(self._docs().encoded.values())
        return [decode_doc(raw) for raw in encoded]

    def plan_candidates(
        self, windows: MilestoneWindows, also: Iterable[str]
    ) -> tuple[list[str], set[str], dict[str, int]]:
        """The subscribers planning must look at, in stored order (see `PlanIndex`).

        Returns:
            (ids in stored order, those of them that may have a milestone in `windows`, the
            `bot.risk.doc_flags` of every subscriber by id).
        """
        with self._store.lock:
            plan = self._plan_index()
            by_id = self._index()
            dated, scoring = plan.candidates(windows, also)
            wanted = {sid for sid in dated | scoring if sid in by_id}
            if len(wanted) * 16 < len(by_id):
                order = sorted(wanted, key=by_id.__getitem__)
            else:
                order = [sid for sid in by_id if sid in wanted]
            return order, dated, plan.flags

    def put(self, subscriber: Subscriber) -> None:
        self.put_many([subscriber])

    def put_many(self, subscribers: Iterable[Subscriber]) -> int:
        """Insert or replace subscribers in a single write. Returns how many were written.

        Only the written documents are encoded; the file is written from the held bytes.
        """
        items = list(subscribers)
        if not items:
            return 0
        with self._store.lock:
            self._store.check_writable()
            index = self._index()
            encoded = {s.id: encode_doc(s.to_doc()) for s in items}
            placed: dict[str, int] = {}
            last = self._last_doc_id
            storage = self._table.storage
            tables: dict[str, Any] = storage.read() or {}
            docs = CompactDocs.of(tables.get(self._table.name, {}))
            tables[self._table.name] = docs
            old_email: dict[str, str] = {}  # the address each was indexed under
            for sid in encoded:
                doc_id = index.get(sid)
                if doc_id is None:
                    last += 1
                    doc_id = last
                else:
                    held = docs.encoded.get(str(doc_id))
                    email = read_id(held)[1] if held is not None else ""
                    old_email[sid] = email if type(email) is str else ""
                placed[sid] = doc_id
            docs.encoded.update({str(placed[sid]): raw for sid, raw in encoded.items()})
            try:
                storage.write(tables)
            except BaseException:
                self._drop_index()  # the storage reloads the file; so do the indexes
                raise
            finally:
                self._table.clear_cache()
                self._table._next_id = None  # noqa: SLF001 - TinyDB's own id counter
            self._last_doc_id = last
            index.update(placed)
            for sub in {s.id: s for s in items}.values():  # the last of each id is stored
                self._index_email(sub.id, sub.email, old_email.get(sub.id, ""))
                if self._plan is not None:
                    self._plan.add(sub.id, read_head(encoded[sub.id])[0])
            if self._plan is not None and self._plan.stale(len(index)):
                self._plan = None
            return len(items)


_read_subscriber = msgspec.json.Decoder(Subscriber).decode
# Needles a document's JSON holds as typed (no character JSON escapes).
_PLAIN = re.compile(r"[ -!#-\[\]-~]+")
