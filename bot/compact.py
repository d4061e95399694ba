"""Compact TinyDB storage: each document is kept as its JSON bytes and decoded when read.

A million subscribers held as Python dicts take some 4 GB (about 1.7 KB a subscriber: a dict
per document, per subscription, per history entry, a str per value); 1.3M events as dicts
almost 1 GB more. Held as the bytes of their JSON they take what the files take. `CompactDocs`
is the table mapping TinyDB and the repositories see: reading a document decodes it with
msgspec (a few microseconds), writing one encodes it. A file is read with msgspec as
`{table: {doc id: msgspec.Raw}}`, which only finds where each document starts and ends, so
opening a file costs little more than reading it; each `Raw` is a view of the file's bytes,
which stay in memory as the data. A table holds its doc ids in one `array` (sorted, found by
bisection) beside a list of the documents' bytes: about 60 bytes a document besides its JSON,
where a dict of str keys took 140.

`CompactJSONStorage` is the `AtomicJSONStorage` (atomic, journalled writes, corrupt files
refused) holding `CompactDocs`; `CompactMemoryStorage` is its in-memory twin for tests. Writing
a file writes the stored bytes as they are: only changed documents are ever encoded, and
`write_docs` changes a table without decoding the documents it does not touch.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import ItemsView, Iterator, Mapping, MutableMapping, ValuesView
from itertools import compress, islice
from operator import lt
from typing import Any

import msgspec
from tinydb.storages import Storage
from tinydb.table import Table

from bot.datafile import AtomicJSONStorage, CorruptDataError, dump_doc, loads

Encoded = bytes | msgspec.Raw
_raw_tables = msgspec.json.Decoder(dict[str, dict[str, msgspec.Raw]])
_encode = msgspec.json.encode


def encode_doc(doc: Any) -> bytes:
    """A document as the JSON bytes the store writes (`bot.datafile.dump_doc`)."""
    try:
        fast = _encode(doc)
    except (UnicodeEncodeError, TypeError, OverflowError):
        fast = b"null"
    return fast if b"null" not in fast else dump_doc(doc).encode()


def decode_doc(raw: Encoded) -> Any:
    """A stored document's bytes as Python builtins (as `json.loads` reads them)."""
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return loads(bytes(raw))


class EncodedDocs(MutableMapping[str, Encoded]):
    """A table's documents as JSON bytes: doc id (str, as TinyDB keys them) -> bytes.

    Doc ids are held as one sorted `array` of ints and the bytes as a parallel list; a deleted
    document leaves a hole (None) until holes make up half the table.
    """

    __slots__ = ("_ids", "_raws", "_holes")

    def __init__(self, encoded: Mapping[str, Encoded] | None = None) -> None:
        self._ids = array("q")
        self._raws: list[Encoded | None] = []
        self._holes = 0
        if encoded:
            try:
                ids = array("q", map(int, encoded.keys()))
            except (ValueError, OverflowError) as exc:
                raise CorruptDataError(f"a document id is not a number ({exc})") from exc
            raws: list[Encoded | None] = list(encoded.values())
            if not all(map(lt, ids, islice(ids, 1, None))):  # not in id order (hand-edited)
                order = sorted(range(len(ids)), key=ids.__getitem__)
                ids, raws = array("q", (ids[i] for i in order)), [raws[i] for i in order]
            self._ids, self._raws = ids, raws

    @classmethod
    def numbered(cls, raws: list[Encoded]) -> EncodedDocs:
        """`raws` as a table whose doc ids are 1, 2, ... in that order (a new shard file)."""
        docs = cls()
        docs._ids = array("q", range(1, len(raws) + 1))
        docs._raws = list(raws)
        return docs

    def _find(self, doc_id: object) -> int:
        try:
            key = int(doc_id)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return -1
        at = bisect_left(self._ids, key)
        if at < len(self._ids) and self._ids[at] == key and self._raws[at] is not None:
            return at
        return -1

    def raw_at(self, doc_id: int) -> Encoded | None:
        """The bytes of document `doc_id` (None: no such document): `get(str(doc_id))`
        without the str."""
        ids = self._ids
        at = bisect_left(ids, doc_id)
        return self._raws[at] if at < len(ids) and ids[at] == doc_id else None

    def __getitem__(self, doc_id: str) -> Encoded:
        at = self._find(doc_id)
        if at < 0:
            raise KeyError(doc_id)
        raw = self._raws[at]
        assert raw is not None
        return raw

    def __setitem__(self, doc_id: str, raw: Encoded) -> None:
        key = int(doc_id)
        ids = self._ids
        if not ids or key > ids[-1]:
            ids.append(key)
            self._raws.append(raw)
            return
        at = bisect_left(ids, key)
        if ids[at] == key:
            if self._raws[at] is None:
                self._holes -= 1
            self._raws[at] = raw
        else:
            ids.insert(at, key)
            self._raws.insert(at, raw)

    def __delitem__(self, doc_id: str) -> None:
        at = self._find(doc_id)
        if at < 0:
            raise KeyError(doc_id)
        self._raws[at] = None
        self._holes += 1
        if self._holes * 2 > len(self._ids):
            kept = [i for i, raw in enumerate(self._raws) if raw is not None]
            self._ids = array("q", (self._ids[i] for i in kept))
            self._raws = [self._raws[i] for i in kept]
            self._holes = 0

    def __iter__(self) -> Iterator[str]:
        return (str(i) for i, raw in zip(self._ids, self._raws, strict=True) if raw is not None)

    def __len__(self) -> int:
        return len(self._ids) - self._holes

    def __contains__(self, doc_id: object) -> bool:
        return self._find(doc_id) >= 0

    def values(self) -> ValuesView[Encoded]:
        return _Values(self)

    def items(self) -> ItemsView[str, Encoded]:
        return _Items(self)

    def raws(self) -> Iterator[Encoded]:
        """Every document's bytes, in doc id order."""
        if not self._holes:
            return iter(self._raws)  # type: ignore[arg-type]
        return (raw for raw in self._raws if raw is not None)

    def pairs(self) -> Iterator[tuple[int, Encoded]]:
        """(doc id, bytes) of every document, in doc id order."""
        pairs = zip(self._ids, self._raws, strict=True)
        if not self._holes:
            return pairs  # type: ignore[return-value]
        return compress(pairs, (raw is not None for raw in self._raws))  # type: ignore[arg-type]

    def last_id(self) -> int:
        """The highest doc id held (0 if none): TinyDB numbers a new document one more."""
        return self._ids[-1] if self._ids else 0


