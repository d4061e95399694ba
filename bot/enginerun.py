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
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import date
from pathlib import Path
from typing import Any

from bot.store import Store, atomic_write
from config.settings import Settings

log = logging.getLogger(__name__)

RECORD = "engine_run.json"
# What the engine and the plan read: subscribers, tasks, events, outreach, inbox items
# (the holdout's writers).
WATCHED = ("subscribers.json", "tasks", "events", "outreach", "inbox_items")


def fingerprint(store: Store) -> str | None:
    """A digest of the watched files' identities, or None when it cannot be trusted."""
    if store.data_dir is None or not _settled(store):
        return None
    digest = hashlib.blake2b(digest_size=16)
    for name in WATCHED:
        path = store.data_dir / name
        try:
            if path.is_dir():
                with os.scandir(path) as found:
                    entries = sorted(
                        (e.name, e.stat()) for e in found if not e.name.startswith(".")
                    )
            else:
                entries = [(name, path.stat())]
        except FileNotFoundError:
            entries = []
        for entry, st in entries:
            digest.update(f"{name}/{entry}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


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


def record(store: Store, today: date, settings: Settings) -> None:
    """Note that the engine has just run for `today` on the data as it is now."""
    now = fingerprint(store)
    if now is None or store.read_only or store.data_dir is None:
        return
    doc = {"date": today.isoformat(), "settings": settings_key(settings), "files": now}
    try:
        atomic_write(store.data_dir / RECORD, json.dumps(doc).encode())
    except OSError as exc:  # only an optimisation is lost: plans run the dry run
        log.warning("Could not record the engine run: %s", exc)


def forget(store: Store) -> None:
    """Drop the record (the data changed while the engine planned)."""
    if store.data_dir is not None and not store.read_only:
        try:
            (store.data_dir / RECORD).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Could not drop the engine run record: %s", exc)


def ran_today(store: Store, today: date, settings: Settings) -> bool:
    """The engine ran for `today`, with these settings, and nothing it reads changed since."""
    if store.data_dir is None:
        return False
    doc = _read(store.data_dir / RECORD)
    if doc is None or doc.get("date") != today.isoformat():
        return False
    if doc.get("settings") != settings_key(settings):
        return False
    now = fingerprint(store)
    return now is not None and doc.get("files") == now


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None
