"""Append-mostly records (events, outreach) sharded by subscriber, held as JSON bytes.

Records are kept as their JSON (`bot.compact`) and no index is held beside them: a subscriber's
records all live in the one shard file its id hashes to (about 1,300 events a shard at a
million subscribers), and are found there by looking for the id in their bytes, then decoding
those that hold it. Start-up reads the files and builds nothing; an add decodes the ids of one
shard to refuse a record stored already and encodes only the new records.

The bulk readers (the engine, the digest plan) take every record grouped by subscriber
(`raw_by_subscriber`): decoding 1.3M events to group them took seconds at a million
subscribers. The grouping is built by the first such read and then kept by every write (an
add joins the new records' bytes to their subscriber's group, a removal regroups that one
subscriber), so later reads cost a copy of the mapping.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import accumulate
from typing import Any, Generic, TypeVar

import msgspec
from tinydb.table import Table

from bot.compact import Encoded, decode_doc, encode_doc, table_docs, write_docs
from bot.repos.changes import ChangeListeners
from bot.repos.loading import load
from bot.store import Store

R = TypeVar("R")
JOIN_FROM = 16  # `holding` searches shards of more documents joined (fewer: one at a time)


class _Head(msgspec.Struct):
    id: str
    subscriber_id: str


_read_head = msgspec.json.Decoder(_Head).decode


def read_head(raw: Encoded) -> _Head | None:
    """A record's id and subscriber id, None if it has no such strings (unreadable)."""
    try:
        return _read_head(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        pass
    try:  # NaN, lone surrogates: what json reads
        doc = decode_doc(raw)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    rid, sid = doc.get("id"), doc.get("subscriber_id")
    return _Head(rid, sid) if type(rid) is str and type(sid) is str else None


def read_record(
    decode: Callable[[Encoded], Any], cls: Any, raw: Encoded, table: Table, doc_id: int
) -> Any:
    """The `cls` record a document holds, None if it cannot be read (logged)."""
    try:  # straight from JSON to the struct (`decode`): no dict in between
        return decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        return load(cls, decode_doc(raw), table, doc_id)


def needle(value: str) -> bytes | None:
    """`value` as it appears in a document's JSON (None: look in every document)."""
    try:
        return msgspec.json.encode(value)
    except (UnicodeEncodeError, TypeError):
        return None


def holding(pairs: Iterable[tuple[int, Encoded]], key: str) -> Iterator[tuple[int, bytes]]:
    """The (doc id, bytes) among `pairs` whose JSON may hold the string `key` (a superset).

    A document writing `key` with escapes (hand-edited, or ASCII-escaped for lone surrogates)
    holds a backslash, and is kept for the caller to decode. A shard of more than a few
    documents is searched joined into one buffer: copying each to bytes and searching it cost
    3 times more at the 130 events a shard holds at 100k subscribers (a match across two
    documents keeps both).
    """
    wanted = needle(key)
    found = list(pairs)
    if len(found) <= JOIN_FROM:
        for doc_id, raw in found:
            data = bytes(raw)
            if wanted is None or wanted in data or b"\\" in data:
                yield doc_id, data
        return
    ids, raws = zip(*found, strict=True)
    data = b"".join(raws)
    ends = list(accumulate(map(len, raws)))
    if wanted is None:
        hits: Iterable[int] = range(len(ends))
    else:
        hits = sorted({i for token in (wanted, b"\\") for i in _docs_with(data, ends, token)})
    for i in hits:
        yield ids[i], data[ends[i - 1] if i else 0 : ends[i]]


def _docs_with(data: bytes, ends: list[int], token: bytes) -> Iterator[int]:
    """The indexes of the documents (ending at `ends` in `data`) where `token` starts."""
    at = data.find(token)
    while at != -1:
        i = bisect_right(ends, at)
        yield i
        at = data.find(token, ends[i]) if i + 1 < len(ends) else -1


# A subscriber's records' bytes: one record as itself (most subscribers hold one or two;
# a list for each would cost some 40 MB at a million), several as a list.
Group = Encoded | list[Encoded]


def _members(group: Group) -> list[Encoded]:
    return group if type(group) is list else [group]  # type: ignore[list-item]


def _join(groups: dict[str, Group], sid: str, raws: Group) -> None:
    held = groups.get(sid)
    if held is None:
        groups[sid] = raws
    else:
        groups[sid] = [*_members(held), *_members(raws)]


class GroupedDocs(Mapping[str, list[dict[str, Any]]]):
    """Stored documents grouped by subscriber id, decoded when a group is read."""

    def __init__(self, groups: dict[str, Group]) -> None:
        self._groups = groups

    def __getitem__(self, sid: str) -> list[dict[str, Any]]:
        return [decode_doc(raw) for raw in _members(self._groups[sid])]

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)

    def __contains__(self, sid: object) -> bool:
        return sid in self._groups

    def encoded(self, sid: str) -> list[Encoded]:
        """The bytes of the subscriber's records, not decoded (none: an empty list)."""
        group = self._groups.get(sid)
        return [] if group is None else _members(group)


