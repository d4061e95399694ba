"""The write-ahead journal that makes writes to several data files one.

Inside `Store.transaction()` every file write is held in memory (the file's cached data is
updated, so reads in the transaction see it). When the transaction ends, the new content of
every held file goes atomically into `journal.json` first, then into each file, and then the
journal is deleted:

- a kill before the journal is renamed into place leaves every file as it was (neither);
- a kill after it leaves a journal that the next writable open applies again before anything
  reads the data (both): every entry is a whole file's content, so applying it twice is
  harmless;
- a read-only open while a journal is pending reads the journal's content over the files.

A transaction that raises is undone in memory: the held files are re-read from disk and the
repositories drop their indexes (`Journal.on_undo`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bot import store as store_module

if TYPE_CHECKING:
    from bot.store import AtomicJSONStorage

log = logging.getLogger(__name__)
FORMAT = 1


class Journal:
    """The journal of one data directory. Owned by its `Store`; use `Store.transaction()`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / store_module.JOURNAL
        self._held: dict[Path, tuple[AtomicJSONStorage, dict[str, Any]]] | None = None
        self._owner: int | None = None
        self._intent: dict[str, Any] = {}
        self._unapplied: dict[str, dict[str, Any]] | None = None
        self._undo: list[Callable[[], None]] = []

    @property
    def active(self) -> bool:
        return self._held is not None and self._owner == threading.get_ident()

    def on_undo(self, callback: Callable[[], None]) -> None:
        """Call `callback` when a transaction is undone (a repository dropping its indexes)."""
        self._undo.append(callback)

    # ----- one transaction (the caller holds the store's lock throughout) -------------------

    def begin(self, intent: dict[str, Any]) -> None:
        self._held, self._owner, self._intent = {}, threading.get_ident(), intent

    def hold(self, storage: AtomicJSONStorage, data: dict[str, Any]) -> bool:
        """Keep a file write for the end of the transaction; False outside one."""
        if not self.active:
            self.flush()
            return False
        assert self._held is not None
        self._held[storage.path] = (storage, data)
        return True

    def commit(self) -> None:
        """Write the journal, then every held file, then delete the journal."""
        held, self._held, self._owner = self._held or {}, None, None
        if not held:
            return
        files = dict(self._unapplied or {})
        files.update({self._name(path): data for path, (_, data) in held.items()})
        try:
            store_module.atomic_write(self.path, lambda fh: _write_journal(fh, files, self._intent))
        except BaseException:
            self._forget(held.values())
            raise
        self._unapplied = files  # decided: from here on, the data is the journal's
        try:
            self.flush()
        except OSError:
            # Stored in the journal; the next write (or the next start) applies it.
            log.exception("Applying %s failed; it is applied on the next write or start", self.path)

    def abort(self) -> None:
        held, self._held, self._owner = self._held or {}, None, None
        self._forget(held.values())

    def flush(self) -> None:
        """Apply a journal that could not be applied at commit (a full disk), then delete it."""
        if self._unapplied is not None:
            self._apply(self._unapplied)
            self._unapplied = None

    # ----- opening a data directory ----------------------------------------------------------

    def recover(self) -> dict[str, Any] | None:
        """Apply a journal a killed process left behind. Returns its intent, or None."""
        pending = self.read()
        if pending is None:
            return None
        files, intent = pending
        log.warning("Completing an interrupted write from %s (%s)", self.path, intent)
        self._apply(files)
        return intent

    def read(self) -> tuple[dict[str, dict[str, Any]], dict[str, Any]] | None:
        """The pending journal's (files, intent), or None when there is none."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            doc = json.loads(raw)
            files, intent = doc["files"], doc.get("intent", {})
            if not isinstance(files, dict) or not isinstance(intent, dict):
                raise TypeError("files and intent must be objects")
        except (ValueError, KeyError, TypeError) as exc:
            raise store_module.CorruptDataError(
                f"{self.path} holds an interrupted write but is not readable ({exc}). It has not "
                "been touched: restore the data directory from a backup."
            ) from exc
        return files, intent

    # ----- inside --------------------------------------------------------------------------

    def _apply(self, files: dict[str, dict[str, Any]]) -> None:
        for name, data in files.items():
            path = self.data_dir / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            store_module.atomic_write(path, partial(store_module.write_tables, data))
        os.unlink(self.path)
        store_module.fsync_dir(self.data_dir)

    def _name(self, path: Path) -> str:
        return path.relative_to(self.data_dir).with_suffix("").as_posix()

    def _forget(self, held: Any) -> None:
        for storage, _ in held:
            storage.forget()
        for callback in self._undo:
            callback()


def _write_journal(fh: IO[str], files: dict[str, dict[str, Any]], intent: dict[str, Any]) -> None:
    fh.write(f'{{"format":{FORMAT},"intent":{json.dumps(intent)},"files":{{')
    for i, (name, data) in enumerate(files.items()):
        fh.write(f"{',' if i else ''}{json.dumps(name)}:")
        store_module.write_tables(data, fh)
    fh.write("}}")
