"""The write-ahead log that makes writes to several data files one, at the cost of one fsync.

Inside `Store.transaction()` every file write is held in memory (the file's cached data is
updated, so reads in the transaction see it). When the transaction ends, the new content of
every held file is appended to `journal.log` as one record and the log is fsynced: that is the
commit. Then each file is replaced (a temporary file renamed over it) without waiting for the
disk. Those files are made durable later, by a checkpoint: fsync every file written since the
last one and their directories, then empty the log. When the log passes `CHECKPOINT_BYTES` or
covers `CHECKPOINT_FILES` files, it is renamed `journal.old.log` and a new log takes the next
commits while a background thread makes the old log's files durable and then deletes it, so no
commit waits for those fsyncs. The store's close checkpoints everything, in the foreground, and
so does the open that replays the logs (the old one first).

- a kill before the record is whole in the log leaves every file as it was (neither): the next
  open drops a torn last record (its length and CRC say it is not whole);
- a kill, or a power cut, after it: the next writable open writes every file of every record
  again, in order, before anything reads the data (both); each record holds whole files, so
  writing one twice is harmless, and the log is emptied only once the files are durable, so a
  kill during a checkpoint (or during that replay) loses nothing either;
- a read-only open while the log holds records reads their files over the data files.

A file written through the log goes through it until the next checkpoint, also outside a
transaction, so an older copy in the log can never be replayed over a newer file. Data
directories from before the log may hold `journal.json` (one interrupted transaction); it is
read and completed the same way.

A transaction that raises is undone in memory: the held files are re-read from disk and the
repositories drop their indexes (`Journal.on_undo`).
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import zlib
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import datafile
from bot import store as store_module

if TYPE_CHECKING:
    from bot.store import AtomicJSONStorage

log = logging.getLogger(__name__)
FORMAT = 2
LOG, OLD_LOG = "journal.log", "journal.old.log"
# A background checkpoint when the log passes this, or covers this many files: a claim adds a
# task and an audit shard (1-20 KB at 100k subscribers), so a few hundred claims share one
# checkpoint's fsyncs, and a close or a start has at most this many files to fsync.
CHECKPOINT_BYTES, CHECKPOINT_FILES = 8 << 20, 512
_HEADER = 18  # b"R" + 8 hex digits of length + 8 of CRC-32 + b"\n"

Files = dict[str, dict[str, Any]]  # file name (e.g. "tasks/07") -> its TinyDB tables


class Journal:
    """The journal of one data directory. Owned by its `Store`; use `Store.transaction()`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOG
        self.old = data_dir / OLD_LOG
        self.legacy = data_dir / store_module.JOURNAL
        self._held: dict[Path, tuple[AtomicJSONStorage, dict[str, Any]]] | None = None
        self._owner: int | None = None
        self._intent: dict[str, Any] = {}
        self._undo: list[Callable[[], None]] = []
        self._lock = threading.RLock()  # the log, its size and the files it covers
        self._fd: int | None = None
        self._size = 0
        self._dirty: set[str] = set()  # files written through the log since the last checkpoint
        self._old: set[str] = set()  # the files of `journal.old.log`, until they are durable
        self._worker: threading.Thread | None = None  # the background checkpoint
        self._unapplied: Files = {}  # committed files not written yet (a full disk at commit)

    @property
    def active(self) -> bool:
        return self._held is not None and self._owner == threading.get_ident()

    @property
    def size(self) -> int:
        """Bytes in the log since the last checkpoint."""
        return self._size

    def on_undo(self, callback: Callable[[], None]) -> None:
        """Call `callback` when a transaction is undone (a repository dropping its indexes)."""
        self._undo.append(callback)

    # ----- one transaction (the caller holds the store's lock throughout) -------------------

    def begin(self, intent: dict[str, Any]) -> None:
        self._held, self._owner, self._intent = {}, threading.get_ident(), intent

    def hold(self, storage: AtomicJSONStorage, data: dict[str, Any]) -> bool:
        """Keep a file write for the end of the transaction; False to write it directly.

        Outside a transaction a file the log still covers is committed through the log alone.
        """
        if self.active:
            assert self._held is not None
            self._held[storage.path] = (storage, data)
            return True
        with self._lock:
            self.flush()
            name = self._name(storage.path)
            if name not in self._dirty and name not in self._old:
                return False
            self._commit({storage.path: (storage, data)}, {})
            return True

    def commit(self) -> None:
        """Append the held files to the log and fsync it, then write each file."""
        held, self._held, self._owner = self._held or {}, None, None
        if held:
            self._commit(held, self._intent)

    def abort(self) -> None:
        held, self._held, self._owner = self._held or {}, None, None
        self._forget(held.values())

    def flush(self) -> None:
        """Write committed files that could not be written at commit (a full disk)."""
        with self._lock:
            while self._unapplied:
                name, data = next(iter(self._unapplied.items()))
                self._write(name, data, durable=False)
                del self._unapplied[name]

    def checkpoint(self) -> None:
        """Make every file the logs cover durable, then empty the log and delete the old one."""
        self._join()
        with self._lock:
            if self._fd is None and not self._old:
                return
            self.flush()
            _make_durable(self._file(name) for name in sorted(self._dirty | self._old))
            if self._fd is not None:
                os.ftruncate(self._fd, 0)
                os.fsync(self._fd)
            self._size = 0
            self._dirty.clear()
            self._drop_old()

    def _start_checkpoint(self) -> None:
        """Rotate the log and make the old one's files durable in the background."""
        if self._old or self._unapplied or self._fd is None:
            return  # one at a time; a failed write is for the foreground checkpoint
        os.close(self._fd)
        self._fd = None
        os.replace(self.path, self.old)  # the next commit creates the log (and syncs the rename)
        self._old, self._dirty, self._size = self._dirty, set(), 0
        paths = [self._file(name) for name in sorted(self._old)]
        self._worker = threading.Thread(
            target=self._background, args=(paths,), name="care-checkpoint", daemon=True
        )
        self._worker.start()

    def _background(self, paths: list[Path]) -> None:
        try:
            _make_durable(paths)
            with self._lock:
                self._drop_old()
        except Exception:
            log.exception("Checkpointing %s failed; the next checkpoint or start does it", self.old)

    def _drop_old(self) -> None:
        if self.old.exists():
            os.unlink(self.old)
            datafile.fsync_dir(self.data_dir)
        self._old = set()

    def _join(self) -> None:
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join()

    def close(self) -> None:
        """Checkpoint and remove the log (the store is closing)."""
        self.checkpoint()
        with self._lock:
            if self._fd is None:
                return
            os.close(self._fd)
            self._fd = None
            os.unlink(self.path)
            datafile.fsync_dir(self.data_dir)

    # ----- opening a data directory ----------------------------------------------------------

    def recover(self) -> dict[str, Any] | None:
        """Complete what a killed process left in the log (and a legacy `journal.json`).

        Returns the intent of the transaction the kill interrupted (its files were not all
        written yet), or None.
        """
        interrupted = None
        legacy = self.read_legacy()
        if legacy is not None:
            log.warning("Completing an interrupted write from %s (%s)", self.legacy, legacy[1])
            self._write_durably(legacy[0])
            os.unlink(self.legacy)
            datafile.fsync_dir(self.data_dir)
            interrupted = legacy[1]
        records = self.read_log(self.old) + self.read_log()
        if records:
            files, intent = records[-1]
            if not self._on_disk(files):
                interrupted = intent
            log.warning("Replaying %d committed writes from %s", len(records), self.path)
            self._write_durably(merge(records))
        for path in (self.old, self.path):
            if path.exists():
                os.unlink(path)
                datafile.fsync_dir(self.data_dir)
        return interrupted

    def pending(self) -> Files:
        """The files that the log (and a legacy journal) holds over the data files."""
        files: Files = {}
        legacy = self.read_legacy()
        if legacy is not None:
            files.update(legacy[0])
        files.update(merge(self.read_log(self.old) + self.read_log()))
        return files

    def read_log(self, path: Path | None = None) -> list[tuple[Files, dict[str, Any]]]:
        """The log's (or `path`'s) whole records, oldest first; a torn last one is left out."""
        path = path or self.path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return []
        records, at = [], 0
        while at < len(raw):
            record, end = _record_at(raw, at)
            if record is None:
                if end < len(raw) and raw[end:].strip(b"\0"):
                    raise store_module.CorruptDataError(
                        f"{path} holds committed writes but its record at byte {at} is not "
                        "readable. It has not been touched: restore the data directory from a "
                        "backup."
                    )
                log.warning("Dropping a torn last record (%d bytes) of %s", len(raw) - at, path)
                break
            records.append(_parse(record, path))
            at = end
        return records

    def read_legacy(self) -> tuple[Files, dict[str, Any]] | None:
        """A `journal.json` an older version left: (files, intent), or None."""
        try:
            raw = self.legacy.read_bytes()
        except FileNotFoundError:
            return None
        return _parse(raw, self.legacy)

    # ----- inside --------------------------------------------------------------------------

    def _commit(
        self, held: dict[Path, tuple[AtomicJSONStorage, dict[str, Any]]], intent: dict[str, Any]
    ) -> None:
        files = {self._name(path): data for path, (_, data) in held.items()}
        with self._lock:
            try:
                self._append(_encode_record(files, intent))
            except BaseException:
                self._forget(held.values())
                raise
            # Decided: from here on, the data is the log's.
            self._dirty.update(files)
            self._unapplied.update(files)
            try:
                self.flush()
                if self._size >= CHECKPOINT_BYTES or len(self._dirty) >= CHECKPOINT_FILES:
                    self._start_checkpoint()
            except OSError:
                # Stored in the log; the next write, checkpoint or start writes it.
                log.exception(
                    "Writing the files of %s failed; retried on the next write", self.path
                )

    def _append(self, record: bytes) -> None:
        if self._fd is None:
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            self._size = os.fstat(self._fd).st_size
            if created:
                datafile.fsync_dir(self.data_dir)
        try:
            datafile.append_log(self._fd, self.path, record)
        except BaseException:
            try:  # a torn record must not stay before the next one
                os.ftruncate(self._fd, self._size)
            except OSError:
                log.exception("Could not cut a failed record off %s", self.path)
            raise
        self._size += len(record)

    def _write(self, name: str, data: dict[str, Any], durable: bool) -> None:
        path = self._file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        datafile.atomic_write(
            path, partial(datafile.write_tables, data), durable=durable, binary=True
        )

    def _write_durably(self, files: Files) -> None:
        for name, data in files.items():
            self._write(name, data, durable=True)

    def _on_disk(self, files: Files) -> bool:
        """True when every file already holds what `files` says (written before the kill)."""
        for name, data in files.items():
            try:
                if datafile.loads(self._file(name).read_bytes()) != data:
                    return False
            except (OSError, ValueError, UnicodeDecodeError):
                return False
        return True

    def _file(self, name: str) -> Path:
        return self.data_dir / f"{name}.json"

    def _name(self, path: Path) -> str:
        return path.relative_to(self.data_dir).with_suffix("").as_posix()

    def _forget(self, held: Iterable[tuple[AtomicJSONStorage, dict[str, Any]]]) -> None:
        for storage, _ in held:
            storage.forget()
        for callback in self._undo:
            callback()


