"""Compact TinyDB storage: each document is kept as its JSON bytes and decoded when read.

A million subscribers held as Python dicts take some 4 GB (about 1.7 KB a subscriber: a dict
per document, per subscription, per history entry, a str per value). Held as the bytes of
their JSON they take what the file takes (about 400 bytes each). `CompactDocs` is the table
mapping TinyDB and the repositories see: reading a document decodes it with msgspec (a few
microseconds), writing one encodes it. The file is read with msgspec as
`{table: {doc id: msgspec.Raw}}`, which only finds where each document starts and ends, so
opening a million-subscriber file costs little more than reading it; each `Raw` is a view of
the file's bytes, which stay in memory as the data.

`CompactJSONStorage` is the `AtomicJSONStorage` (atomic, journalled writes, corrupt files
refused) holding `CompactDocs`; `CompactMemoryStorage` is its in-memory twin for tests. Writing
a file writes the stored bytes as they are: only changed documents are ever encoded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import msgspec
from tinydb.storages import Storage

from bot.store import AtomicJSONStorage, dump_doc, loads

Encoded = bytes | msgspec.Raw
_raw_tables = msgspec.json.Decoder(dict[str, dict[str, msgspec.Raw]])
_encode = msgspec.json.encode


def encode_doc(doc: Any) -> bytes:
    """A document as the JSON bytes the store writes (`bot.store.dump_doc`)."""
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


class CompactDocs(MutableMapping[str, Any]):
    """A table's documents (doc id -> document), each held encoded.

    Every read decodes a fresh copy: callers may change what they get, and nothing they do
    changes the store until it is written back. `encoded` is the underlying doc id -> bytes.
    """

    __slots__ = ("encoded",)

    def __init__(self, encoded: dict[str, Encoded] | None = None) -> None:
        self.encoded: dict[str, Encoded] = {} if encoded is None else encoded

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

    def encoded_items(self) -> Iterator[tuple[str, Encoded]]:
        """(doc id, JSON bytes) pairs, for writing the file without re-encoding."""
        return iter(self.encoded.items())


def compact_tables(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """TinyDB's {table: documents} with every table held as `CompactDocs`."""
    if data is None:
        return None
    return {name: CompactDocs.of(docs) for name, docs in data.items()}


class CompactJSONStorage(AtomicJSONStorage):
    """`AtomicJSONStorage` holding each document as its JSON bytes."""

    def _load(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            tables: dict[str, Any] = _raw_tables.decode(raw)
            return {name: CompactDocs(docs) for name, docs in tables.items()}
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            pass  # NaN, lone surrogates, or not a document table: the full reader decides
        return compact_tables(super()._load())

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
