"""Whether the engine has already run today on exactly the data the store holds.

The digest plan (`bot.digest.gather`) adds to the stored tasks what the engine would create
that day and drops what it would expire: a dry run of the engine (`bot.engine.plan_changes`)
that tests the milestones of every subscriber holding a window date and bounds the risk of
every subscriber with events, about two thirds of a plan's time. Once the engine has run for
a day and nothing it reads has been written since, that dry run finds nothing to do: every
milestone in window has its task (a key is never created twice), every churn_risk task that
could open is open, every stale task is expired. The plan then skips it.

`run_engine` records its run in `engine_run.json` in the data directory: the day, the
settings the engine reads (lifecycle, risk, holdout, timezone) and a fingerprint of the files
it reads (subscribers, tasks, events, outreach, inbox items): each file's inode, size and
modification time. Every write replaces a data file (a new inode, `bot.store.atomic_write`,
also when the journal commits), so any write after the run changes the fingerprint, in this
process or in another one (a read-only `digest --preview` while the bot runs). The record is
written only when nothing was written between the engine's planning and its writes (the
engine plans without the store lock). A store without a data directory (tests in memory),
a read-only open over an interrupted commit (the journal's overlay), and a commit whose file
could not be written (a full disk) are never trusted.

Writes after the run (claims, logged outreach, new events) leave most of the record good:
`written_since` finds what was written since, each file's identity being kept in the record.
Tasks, events and outreach are sharded by subscriber, and the run keeps each of their shard
files as it left them (`engine_run.files.*`, `bot.enginerun_kept`): the bot hard-links a file
there when it first replaces it after the run (`bot.datafile.keep_on_replace`: no copy, and
no link for a file not written since), so the link holds the run's version. A written file's documents are
compared with the kept one's, and the subscribers whose documents differ are the only ones
the dry run has to look at again (`Written.touching`); with no kept copy, every subscriber
of the file's shard. Every other subscriber's documents, tasks, events and outreach are as
the run left them. The subscribers file is kept and compared the same way, by each
document's id (a webhook or a sync updating a few customers); more than a quarter of them
changed (an import) and the whole dry run is cheaper. An inbox item only decides whether a
task the run would create is held out (`bot.holdout`), which the dry run works out afresh
for what it creates. Anything else written (`store.json`: a re-shard) and the whole dry run
is needed.

The next morning, before the day's run (a manager previewing the digest, or the daily job's
own run), the record is of the day before. So after recording, `run_engine` also works out
the next day's dry run on the data as it recorded it and notes the subscribers it would
create or expire tasks for (`note_ahead`; only if nothing was written meanwhile). A dry run
of one subscriber reads only that subscriber's document, tasks, events and outreach, the day
and the settings: on the next day, every subscriber neither noted nor written since is
"quiet" and `written_since` counts the noted ones as written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.enginerun_kept import (
    BY_SUBSCRIBER,
    KEPT,
    SUBSCRIBERS,
    differing,
    drop_kept,
    keep,
    keep_written,
)
from bot.store import Store, atomic_write, shard_of
from config.settings import Settings

log = logging.getLogger(__name__)

RECORD = "engine_run.json"
# What the engine and the plan read: subscribers, tasks, events, outreach, inbox items
# (the holdout's writers), and the shard count that places a subscriber's records.
WATCHED = ("subscribers.json", "store.json", "tasks", "events", "outreach", "inbox_items")
HOLDOUT_ONLY = ("inbox_items",)  # decide only whether a new task is held out
AHEAD = "next_day"  # the subscribers the next day's dry run would touch (`note_ahead`)


def fingerprint(store: Store) -> dict[str, str] | None:
    """Each watched file's identity (inode, size, modification time) by its path in the data
    directory, or None when the files cannot be trusted to be what the store reads."""
    if store.data_dir is None or not _settled(store):
        return None
    files: dict[str, str] = {}
    for name in WATCHED:
        path = store.data_dir / name
        try:
            if path.is_dir():
                with os.scandir(path) as found:
                    entries = [(f"{name}/{e.name}", e.stat()) for e in found]
            else:
                entries = [(name, path.stat())]
        except FileNotFoundError:
            entries = []
        for entry, st in entries:
            if not entry.rpartition("/")[2].startswith("."):  # a writer's temporary file
                files[entry] = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    return files


@dataclass(frozen=True)
class Written:
    """What of the subscribers' records was written since the engine's run today.

    Attributes:
        files: shard files written (changed, new or gone) whose documents could not be
            compared with the run's (no kept copy), as the store names them.
        subscribers: the subscribers whose documents differ in the other written files.
    """

    files: frozenset[Path] = frozenset()
    subscribers: frozenset[str] = frozenset()

    def touching(self, store: Store, sids: Iterable[str]) -> list[str]:
        """The subscribers of `sids` (in their order) whose tasks, events or outreach were
        written since the run: named in `subscribers`, or in a shard of `files`."""
        if not self.files:
            return [sid for sid in sids if sid in self.subscribers]
        hit: dict[int, set[int]] = {}  # shard count -> shards written, of any aggregate
        for name in BY_SUBSCRIBER:
            tables = store.shard_tables(name)  # a key's shard is `shard_of(key, len(tables))`
            paths = (getattr(table.storage, "path", None) for table in tables)
            hit.setdefault(len(tables), set()).update(
                n for n, path in enumerate(paths) if path in self.files
            )
        return [
            sid
            for sid in sids
            if sid in self.subscribers or any(shard_of(sid, k) in ns for k, ns in hit.items())
        ]


def _settled(store: Store) -> bool:
    """The files on disk are what the store reads: no journal overlay, nothing unwritten."""
    journal = store.journal
    overlay = getattr(store, "_overlay", None)  # a read-only open over an unfinished commit
    unapplied = getattr(journal, "_unapplied", None)  # a commit whose file write failed
    return not overlay and not unapplied


def settings_key(settings: Settings) -> str:
    """What of the settings decides the engine's run."""
    text = repr(
        (settings.lifecycle, settings.risk, settings.holdout_percent, str(settings.timezone))
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def record(store: Store, today: date, settings: Settings) -> dict[str, str] | None:
    """Note that the engine has just run for `today` on the data as it is now.

    Returns:
        The fingerprint recorded (for `note_ahead`), or None when nothing was recorded.
    """
    now = fingerprint(store)
    if now is None or store.read_only or store.data_dir is None:
        return None
    kept = keep(store.data_dir, now)
    doc = {"date": today.isoformat(), "settings": settings_key(settings), "files": now}
    try:
        atomic_write(store.data_dir / RECORD, json.dumps({**doc, "kept": kept}).encode())
    except OSError as exc:  # only an optimisation is lost: plans run the dry run
        log.warning("Could not record the engine run: %s", exc)
        drop_kept(store.data_dir, but=None)
        return None
    drop_kept(store.data_dir, but=kept)
    return now


def note_ahead(store: Store, day: date, subscribers: Iterable[str], files: dict[str, str]) -> bool:
    """Add to the run's record the subscribers a dry run for `day` (the next day) would
    create or expire tasks for, worked out after the run that recorded `files`.

    Written only if the record is still that run's (the caller holds the store lock). Writes
    since the run, even while the next day was planned, do not void it: a subscriber's dry run
    reads only that subscriber's records, and `written_since(day)` counts every subscriber
    written since the run (compared with the run's kept copies) as written, whatever the note
    says of them; the others' records are as the run left them, so what the note says of them
    holds. Writes that change more than subscribers' records (a re-shard) make `written_since`
    give the whole dry run anyway.

    Returns:
        Whether it was written.
    """
    if store.data_dir is None or store.read_only:
        return False
    path = store.data_dir / RECORD
    doc = _read(path)
    if doc is None or doc.get("files") != files:
        return False
    doc[AHEAD] = {"date": day.isoformat(), "subscribers": sorted(set(subscribers))}
    try:
        atomic_write(path, json.dumps(doc).encode())
    except OSError as exc:
        log.warning("Could not note the next day's dry run: %s", exc)
        return False
    return True


def forget(store: Store) -> None:
    """Drop the record (the data changed while the engine planned)."""
    if store.data_dir is not None and not store.read_only:
        try:
            (store.data_dir / RECORD).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Could not drop the engine run record: %s", exc)
        drop_kept(store.data_dir, but=None)


def resume_keeping(store: Store) -> None:
    """In a process that just opened the store for writing (the bot's start), go on keeping
    the recorded run's shard files that are still as the run left them (`bot.enginerun_kept.keep_written`)."""
    if store.data_dir is None or store.read_only:
        return
    doc = _read(store.data_dir / RECORD) or {}
    kept, then, now = doc.get("kept"), doc.get("files"), fingerprint(store)
    if not isinstance(kept, str) or not isinstance(then, dict) or now is None:
        return
    if not (store.data_dir / kept).is_dir() or "/" in kept or not kept.startswith(KEPT):
        return
    same = {name: stamp for name, stamp in then.items() if now.get(name) == stamp}
    keep_written(store.data_dir, kept, same)


def ran_today(store: Store, today: date, settings: Settings) -> bool:
    """The engine ran for `today`, with these settings, and nothing it reads changed since."""
    doc = _read(store.data_dir / RECORD) if store.data_dir is not None else None
    if doc is None or doc.get("date") != today.isoformat():
        return False  # a run of the day before that planned `today` ahead is not today's
    written = written_since(store, today, settings)
    return written is not None and not (written.files or written.subscribers)


def written_since(store: Store, today: date, settings: Settings) -> Written | None:
    """What was written since the engine ran for `today` with these settings.

    A run of the day before that noted `today`'s dry run ahead (`note_ahead`) counts as
    today's, the subscribers that dry run would create or expire tasks for counted as
    written: the dry run of the written then gives today's whole dry run.

    Returns:
        The subscribers' shard files written since (none: the run left nothing to do), or
        None when the engine has not run today (or yesterday, ahead) as recorded, the record
        cannot be trusted, or something other than subscribers' records and inbox items was
        written since.
    """
    if store.data_dir is None:
        return None
    doc = _read(store.data_dir / RECORD)
    ahead: frozenset[str] = frozenset()
    if doc is not None and doc.get("date") != today.isoformat():
        noted = _ahead(doc, today)
        doc, ahead = (None, ahead) if noted is None else (doc, noted)
    if doc is None:
        return None
    then = doc.get("files")
    if doc.get("settings") != settings_key(settings) or not isinstance(then, dict):
        return None
    now = fingerprint(store)
    if now is None:
        return None
    kept = doc.get("kept")
    files, subscribers = set(), set()
    for name in then.keys() | now.keys():
        if then.get(name) == now.get(name):
            continue
        top = name.partition("/")[0]
        if top in HOLDOUT_ONLY:
            continue
        if top not in BY_SUBSCRIBER and name != SUBSCRIBERS:
            return None
        differ = differing(store, name, then.get(name), kept) if isinstance(kept, str) else None
        if differ is None and name == SUBSCRIBERS:
            return None  # no copy to compare with, or most of them changed
        if differ is None:
            files.add(store.data_dir / name)
        else:
            subscribers |= differ
    return Written(frozenset(files), frozenset(subscribers) | ahead)


def _ahead(doc: dict[str, Any], day: date) -> frozenset[str] | None:
    """The subscribers the record's run noted for `day`'s dry run; None if it noted none
    for that day, or not as `note_ahead` writes them."""
    noted = doc.get(AHEAD)
    if not isinstance(noted, dict) or noted.get("date") != day.isoformat():
        return None
    sids = noted.get("subscribers")
    if not isinstance(sids, list) or not all(type(sid) is str for sid in sids):
        return None
    return frozenset(sids)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None
