"""The engine run's kept copies of the subscribers' files, and what differs from them.

`bot.enginerun` records a run with the identity of every file it read. So that a file written
since can be compared document by document (`differ`), not counted as wholly written, the
run keeps each of the subscribers' record shards (and the subscribers file) as it left them:
in a directory `engine_run.files.<token>`, where the store hard-links a file just before it
first replaces it (`bot.datafile.keep_on_replace`), if it is still the run's inode.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from pathlib import Path
from typing import Any

import msgspec

from bot.compact import table_docs
from bot.datafile import keep_on_replace
from bot.store import TABLE, Store

log = logging.getLogger(__name__)

BY_SUBSCRIBER = ("tasks", "events", "outreach")  # a subscriber's records: one shard file each
KEPT = "engine_run.files"  # + a token: hard links to those shard files as the run left them
SUBSCRIBERS = "subscribers.json"  # kept too: compared document by document, by their "id"
MOST_CHANGED = 4  # more than 1 in 4 subscribers' documents changed: the whole dry run


def keep(data_dir: Path, files: dict[str, str]) -> str | None:
    """A new directory to keep the subscribers' record shards in as they are now; its name.

    Nothing is linked now: the store links each file there when it first replaces it
    (`keep_written`). A link that cannot be made is left out (its file is then compared by
    shard alone).
    """
    kept = f"{KEPT}.{secrets.token_hex(4)}"
    try:
        (data_dir / kept).mkdir()
        for name in BY_SUBSCRIBER:
            (data_dir / kept / name).mkdir()
    except OSError as exc:
        log.warning("Could not keep the engine run's files: %s", exc)
        keep_on_replace(data_dir, {})
        return None
    keep_written(data_dir, kept, files)
    return kept


def keep_written(data_dir: Path, kept: str, files: dict[str, str]) -> None:
    """Have this process link each of the subscribers' record shards in `files` (name ->
    identity) into `kept` when it first replaces it: 17k links at a million subscribers made
    at the run, under the store's lock, took seconds, and most files are not written between
    two runs (the next run's own writes keep nothing: `stop_keeping`)."""
    keep_on_replace(
        data_dir,
        {
            name: (f"{kept}/{name}", int(stamp.partition(":")[0]))
            for name, stamp in files.items()
            if name.partition("/")[0] in BY_SUBSCRIBER or name == SUBSCRIBERS
        },
    )


def stop_keeping(store: Store) -> None:
    """Keep no more files for the recorded run (the engine runs again: what it writes, the
    next record keeps anew; a run that fails leaves the files it wrote compared by shard)."""
    if store.data_dir is not None and not store.read_only:
        keep_on_replace(store.data_dir, {})


def drop_kept(data_dir: Path, but: str | None) -> None:
    """Remove the kept copies of earlier runs (all of them if `but` is None)."""
    if but is None:
        keep_on_replace(data_dir, {})
    for old in data_dir.glob(f"{KEPT}.*"):
        if old.name != but:
            shutil.rmtree(old, ignore_errors=True)


def differing(store: Store, name: str, stamp: str | None, kept: str) -> set[str] | None:
    """The subscribers whose documents in the shard file `name` (or the subscribers file)
    differ from the run's kept copy of it; None when there is no such copy, a changed
    document names no subscriber, or most subscribers' documents changed."""
    assert store.data_dir is not None
    old: dict[str, Any] = {}
    if stamp is not None:  # the file was there at the run
        path = store.data_dir / kept / name
        try:
            st = path.stat()
            if f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}" != stamp:
                return None  # not the run's file (or the file was written in place)
            old = _raw_tables.decode(path.read_bytes()).get(TABLE, {})
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None
    new = dict(table_docs(store.table(name.removesuffix(".json"))).pairs())
    found: set[str] = set()
    if not all(doc_id.isdigit() for doc_id in old):
        return None  # not a shard file the store wrote: compare by shard alone
    owner = _self if name == SUBSCRIBERS else _owner
    most = len(new) // MOST_CHANGED + 1 if name == SUBSCRIBERS else None
    for doc_id in old.keys() | {str(i) for i in new}:
        was, now = old.get(doc_id), new.get(int(doc_id))
        if was is not None and now is not None and memoryview(was) == memoryview(now):
            continue
        for raw in (was, now):
            if raw is not None:
                try:
                    sid = owner.decode(raw).subscriber_id
                except (msgspec.DecodeError, msgspec.ValidationError):
                    return None
                if type(sid) is not str:
                    return None
                found.add(sid)
        if most is not None and len(found) > most:
            return None
    return found


class _Owner(msgspec.Struct):
    subscriber_id: Any = None


class _Self(msgspec.Struct):
    subscriber_id: Any = msgspec.field(default=None, name="id")


_owner = msgspec.json.Decoder(_Owner)
_self = msgspec.json.Decoder(_Self)
_raw_tables = msgspec.json.Decoder(dict[str, dict[str, msgspec.Raw]])
