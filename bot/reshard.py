"""Spread a sharded aggregate over more files when its shards grow, safely against a kill.

A task write rewrites the one shard file of the task's subscriber, so its cost follows the
shard's size: 1,024 shards hold about 0.3 tasks each at 1k subscribers and 265 at a million,
where the kernel writing and syncing that file made a write twice as slow. `reshard` moves
every document of an aggregate to `count` shard files (a multiple of the current count), so
a repository can keep its shards small at any size (`bot.repos.tasks` does when its average
shard passes a bound).

A new generation's files sit beside the old ones in the aggregate's directory, named by the
generation's count (`tasks/16384-00042.json`; the first generation keeps `tasks/07.json`), so
nothing that watches the directory (`bot.enginerun`) misses them. The steps:

1. checkpoint the journal, so its log covers no file of the old generation;
2. write the new generation's files (nothing reads them yet) and make them durable
   (`sync_all`: one `sync(2)`, which on Linux waits for the writes, instead of one fsync per
   file: 16k fsyncs took seconds each thousand on this disk);
3. the flip: `store.json` names the new count (an atomic, durable write);
4. hold the new files' documents in memory, then remove the old files.

A kill before step 3 leaves the old generation in use and some new files that the next
writable open removes; a kill after it leaves the new one in use and some old files that the
next writable open removes. Either way the store opens with every document once. A document
whose key cannot be read stays at its shard number (which the new count keeps).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bot import datafile
from bot.compact import CompactDocs, Encoded, EncodedDocs, table_docs
from bot.store import TABLE, Store, StoreError, shard_of

log = logging.getLogger(__name__)
# A first-generation shard (`07`) or a later one (`16384-00042`).
_SHARD_FILE = re.compile(r"(\d+)(-\d+)?\.json")

KeyOf = Callable[[Encoded], str | None]


def reshard(store: Store, name: str, count: int, key_of: KeyOf) -> None:
    """Move every document of the aggregate `name` to `count` shard files.

    Holds the store's lock throughout; must not run inside a transaction.

    Args:
        store: the store (a data directory, or in memory).
        name: the sharded aggregate, e.g. "tasks".
        count: the new number of shards, a multiple of the current one.
        key_of: the shard key of a document from its bytes (the subscriber id), None when it
            cannot be read: such a document keeps its shard number.

    Raises:
        ValueError: `count` is not a larger multiple of the current count.
        StoreError: inside a transaction, or the store is read-only.
        OSError: writing the new files failed; the old generation is still in use and
            the new files written so far are removed.
    """
    with store.lock:
        old = store.shard_count(name)
        if count <= old or count % old:
            raise ValueError(f"{name}: {count} shards is not a larger multiple of {old}")
        store.check_writable()
        if store.journal is not None and store.journal.active:
            raise StoreError("a re-shard cannot run inside a transaction")
        old_names = store.shard_names(name)
        groups: list[list[Encoded]] = [[] for _ in range(count)]
        for at, table in enumerate(store.shard_tables(name)):
            for _, raw in table_docs(table).pairs():
                key = key_of(raw)
                groups[at if key is None else shard_of(key, count)].append(raw)
        new_names = store.shard_names(name, count)
        held = {n: _numbered(raws) for n, raws in zip(new_names, groups, strict=True) if raws}
        if store.data_dir is None:
            store.use_shards(name, count, held, old_names)
            return
        store.checkpoint()
        _write_generation(store.data_dir, held)
        store.use_shards(name, count, held, old_names)  # the flip, then old files removed
        log.info("Spread %s over %d shard files (was %d)", name, count, old)


def _numbered(raws: list[Encoded]) -> CompactDocs:
    return CompactDocs(EncodedDocs.numbered(raws))


def _write_generation(data_dir: Path, held: dict[str, CompactDocs]) -> None:
    """Write the new generation's files and make them durable; on failure remove them."""
    written: list[Path] = []
    try:
        for file, docs in held.items():
            path = data_dir / f"{file}.json"
            written.append(path)
            datafile.atomic_write(
                path, partial(datafile.write_tables, {TABLE: docs}), durable=False, binary=True
            )
        datafile.sync_all()
        for directory in sorted({p.parent for p in written}):
            datafile.fsync_dir(directory)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


def remove_stale(data_dir: Path, name: str, current: list[str]) -> int:
    """Remove shard files of `name` that are not of its current generation (left by a kill
    during a re-shard). Only for the process holding the directory. Returns how many."""
    directory = data_dir / name
    keep = {f"{n.rpartition('/')[2]}.json" for n in current}
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if _SHARD_FILE.fullmatch(entry.name) and entry.name not in keep and entry.is_file():
            remove_file(Path(entry.path))
            removed += 1
    if removed:
        datafile.fsync_dir(directory)
        log.warning("Removed %d %s files of an unfinished re-shard", removed, name)
    return removed


def remove_file(path: Path) -> None:
    """Delete a data file that no generation in use reads."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
