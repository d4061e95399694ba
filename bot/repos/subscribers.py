"""Subscribers: one TinyDB file held compact, indexed in memory by id, email and plan dates."""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

import msgspec

from bot.compact import CompactDocs, Encoded, EncodedDocs, decode_doc, encode_doc
from bot.lifecycle import MilestoneWindows
from bot.models import Subscriber
from bot.repos import plan_file
from bot.repos.addresses import Addresses, base_of, normalize_email
from bot.repos.hash_index import HashIndex, key_hash
from bot.repos.loading import load
from bot.repos.subscriber_ids import IdArrays, holds_id, ids_of, scan
from bot.repos.subscriber_index import PlanIndex, read_head, read_id
from bot.store import Store, raw_docs


class SubscriberRepo:
    """Subscribers keyed by their id (source customer id, else email).

    Documents are held encoded (`bot.compact`) and decoded when read. The indexes hold no str
    (`bot.repos.hash_index`): id -> doc id, built on the first read by id; address -> doc id,
    built on the first read by address; and `PlanIndex` for planning, built by the first plan
    (in the same pass as the ids when none was read before). Each is kept up to date by writes
    once built.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table("subscribers")
        self._ids: HashIndex | None = None  # hash of id -> doc id
        self._count = 0  # distinct readable ids
        self._emails: Addresses | None = None  # addresses -> doc ids
        self._plan: PlanIndex | None = None  # built by the first plan, then kept up to date
        self._plan_saved = False  # its file (`bot.repos.plan_file`) is as the documents are
        # Each readable id and its doc id, in doc id order, as the ids and the plan index were
        # built together: kept until the next write (`plan_candidates` places its candidates
        # with it). Only then: the plan index holds those ids anyway, the id index holds none.
        self._placed: tuple[list[str], array[int]] | None = None
        store.on_undo(self._drop_index)

    def _drop_index(self) -> None:
        """Rebuild the indexes from the file on next use (a write undone, or a failed one)."""
        self._ids, self._emails, self._plan, self._placed = None, None, None, None

    def _docs(self) -> CompactDocs:
        return CompactDocs.of(raw_docs(self._table))

    def _index(self) -> HashIndex:
        if self._ids is None:
            self._build(plan=False)
        assert self._ids is not None
        return self._ids

    def _build(self, plan: bool) -> None:
        """Index the ids (and, with `plan`, the plan index) in one pass over the documents;
        the plan index restored from its saved file when it can be (`bot.repos.plan_file`)."""
        encoded = self._docs().encoded
        restored = plan_file.restore_held(self._store, encoded, self._unreadable) if plan else None
        if restored is not None:
            index: PlanIndex | None = restored[0]
            self._plan_saved = restored[2]
            hashes, doc_ids, sids = ids_of(encoded.pairs(), restored[1])
        else:
            index = PlanIndex() if plan else None
            hashes, doc_ids, sids = self._scan(encoded, index)
        ids = HashIndex(hashes, doc_ids)
        del hashes
        repeats = self._repeats(ids, encoded)
        self._ids, self._count = ids, len(ids) - repeats
        # The ids' strs are the plan index's keys: kept beside it for 16 bytes a subscriber.
        # Without it they would be a str each (some 80 MB at a million) the id index avoids.
        self._placed = (sids, doc_ids) if index is not None and not repeats else None
        if index is not None:
            self._plan = index

    def _scan(self, encoded: EncodedDocs, index: PlanIndex | None) -> IdArrays:
        """`scan`; the plan index it fills saved for the next process."""
        hashes, doc_ids, sids = scan(encoded.pairs(), index, self._unreadable)
        if index is not None:
            self._plan_saved = plan_file.save_held(self._store, encoded, sids, index)
        return hashes, doc_ids, [sid for sid in sids if sid is not None]

    def _unreadable(self, doc_id: int, raw: Encoded) -> None:
        load(Subscriber, decode_doc(raw), self._table, doc_id)  # logs it

    @staticmethod
    def _repeats(ids: HashIndex, encoded: EncodedDocs) -> int:
        """Documents holding an id a later document holds too (hand-edited: rare)."""
        repeats = 0
        for doc_ids in ids.shared():
            sids = [read_id(encoded[str(doc_id)])[0] for doc_id in doc_ids]
            repeats += len(sids) - len(set(sids))
        return repeats

    def _doc_id(self, sid: str) -> int | None:
        found = self._find(sid)
        return None if found is None else found[0]

    def _find(self, sid: str) -> tuple[int, Encoded] | None:
        """(doc id, bytes) of the document holding `sid` (the last, if hand-edited twice)."""
        encoded = self._docs().encoded
        for doc_id in reversed(self._index().get(key_hash(sid))):
            raw = encoded.get(str(doc_id))
            if raw is not None and holds_id(raw, sid):
                return doc_id, raw
        return None

    def _at(self, sid: str, doc_id: int) -> tuple[int, Encoded] | None:
        """`_find` when `doc_id` is the last document filed under the hash of `sid` and holds
        it (what `plan_candidates` placed); None: ask `_find`."""
        raw = self._docs().encoded.raw_at(doc_id)
        return (doc_id, raw) if raw is not None and holds_id(raw, sid) else None

    def _plan_index(self) -> PlanIndex:
        if self._plan is None:
            if self._ids is None:
                self._build(plan=True)
            else:
                encoded = self._docs().encoded
                restored = plan_file.restore_held(self._store, encoded, self._unreadable)
                if restored is not None:
                    self._plan, self._plan_saved = restored[0], restored[2]
                else:
                    self._plan = PlanIndex()
                    self._scan(encoded, self._plan)
        assert self._plan is not None
        return self._plan

    def keep_plan_index(self) -> None:
        """Save the plan index as the documents are now (built if it is not): the next process
        to plan restores it (`bot.repos.plan_file`). An import calls this at its end."""
        with self._store.lock:
            self._save_plan(self._plan_index())

    def resave_plan_index(self) -> bool:
        """Save the plan index again if this process holds it and documents were written since
        its file was (the bot after its daily run): the next process to plan then restores it
        rather than indexing the day's writes afresh, or building it whole once a quarter of
        the documents changed. An index not built here is not built for it. Whether it saved
        (about 0.6 s of CPU at 100k subscribers, under the store lock)."""
        with self._store.lock:
            if self._plan is None or self._plan_saved or plan_file.path_of(self._store) is None:
                return False
            return self._save_plan(self._plan)

    def _save_plan(self, plan: PlanIndex) -> bool:
        if self._plan_saved or self._store.read_only:
            return False
        encoded = self._docs().encoded
        sids = [read_id(raw)[0] for raw in encoded.raws()]
        self._plan_saved = plan_file.save_held(
            self._store, encoded, [s if type(s) is str else None for s in sids], plan
        )
        return self._plan_saved

    def _addresses(self) -> Addresses:
        """The address index, built on first use."""
        if self._emails is None:
            self._emails = Addresses(self._docs().encoded.pairs())
        return self._emails

    def count(self) -> int:
        with self._store.lock:
            self._index()
            return self._count

    def empty(self) -> bool:
        """No readable subscriber is stored (`count() == 0`), without building an index: the
        documents are read only until the first one holding an id."""
        with self._store.lock:
            if self._ids is not None:
                return self._count == 0
            return not any(type(read_id(raw)[0]) is str for raw in self._docs().encoded.values())

    def get(self, sid: str, at: int | None = None) -> Subscriber | None:
        """The subscriber `sid` (None: not stored, or not readable: logged).

        Args:
            at: the doc id `plan_candidates` placed them at, read first (no index lookup).
        """
        with self._store.lock:
            found = None if at is None else self._at(sid, at)
            found = found or self._find(sid)
            if found is None:
                return None
            doc_id, raw = found
        try:  # straight from JSON to the struct: no dict in between
            return _read_subscriber(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            sub: Subscriber | None = load(Subscriber, decode_doc(raw), self._table, doc_id)
            return sub

    def held(self, sid: str) -> Encoded | None:
        """The stored document of one subscriber as its JSON bytes, not decoded."""
        with self._store.lock:
            found = self._find(sid)
            return None if found is None else found[1]

    def planned(self, sid: str) -> tuple[float, int] | None:
        """(monthly value, `bot.risk_bound.doc_flags`) of a subscriber as the plan index holds them
        (`subscriber_index.value_and_flags` of the stored document), without reading it; None
        when the index is not built or does not hold them (read the document)."""
        plan = self._plan
        value = None if plan is None else plan.values.get(sid)
        return None if value is None or plan is None else (value, plan.flags[sid])

    def raw_doc(self, sid: str) -> dict[str, Any] | None:
        """The stored document of one subscriber (a fresh copy), for read paths."""
        with self._store.lock:
            found = self._find(sid)
            return None if found is None else decode_doc(found[1])

    def id_by_email(self, email: str) -> str | None:
        """The id holding exactly this address (case-insensitive), first stored first."""
        with self._store.lock:
            encoded, address = self._docs().encoded, normalize_email(email)
            found = self._addresses().holder(encoded, address, False, self._doc_id)
            return found[1] if found else None

    def by_email(self, email: str) -> Subscriber | None:
        """Exact address (case-insensitive), else the same address without a `+tag`."""
        with self._store.lock:
            email, encoded, addresses = (
                normalize_email(email),
                self._docs().encoded,
                self._addresses(),
            )
            found = addresses.holder(encoded, email, False, self._doc_id)
            sid = (
                found[1]
                if found
                else addresses.first_by_base(encoded, base_of(email), self._doc_id)
            )
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
        """Every readable subscriber's id, in stored order (each once)."""
        with self._store.lock:
            self._index()
            ids = [read_id(raw)[0] for raw in self._docs().encoded.raws()]
            ids = [sid for sid in ids if type(sid) is str]
            if len(ids) == self._count:
                return ids
            last = {sid: n for n, sid in enumerate(ids)}  # an id stored twice: its last place
            return [sid for n, sid in enumerate(ids) if last[sid] == n]

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

    def iter_raw(self) -> Iterator[dict[str, Any]]:
        """`raw`'s documents decoded one at a time, for a pass that keeps none of them (the
        metrics): at a million subscribers every document decoded at once took gigabytes."""
        with self._store.lock:
            encoded = list(self._docs().encoded.values())
        return (decode_doc(raw) for raw in encoded)

    def plan_candidates(
        self, windows: MilestoneWindows, also: Iterable[str]
    ) -> tuple[dict[str, int], set[str], dict[str, int]]:
        """The subscribers planning must look at, in stored order (see `PlanIndex`).

        Returns:
            (ids in stored order, each with the doc id it was found at for `get`, those of
            them that may have a milestone in `windows`, the `bot.risk_bound.doc_flags` of every
            subscriber by id).
        """
        with self._store.lock:
            plan = self._plan_index()
            ids = self._index()
            dated, scoring = plan.candidates(windows, also)
            wanted = dated | scoring
            if self._placed is not None:  # no write since the ids were indexed
                sids, doc_ids = self._placed
                placed = {s: at for s, at in zip(sids, doc_ids, strict=True) if s in wanted}
                return placed, dated, plan.flags
            # By hash alone (no document read): an id that is not stored but shares a hash
            # with one that is comes through, and reads of it find nothing.
            last = ids.last
            placed = {sid: at for sid in wanted if (at := last(key_hash(sid))) is not None}
            ordered = dict(sorted(placed.items(), key=_second))
            return ordered, dated, plan.flags

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
            ids = self._index()
            self._placed = None
            encoded = {s.id: encode_doc(s.to_doc()) for s in items}
            placed: dict[str, int] = {}
            storage = self._table.storage
            tables: dict[str, Any] = storage.read() or {}
            docs = CompactDocs.of(tables.get(self._table.name, {}))
            tables[self._table.name] = docs
            last, new = docs.encoded.last_id(), 0
            for sid in encoded:
                doc_id = self._doc_id(sid)
                if doc_id is None:
                    last += 1
                    doc_id, new = last, new + 1
                    ids.add(key_hash(sid), doc_id)
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
            self._count += new
            for sub in {s.id: s for s in items}.values():  # the last of each id is stored
                if self._emails is not None and sub.email:
                    self._emails.file(normalize_email(sub.email), placed[sub.id])
                if self._plan is not None:
                    self._plan.add(sub.id, read_head(encoded[sub.id])[0])
                    self._plan_saved = False
            if self._plan is not None and self._plan.stale(self._count):
                self._plan = None
            return len(items)


_read_subscriber = msgspec.json.Decoder(Subscriber).decode
_second = itemgetter(1)
# Needles a document's JSON holds as typed (no character JSON escapes).
_PLAIN = re.compile(r"[ -!#-\[\]-~]+")