def _make_durable(paths: Iterable[Path]) -> None:
    """fsync each file written without it, then each of their directories."""
    directories = set()
    for path in paths:
        datafile.fsync_file(path)
        directories.add(path.parent)
    for directory in sorted(directories):
        datafile.fsync_dir(directory)


def merge(records: list[tuple[Files, dict[str, Any]]]) -> Files:
    """The newest content of every file in `records` (oldest first)."""
    files: Files = {}
    for record_files, _ in records:
        files.update(record_files)
    return files


def _encode_record(files: Files, intent: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    out.write(f'{{"format":{FORMAT},"intent":{json.dumps(intent)},"files":{{'.encode())
    for i, (name, data) in enumerate(files.items()):
        out.write(f"{',' if i else ''}{json.dumps(name)}:".encode())
        datafile.write_tables(data, out)
    out.write(b"}}")
    payload = out.getvalue()
    header = f"R{len(payload):08x}{zlib.crc32(payload):08x}\n".encode()
    return header + payload + b"\n"


def _record_at(raw: bytes, at: int) -> tuple[bytes | None, int]:
    """The payload of the record at `at` and where the next one starts; None if not whole."""
    header = raw[at : at + _HEADER]
    try:
        if len(header) < _HEADER or header[:1] != b"R" or header[-1:] != b"\n":
            raise ValueError("no record header")
        length, crc = int(header[1:9], 16), int(header[9:17], 16)
    except ValueError:
        return None, len(raw) if len(header) < _HEADER else at + _HEADER
    start = at + _HEADER
    end = start + length + 1
    payload = raw[start : start + length]
    if end > len(raw) or zlib.crc32(payload) != crc or raw[end - 1 : end] != b"\n":
        return None, end
    return payload, end


def _parse(raw: bytes, path: Path) -> tuple[Files, dict[str, Any]]:
    try:
        doc = json.loads(raw)
        files, intent = doc["files"], doc.get("intent", {})
        if not isinstance(files, dict) or not isinstance(intent, dict):
            raise TypeError("files and intent must be objects")
    except (ValueError, KeyError, TypeError) as exc:
        raise store_module.CorruptDataError(
            f"{path} holds an interrupted write but is not readable ({exc}). It has not "
            "been touched: restore the data directory from a backup."
        ) from exc
    return files, intent
