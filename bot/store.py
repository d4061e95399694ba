"""The data directory: TinyDB files behind one process lock and one write lock, sharded.

- `Store` owns the data directory: it takes a cross-process lock (`filelock`) so a second
  bot on the same directory is refused, and a thread lock that every read-modify-write holds.
  Each file is a TinyDB on `bot.datafile.AtomicJSONStorage` (atomic writes, cached reads; the
  compact variant of `bot.compact` for the large aggregates).
- Aggregates that get frequent small writes (tasks, outreach, events, inbox) are split into
  shards by subscriber, so one task write rewrites one small file whatever the number of
  subscribers. An aggregate may move to a generation of more shard files (`bot.reshard`).
  Repositories in `bot.repos` are the only code that touches TinyDB.
- `Store.transaction()` makes writes to several files one: inside it, writes are held in
  memory; at the end the new content of every file is appended to `journal.log` (the
  write-ahead log) with one fsync, then written to each file, made durable later by a
  checkpoint (see `bot.journal`). A kill before the record is whole leaves every file as it
  was; after, the next open replays the log. So an outreach log and the tasks it closes are
  stored both or neither, and a claim and its audit entry cost one fsync.

The file-level parts (`bot.datafile`) are re-exported here, as the repositories use them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Table

from bot import datafile
from bot.datafile import AtomicJSONStorage as AtomicJSONStorage
from bot.datafile import CorruptDataError as CorruptDataError
from bot.datafile import ReadOnlyError as ReadOnlyError
from bot.datafile import StoreError as StoreError
from bot.datafile import append_log as append_log
from bot.datafile import atomic_write as atomic_write
from bot.datafile import copy_doc as copy_doc
from bot.datafile import dump_doc as dump_doc
from bot.datafile import fsync_dir as fsync_dir
from bot.datafile import fsync_file as fsync_file
from bot.datafile import iter_docs as iter_docs
from bot.datafile import loads as loads
from bot.datafile import raw_docs as raw_docs
from bot.datafile import rewrite as rewrite
from bot.datafile import sync_all as sync_all
from bot.datafile import write_tables as write_tables

if TYPE_CHECKING:
    from bot.journal import Journal

TABLE = "_default"
STORE_META = "store.json"
JOURNAL = "journal.json"
# Files per sharded aggregate. At 100k subscribers (~27k tasks) a task shard holds ~26 tasks, so
# a task write costs what it costs at 1k (measured: 64 shards 2-3x, 512 about 2x, 1024 1.0x;
# 2048 also 1.0x but slows bulk imports and the engine by a second and adds memory).
DEFAULT_SHARDS = 1024
# Files (and sharded aggregates) whose documents are held as JSON bytes and decoded when read
# (bot.compact).
COMPACT = frozenset({"subscribers", "tasks", "events", "outreach"})
# Aggregates a repository may spread over more shard files as they grow (`bot.reshard`).
RESHARDABLE = frozenset({"tasks"})


class DataDirLocked(StoreError):
    """Another process holds the data directory."""


def shard_of(key: str, shards: int) -> int:
    # surrogatepass: a key with lone surrogates (from bad headers) still has a shard.
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % shards


class Store:
    """The data directory: TinyDB files, the process lock and the write lock.

    Args:
        data_dir: where data lives; `None` keeps everything in memory (tests).
        read_only: open without the process lock and refuse writes (previews, stats while
            the bot runs).
        shards: number of files for aggregates that get frequent small writes.
    """

    def __init__(
        self, data_dir: str | Path | None, *, read_only: bool = False, shards: int = DEFAULT_SHARDS
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.read_only = read_only
        self.shards = shards
        self._sizes: dict[str, int] = {}  # aggregates spread over more shards (bot.reshard)
        self._moved: dict[str, list[Callable[[], None]]] = {}  # told when they are
        self.lock = threading.RLock()
        self._dbs: dict[str, TinyDB] = {}
        self._file_lock: FileLock | None = None
        self.journal: Journal | None = None
        self._overlay: dict[str, dict[str, Any]] = {}
        # The intent of an interrupted transaction this open completed (see bot.journal).
        self.recovered: dict[str, Any] | None = None
        if self.data_dir is not None:
            from bot.journal import Journal

            self.journal = Journal(self.data_dir)
            if read_only:
                if not self.data_dir.is_dir():
                    raise StoreError(
                        f"No data in {self.data_dir}: import subscribers first "
                        "(python app.py import FILE) or set CARE_DATA_DIR."
                    )
                self._overlay = self.journal.pending()
            else:
                self._lock_dir()
                self.recovered = self.journal.recover()
            self.shards = self._shard_count(shards)
            if not read_only:
                self._remove_unfinished_reshards()

    def _shard_count(self, wanted: int) -> int:
        """The data directory's own shard count (`store.json`), recorded when it is first used.

        Which shard file holds a subscriber's tasks depends on this number, so a directory keeps
        the count it was created with whatever the code's default becomes later. An aggregate
        spread over more shards since (`bot.reshard`) has its own count under "aggregates".
        """
        assert self.data_dir is not None
        meta = self.data_dir / STORE_META
        if meta.exists():
            try:
                doc = json.loads(meta.read_text())
                recorded = int(doc["shards"])
                self._sizes = {str(k): int(v) for k, v in doc.get("aggregates", {}).items()}
                if recorded < 1 or any(v % recorded for v in self._sizes.values()):
                    raise ValueError("a shard count is not a multiple of the first one")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise CorruptDataError(
                    f"{meta} is not readable; restore it from a backup."
                ) from exc
            return recorded
        legacy = self.data_dir / "tasks"
        count = 64 if legacy.is_dir() and any(legacy.iterdir()) else wanted
        if not self.read_only:
            datafile.atomic_write(meta, json.dumps({"format": 1, "shards": count}).encode())
        return count

    def refresh_shards(self, name: str) -> bool:
        """In a read-only open, take up a re-shard of `name` that the bot finished since this
        open read `store.json` (its old files may be gone). True if it moved.

        A reader that built its view of `name` and then finds the count unchanged has read
        the generation in use: the old files are removed only after the flip.
        """
        if not self.read_only or self.data_dir is None:
            return False
        with self.lock:
            before = dict(self._sizes)
            self._shard_count(self.shards)
            count = self._sizes.get(name, self.shards)
            if count == before.get(name, self.shards):
                return False
            old = [f for f in self._dbs if f.partition("/")[0] == name]
            self._moved_to(name, {}, old)
            return True

    def _write_meta(self) -> None:
        assert self.data_dir is not None
        doc: dict[str, Any] = {"format": 1, "shards": self.shards}
        if self._sizes:
            doc["aggregates"] = dict(sorted(self._sizes.items()))
        datafile.atomic_write(self.data_dir / STORE_META, json.dumps(doc).encode())

    def _remove_unfinished_reshards(self) -> None:
        from bot.reshard import remove_stale

        assert self.data_dir is not None
        for name in sorted(RESHARDABLE | set(self._sizes)):
            remove_stale(self.data_dir, name, self.shard_names(name))

    @classmethod
    def memory(cls, shards: int = 4) -> Store:
        return cls(None, shards=shards)

    def _lock_dir(self) -> None:
        assert self.data_dir is not None
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create data directory {self.data_dir}: {exc}") from exc
        lock = FileLock(str(self.data_dir / ".care.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout as exc:
            raise DataDirLocked(
                f"Another Proactive Care process is using {self.data_dir}. Stop it first, or set "
                "CARE_DATA_DIR to another directory. (Read-only commands such as "
                "'digest --preview' work while the bot runs.)"
            ) from exc
        self._file_lock = lock
        self._remove_stale_temp_files()

    def _remove_stale_temp_files(self) -> None:
        """Delete temporary files a killed writer left behind (never read as data).

        Safe only while holding the directory lock: no other process is writing.
        """
        assert self.data_dir is not None
        for stale in self.data_dir.rglob(".*.json.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    def db(self, name: str) -> TinyDB:
        """The TinyDB file `name` (e.g. "subscribers" or "tasks/07")."""
        with self.lock:
            db = self._dbs.get(name)
            if db is None:
                compact = name.partition("/")[0] in COMPACT
                if self.data_dir is None:
                    db = TinyDB(storage=_compact_storage("memory") if compact else MemoryStorage)
                else:
                    path = self.data_dir / f"{name}.json"
                    if not self.read_only:
                        path.parent.mkdir(parents=True, exist_ok=True)
                    db = TinyDB(
                        path,
                        storage=_compact_storage("file") if compact else AtomicJSONStorage,
                        read_only=self.read_only,
                        journal=self.journal,
                    )
                    if name in self._overlay:  # read-only, an interrupted write not applied yet
                        storage: AtomicJSONStorage = db.storage  # type: ignore[assignment]
                        storage.preload(self._overlay[name])
                self._dbs[name] = db
            return db

    def table(self, name: str) -> Table:
        return self.db(name).table(TABLE)

    def shard_count(self, name: str) -> int:
        """How many shard files the aggregate `name` is spread over."""
        return self._sizes.get(name, self.shards)

    def shard_names(self, name: str, count: int | None = None) -> list[str]:
        """The file names of the aggregate's shards (of a generation of `count` shards).

        The first generation is `tasks/07`; one spread over more shards is named by its count,
        `tasks/16384-00042`, so two generations never share a file.
        """
        count = count or self.shard_count(name)
        if count == self.shards:
            return [f"{name}/{i:02d}" for i in range(count)]
        return [f"{name}/{count}-{i:05d}" for i in range(count)]

    def shard_tables(self, name: str) -> list[Table]:
        return [self.table(file) for file in self.shard_names(name)]

    def shard_table(self, name: str, key: str) -> Table:
        count = self.shard_count(name)
        at = shard_of(key, count)
        file = f"{name}/{at:02d}" if count == self.shards else f"{name}/{count}-{at:05d}"
        return self.table(file)

    def use_shards(self, name: str, count: int, held: dict[str, Any], old: list[str]) -> None:
        """Switch `name` to its generation of `count` shards (`bot.reshard`; on disk, its files
        are written and durable): record it in `store.json` (the flip), hold `held` (file ->
        documents) as the new files' data, then remove the files of the `old` generation."""
        from bot.reshard import remove_file

        with self.lock:
            before = dict(self._sizes)
            self._sizes[name] = count
            if self.data_dir is not None:
                try:
                    self._write_meta()
                except BaseException:
                    self._sizes = before
                    raise
            self._moved_to(name, held, old)
            if self.data_dir is None:
                return
            try:
                for file in old:
                    remove_file(self.data_dir / f"{file}.json")
                datafile.fsync_dir(self.data_dir / name)
            except OSError:  # the next writable open removes them
                logging.getLogger(__name__).exception("Could not remove the old %s files", name)

    @contextlib.contextmanager
    def transaction(self, intent: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Make every write inside one: all of them are stored, or none (see `bot.journal`).

        Holds the store's lock throughout. A transaction inside another joins it. In memory
        (tests) the writes simply happen.

        Args:
            intent: what the transaction does (e.g. `{"action": "log", "tasks": [...]}`),
                kept in the journal and handed back as `recovered` by the open that completes
                an interrupted one, so the caller can bring other views (Slack) up to date.

        Yields:
            The intent, which the body may add to.
        """
        intent = dict(intent or {})
        with self.lock:
            journal = self.journal
            if journal is None or journal.active:
                yield intent
                return
            self.check_writable()
            journal.begin(intent)
            try:
                yield intent
            except BaseException:
                journal.abort()
                raise
            journal.commit()

    def _moved_to(self, name: str, held: dict[str, Any], old: list[str]) -> None:
        """Drop the old generation's files from memory, hold the new one's, tell the repos."""
        for file in old:
            db = self._dbs.pop(file, None)
            if db is not None:
                db.close()
        for file, docs in held.items():
            storage = self.db(file).storage
            if isinstance(storage, AtomicJSONStorage):
                storage.preload({TABLE: docs})
            else:
                storage.write({TABLE: docs})
        for callback in self._moved.get(name, ()):
            callback()

    def on_reshard(self, name: str, callback: Callable[[], None]) -> None:
        """Call `callback` when the aggregate `name` moves to new shard files (`bot.reshard`):
        its repository takes the new tables and drops what it indexed by place."""
        self._moved.setdefault(name, []).append(callback)

    def on_undo(self, callback: Callable[[], None]) -> None:
        """Call `callback` when a transaction is undone (repositories drop their indexes)."""
        if self.journal is not None:
            self.journal.on_undo(callback)

    def check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError("This command opened the data read-only")

    def checkpoint(self) -> None:
        """Make every committed write durable in its file and empty the journal's log."""
        if self.journal is not None and not self.read_only:
            with self.lock:
                self.journal.checkpoint()

    def close(self) -> None:
        with self.lock:
            try:
                if self.journal is not None and not self.read_only:
                    self.journal.close()  # the log's files made durable, the log removed
            finally:
                for db in self._dbs.values():
                    db.close()
                self._dbs.clear()
                if self._file_lock is not None:
                    if self.data_dir is not None:  # no longer written by this process
                        datafile.keep_on_replace(self.data_dir, {})
                    self._file_lock.release()
                    self._file_lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _compact_storage(kind: str) -> type[Storage]:
    from bot.compact import CompactJSONStorage, CompactMemoryStorage

    return CompactJSONStorage if kind == "file" else CompactMemoryStorage