class ShardedRecords(Generic[R]):
    """Records with an `id` and a `subscriber_id`; adding one rewrites one small shard."""

    name = ""

    def __init__(self, store: Store, cls: Any) -> None:
        self._store = store
        self._cls = cls
        self._decode = msgspec.json.Decoder(cls).decode
        self._tables = store.shard_tables(self.name)
        self.changes = ChangeListeners()  # who else must know (bot.worklist)
        # every readable record's bytes by subscriber id, once a bulk read built it; a group
        # is replaced by writes, never changed in place (a copy of the mapping is a snapshot)
        self._kept: dict[str, Group] | None = None
        self._writes = 0  # writes so far: a grouping built across one is not kept
        store.on_undo(self._undone)

    def _undone(self) -> None:
        """A transaction was undone: the files are read again, listeners start afresh."""
        self._kept = None
        self._writes += 1
        self.changes(None)

    def _keep_added(self, added: Iterable[tuple[str, Encoded]]) -> None:
        """Join records just stored (subscriber id, bytes) to the kept grouping."""
        if self._kept is not None:
            for sid, raw in added:
                _join(self._kept, sid, raw)

    def _regroup(self, subscriber_id: str) -> None:
        """Group one subscriber's records again from their shard (after a removal)."""
        if self._kept is not None:
            raws = [raw for raw, _ in self._scan(subscriber_id)]
            if not raws:
                self._kept.pop(subscriber_id, None)
            else:
                self._kept[subscriber_id] = raws[0] if len(raws) == 1 else raws

    def _shard(self, subscriber_id: str) -> Table:
        return self._store.shard_table(self.name, subscriber_id)

    def _read(self, raw: Encoded, table: Table, doc_id: int) -> R | None:
        record: R | None = read_record(self._decode, self._cls, raw, table, doc_id)
        return record

    def _of(self, subscriber_id: str) -> list[tuple[bytes, R]]:
        """(bytes, record) of the subscriber's readable records, in stored order: from the
        kept grouping once a bulk read built it (the same records, found without searching a
        shard that grows with the store: 130 events a shard at 100k subscribers, 1,300 at a
        million, read for every entry the digest posts), else from the shard."""
        group = self._kept.get(subscriber_id) if self._kept is not None else None
        if group is None:
            return [] if self._kept is not None else self._scan(subscriber_id)
        found = []
        for raw in _members(group):
            try:
                found.append((bytes(raw), self._decode(raw)))
            except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
                return self._scan(subscriber_id)  # read as stored (`read_record`'s fallback)
        return found

    def _scan(self, subscriber_id: str) -> list[tuple[bytes, R]]:
        """`_of` from the subscriber's shard: every document that may hold the id, read."""
        table = self._shard(subscriber_id)
        found = []
        for doc_id, data in holding(table_docs(table).pairs(), subscriber_id):
            record = self._read(data, table, doc_id)
            if record is not None and record.subscriber_id == subscriber_id:  # type: ignore[attr-defined]
                found.append((data, record))
        return found

    def _ids_in(self, table: Table) -> set[str]:
        heads = (read_head(raw) for raw in table_docs(table).raws())
        return {head.id for head in heads if head is not None}

    def _groups(self) -> Iterator[tuple[Table, dict[str, Group]]]:
        """Each shard's readable records grouped by subscriber, one shard at a time under the
        store's lock: never every shard under it (at a million subscribers grouping every event
        held the lock, and every claim's answer behind it, for 15 s). A subscriber's records
        are all in one shard, so each group is as stored at one instant."""
        for table in self._tables:
            groups: dict[str, Group] = {}
            with self._store.lock:
                for doc_id, raw in table_docs(table).pairs():
                    record = self._read(raw, table, doc_id)
                    if record is None:  # left in its file, unseen; logged
                        continue
                    sid = record.subscriber_id  # type: ignore[attr-defined]
                    held = groups.get(sid)
                    if held is None:
                        groups[sid] = raw
                    elif type(held) is list:
                        held.append(raw)
                    else:
                        groups[sid] = [held, raw]  # type: ignore[list-item]
            yield table, groups

    def stored_ids(self, records: Iterable[Any]) -> set[str]:
        """The ids among `records` (with `id` and `subscriber_id`) that are stored already."""
        by_shard: dict[int, tuple[Table, list[str]]] = {}
        for record in records:
            table = self._shard(record.subscriber_id)
            by_shard.setdefault(id(table), (table, []))[1].append(record.id)
        with self._store.lock:
            found: set[str] = set()
            for table, ids in by_shard.values():
                found.update(self._ids_in(table).intersection(ids))
            return found

    def add_many(self, records: Iterable[Any]) -> list[Any]:
        """Store records whose id is new, one write per shard. Returns those stored."""
        with self._store.lock:
            self._store.check_writable()
            self._writes += 1
            fresh: dict[str, Any] = {}
            for record in records:
                fresh.setdefault(record.id, record)
            groups: dict[int, tuple[Table, list[Any]]] = {}
            for record in fresh.values():
                table = self._shard(record.subscriber_id)
                groups.setdefault(id(table), (table, []))[1].append(record)
            stored: set[str] = set()
            for table, group in groups.values():
                taken = self._ids_in(table)
                new = [r for r in group if r.id not in taken]
                if not new:
                    continue
                last = table_docs(table).last_id()
                raws = [encode_doc(r.to_doc()) for r in new]
                write_docs(table, {last + n: raw for n, raw in enumerate(raws, 1)})
                stored.update(r.id for r in new)
                self._keep_added(zip((r.subscriber_id for r in new), raws, strict=True))
            added = [r for r in fresh.values() if r.id in stored]
            if added:
                self.changes({r.subscriber_id for r in added})
            return added

    def remove(self, record_id: str, subscriber_id: str) -> bool:
        """Delete one record (a signal a person dismissed). Returns whether it was there."""
        with self._store.lock:
            self._store.check_writable()
            self._writes += 1
            table = self._shard(subscriber_id)
            gone: dict[int, Encoded | None] = {}
            for doc_id, data in holding(table_docs(table).pairs(), record_id):
                head = read_head(data)
                if head is not None and head.id == record_id:
                    gone[doc_id] = None
            if not gone:
                return False
            write_docs(table, gone)
            self._regroup(subscriber_id)
            self.changes([subscriber_id])
            return True

    def add(self, record: Any) -> bool:
        return bool(self.add_many([record]))

    def exists(self, record_id: str, subscriber_id: str | None = None) -> bool:
        """Whether a record with this id is stored (looking in every shard without the
        subscriber: `stored_ids` checks many at once)."""
        with self._store.lock:
            tables = [self._shard(subscriber_id)] if subscriber_id is not None else self._tables
            return any(record_id in self._ids_in(table) for table in tables)

    def docs_for_subscriber(self, subscriber_id: str) -> list[dict[str, Any]]:
        """The subscriber's readable stored documents (fresh copies), in stored order."""
        with self._store.lock:
            found = self._of(subscriber_id)
        return [decode_doc(raw) for raw, _ in found]

    def for_subscriber(self, subscriber_id: str) -> list[R]:
        with self._store.lock:
            return [record for _, record in self._of(subscriber_id)]

    def by_subscriber(self) -> dict[str, list[R]]:
        return {
            sid: [self._decode(raw) for raw in _members(group)]
            for sid, group in self._grouped().items()
        }

    def raw_by_subscriber(self) -> Mapping[str, list[dict[str, Any]]]:
        """Stored documents grouped by subscriber, for bulk read paths (the engine).

        A group is decoded when it is read (fresh copies each time); the grouping holds only
        the documents' bytes.
        """
        return GroupedDocs(self._grouped())

    def _grouped(self) -> dict[str, Group]:
        """The bytes of every readable record, by subscriber id (unreadable ones logged): a
        copy of the kept grouping, built the first time (kept only if nothing was written
        while it was built: `_groups` holds the lock one shard at a time). A read-only store
        is never written: it hands out the kept grouping itself (no copy at the peak of a
        `digest --preview`)."""
        read_only = self._store.read_only
        with self._store.lock:
            if self._kept is not None:
                return self._kept if read_only else dict(self._kept)
            writes = self._writes
        merged: dict[str, Group] = {}
        for _, groups in self._groups():
            if not merged:
                merged = groups
                continue
            for sid, group in groups.items():
                _join(merged, sid, group)
        snapshot = merged if read_only else dict(merged)  # handed out; `merged` is kept
        with self._store.lock:
            if self._writes == writes and self._kept is None:
                self._kept = merged
        return snapshot

    def all(self) -> Iterator[R]:
        with self._store.lock:
            shards = [(table, list(table_docs(table).pairs())) for table in self._tables]
        for table, pairs in shards:
            for doc_id, raw in pairs:
                record = self._read(raw, table, doc_id)
                if record is not None:
                    yield record

    def count(self) -> int:
        """Stored documents (reading every shard file the first time)."""
        with self._store.lock:
            return sum(len(table_docs(table)) for table in self._tables)