class _Values(ValuesView[Encoded]):
    def __iter__(self) -> Iterator[Encoded]:
        return self._mapping.raws()  # type: ignore[attr-defined, no-any-return]


class _Items(ItemsView[str, Encoded]):
    def __iter__(self) -> Iterator[tuple[str, Encoded]]:
        return ((str(i), raw) for i, raw in self._mapping.pairs())  # type: ignore[attr-defined]


class CompactDocs(MutableMapping[str, Any]):
    """A table's documents (doc id -> document), each held encoded.

    Every read decodes a fresh copy: callers may change what they get, and nothing they do
    changes the store until it is written back. `encoded` is the underlying doc id -> bytes.
    """

    __slots__ = ("encoded",)

    def __init__(self, encoded: Mapping[str, Encoded] | None = None) -> None:
        self.encoded = encoded if isinstance(encoded, EncodedDocs) else EncodedDocs(encoded)

    @classmethod
    def of(cls, docs: Mapping[Any, Any]) -> CompactDocs:
        """`docs` as compact documents (a plain table written by TinyDB is encoded)."""
        if isinstance(docs, CompactDocs):
            return docs
        return cls({str(doc_id): encode_doc(doc) for doc_id, doc in docs.items()})

    def __getitem__(self, doc_id: str) -> Any:
        return decode_doc(self.encoded[doc_id])

    def __setitem__(self, doc_id: str, doc: Any) -> None:
        self.encoded[str(doc_id)] = encode_doc(doc)

    def __delitem__(self, doc_id: str) -> None:
        del self.encoded[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.encoded)

    def __len__(self) -> int:
        return len(self.encoded)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.encoded

    def encoded_pairs(self) -> Iterator[tuple[int, Encoded]]:
        """(doc id, JSON bytes) pairs in doc id order, for writing the file as held."""
        return self.encoded.pairs()


def compact_tables(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """TinyDB's {table: documents} with every table held as `CompactDocs`."""
    if data is None:
        return None
    return {name: CompactDocs.of(docs) for name, docs in data.items()}


def table_docs(table: Table) -> EncodedDocs:
    """The encoded documents of a compact table (as held: do not change them)."""
    tables = table.storage.read() or {}
    docs = tables.get(table.name)
    if docs is None:
        return EncodedDocs()
    return CompactDocs.of(docs).encoded


def write_docs(table: Table, changes: Mapping[int, Encoded | None]) -> None:
    """Write documents to a compact table in one write: doc id -> bytes (None deletes it).

    Only the changed documents were encoded (by the caller); the others are written as held.
    If the write fails the storage reloads the file: the caller drops what it indexed.
    """
    storage = table.storage
    tables: dict[str, Any] = storage.read() or {}
    docs = CompactDocs.of(tables.get(table.name, {}))
    tables[table.name] = docs
    for doc_id, raw in changes.items():
        if raw is None:
            docs.encoded.pop(str(doc_id), None)
        else:
            docs.encoded[str(doc_id)] = raw
    try:
        storage.write(tables)
    finally:
        table.clear_cache()
        table._next_id = None  # noqa: SLF001 - TinyDB's own id counter


class CompactJSONStorage(AtomicJSONStorage):
    """`AtomicJSONStorage` holding each document as its JSON bytes."""

    def _load(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            tables: dict[str, Any] = _raw_tables.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            return compact_tables(super()._load())  # NaN, lone surrogates: the full reader
        try:
            return {name: CompactDocs(docs) for name, docs in tables.items()}
        except CorruptDataError as exc:
            raise CorruptDataError(
                f"Data file {self.path}: {exc}. It has not been touched."
            ) from exc

    def write(self, data: dict[str, Any]) -> None:
        for name, docs in data.items():
            if not isinstance(docs, Mapping):
                raise TypeError(f"table {name!r} is not a mapping of documents")
            data[name] = CompactDocs.of(docs)
        super().write(data)

    def preload(self, data: dict[str, Any]) -> None:
        super().preload(compact_tables(data) or {})


class CompactMemoryStorage(Storage):
    """In-memory storage holding `CompactDocs` (tests run the same code as the file store)."""

    def __init__(self) -> None:
        self.memory: dict[str, Any] | None = None

    def read(self) -> dict[str, Any] | None:
        return self.memory

    def write(self, data: dict[str, Any]) -> None:
        self.memory = compact_tables(data)
