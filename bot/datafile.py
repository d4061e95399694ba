"""One data file: read once and cached, written whole and atomically, made durable.

- `AtomicJSONStorage` (a TinyDB storage) writes to a temporary file, fsyncs it, renames it over
  the data file and fsyncs the directory: a crash at any moment leaves the old or the new file,
  never a torn one. It keeps the parsed data in memory, so reads do not re-parse the file (the
  data directory belongs to one process, see `bot.store.Store`). A file that is not valid JSON
  raises `CorruptDataError` and is never overwritten. Inside a transaction it hands its writes
  to the journal (`bot.journal`) instead.
- `loads`, `dump_doc` and `write_tables` read and write the JSON (msgspec first, `json` for
  what msgspec refuses); `atomic_write`, `append_log`, `fsync_file`, `fsync_dir` and `sync_all`
  are the file-system steps every writer (the storage, the journal, a re-shard) shares.
- `raw_docs`, `copy_doc`, `rewrite` and `iter_docs` read and change a table's documents as
  the storage holds them, for the repositories.

`bot.store` re-exports these names: repositories import them from there.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import msgspec
from tinydb.storages import Storage
from tinydb.table import Table

if TYPE_CHECKING:
    from bot.journal import Journal


class StoreError(Exception):
    """The data directory cannot be used; the message says why and what to do."""


class CorruptDataError(StoreError):
    """A data file is not readable JSON. It is left untouched."""


class ReadOnlyError(StoreError):
    """A write was attempted on a store opened read-only."""


class AtomicJSONStorage(Storage):
    """A TinyDB storage writing whole files atomically and caching the parsed data."""

    def __init__(
        self, path: str | Path, read_only: bool = False, journal: Journal | None = None
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.journal = journal
        self._cache: dict[str, Any] | None = None
        # The file was looked for and is not there: most record shards of a small or young
        # store, read on every render. Remembered, so a read does not try to open it again.
        self._absent = False

    def read(self) -> dict[str, Any] | None:
        if self._cache is None and not self._absent:
            self._cache = self._load()
            self._absent = self._cache is None
        return self._cache

    def _load(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            raise CorruptDataError(
                f"Data file {self.path} is empty (a crash or a copy cut short?). It has not been "
                "touched: restore it from a backup, or move it away to start that data afresh."
            )
        try:
            data = loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptDataError(
                f"Data file {self.path} is not valid JSON ({exc}). It has not been touched: "
                "restore it from a backup, or move it away to start that data afresh."
            ) from exc
        if not isinstance(data, dict):
            raise CorruptDataError(f"Data file {self.path} does not hold a TinyDB document table.")
        return data

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            raise ReadOnlyError(f"{self.path} was opened read-only")
        if self.journal is not None and self.journal.hold(self, data):
            self._cache = data  # written when the transaction ends
            return
        try:
            atomic_write(self.path, partial(write_tables, data), binary=True)
        except BaseException:
            self._cache = None  # TinyDB may have changed the cached dict in place: reload from disk
            self._absent = False
            raise
        self._cache = data

    def preload(self, data: dict[str, Any]) -> None:
        """Use `data` as the file's content (a pending journal's, in a read-only open)."""
        self._cache, self._absent = data, False

    def forget(self) -> None:
        """Drop the cached data: the next read loads the file again (a transaction undone)."""
        self._cache, self._absent = None, False

    def close(self) -> None:
        self._cache, self._absent = None, False


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_dumps_ascii = json.JSONEncoder(separators=(",", ":")).encode
_SURROGATE = re.compile("[\ud800-\udfff]")
_encode = msgspec.json.encode


def loads(raw: bytes) -> Any:
    """JSON bytes as Python builtins, as `json.loads` reads them.

    msgspec's C decoder reads a 100k-subscriber file about twice as fast; what it refuses
    (escaped lone surrogates, NaN, numbers out of its range) is read by `json.loads`.
    """
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return json.loads(raw)


def dump_doc(doc: Any) -> str:
    """A document as JSON text that UTF-8 can carry, as `json.dumps` writes it.

    msgspec's encoder is about five times faster than the stdlib's. Its output is used unless
    it holds a `null`: msgspec writes NaN and infinity as `null`, so a document with one (or
    with a None, which is rare as documents leave empty values out) goes through `json`, which
    keeps them. A str may hold lone surrogates (from undecodable header bytes): UTF-8 cannot
    encode them (msgspec refuses them), so such a document is written with `\\uXXXX` escapes,
    which `json.loads` reads back as the same str. Every other document keeps its non-ASCII
    text as is.
    """
    try:
        fast = _encode(doc)
    except (UnicodeEncodeError, TypeError, OverflowError):
        fast = b"null"
    if b"null" not in fast:
        return fast.decode()
    text = _dumps(doc)
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _dumps_ascii(doc)


def write_tables(data: dict[str, Any], fh: IO[bytes]) -> None:
    """Write TinyDB's {table: {doc id: document}} as JSON bytes, one document at a time.

    Streaming keeps a 100k-subscriber table from existing twice in memory, and encoding
    document by document keeps CPython's C encoder (`json.dump` to a stream uses the pure-Python
    one, several times slower). A compact table (`bot.compact`) is written from the bytes it
    holds, as they are: no document is decoded or re-encoded.
    """
    write = fh.write
    write(b"{")
    for t, (table, docs) in enumerate(data.items()):
        write(b"%s%s:{" % (b"," if t else b"", _dumps(table).encode()))
        encoded = getattr(docs, "encoded_pairs", None)  # bot.compact: written as held
        if encoded is not None:
            pairs, sep = encoded(), b""
            while chunk := list(islice(pairs, 2048)):  # a few calls per 2,048 documents
                write(sep + b",".join([b'"%d":%b' % pair for pair in chunk]))
                sep = b","
        elif not isinstance(docs, dict):
            raise TypeError(f"table {table!r} is not a mapping of documents")
        else:
            for d, (doc_id, doc) in enumerate(docs.items()):
                key = _dumps(str(doc_id))
                write(f"{',' if d else ''}{key}:{dump_doc(doc)}".encode())
        write(b"}")
    write(b"}")


def atomic_write(
    path: Path,
    payload: bytes | Callable[[IO[str]], object] | Callable[[IO[bytes]], object],
    *,
    durable: bool = True,
    binary: bool = False,
) -> None:
    """Write `payload` to `path` so that readers see the old or the new content, never a mix.

    `payload` is bytes, or a function that writes text (UTF-8) to the file it is given (bytes
    with `binary=True`: the data files, `write_tables`).
    `durable=False` leaves out the fsyncs: for files the journal's log holds until its next
    checkpoint (a crash may then lose the file's new content, and the log restores it).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 16) as raw:
            if isinstance(payload, bytes):
                raw.write(payload)
            elif binary:
                payload(raw)  # type: ignore[arg-type]
            else:
                text = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)
                payload(text)  # type: ignore[arg-type]
                text.flush()
                text.detach()
            raw.flush()
            if durable:
                os.fsync(raw.fileno())
        if _KEEP:
            _keep_before_replacing(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


# Files whose version is kept (hard-linked) when `atomic_write` first replaces it, as
# `keep_on_replace` registered them: absolute path -> (the link to make, the inode to keep).
_KEEP: dict[str, tuple[str, int]] = {}


def keep_on_replace(directory: Path, files: dict[str, tuple[str, int]]) -> None:
    """Keep a file's version by a hard link when this process first replaces it.

    `bot.enginerun` keeps the engine run's shard files this way: a link made for each file
    written since the run, when it is written, instead of one for every file at the run (17k
    links under the store's lock at a million subscribers). A file is linked only if it is
    still the inode given: a version some other process wrote since is not the one to keep.
    A link that cannot be made is left out (the reader then compares the file by shard).

    Args:
        directory: what is registered for files under it is replaced by `files`.
        files: each file's path under `directory` -> (the link's path under `directory`,
            the file's inode when it is to be kept).
    """
    prefix = os.path.join(os.path.abspath(directory), "")
    for key in list(_KEEP):  # one C call: a write in another thread may pop meanwhile
        if key.startswith(prefix):
            _KEEP.pop(key, None)
    _KEEP.update({prefix + name: (prefix + link, inode) for name, (link, inode) in files.items()})


def _keep_before_replacing(path: Path) -> None:
    kept = _KEEP.pop(os.path.abspath(path), None)
    if kept is None:
        return
    link, inode = kept
    with contextlib.suppress(OSError):
        if os.stat(path).st_ino == inode:
            os.link(path, link)


def append_log(fd: int, path: Path, record: bytes) -> None:
    """Append `record` to the log open as `fd` (`path`, for messages) and make it durable."""
    view = memoryview(record)
    while view:
        view = view[os.write(fd, view) :]
    os.fdatasync(fd)


def fsync_file(path: Path) -> None:
    """Make a file written with `durable=False` durable (a journal checkpoint)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def sync_all() -> None:
    """Make every file written without fsync durable at once (`sync(2)`: on Linux it returns
    once the writes are on disk). A re-shard writes thousands of files: one fsync each took
    seconds per thousand."""
    os.sync()


def raw_docs(table: Table) -> dict[str, dict[str, Any]]:
    """The table's documents as stored (doc id -> dict), without copying. Read only."""
    tables = table.storage.read() or {}
    return tables.get(table.name, {})


def copy_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored document that callers may change freely.

    `raw_docs` hands out the cached documents themselves; an object built from one shares
    its lists and dicts with the cache, so changing it would change the store unwritten.
    """
    return {key: _copy_json(value) for key, value in doc.items()}


def _copy_json(value: Any) -> Any:
    if type(value) is list:
        return [_copy_json(v) for v in value]
    if type(value) is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    return value


def rewrite(table: Table, change: Callable[[dict[int, dict[str, Any]]], None]) -> None:
    """Apply `change` to the table's documents in one write (TinyDB has no bulk upsert).

    `change` receives doc id -> document and may add, replace or delete entries.
    """
    # TinyDB's own single-write primitive; it types documents as Mapping, ours are dicts.
    table._update_table(change)  # type: ignore[arg-type]  # noqa: SLF001


def iter_docs(tables: list[Table]) -> Iterator[tuple[Table, int, dict[str, Any]]]:
    for table in tables:
        for doc_id, doc in raw_docs(table).items():
            yield table, int(doc_id), doc
