"""The signal journal: every accepted webhook delivery, stored before it is answered.

A delivery is recorded under its dedupe key (`stripe:evt_…`, `shopify:<webhook id>`, …) with the
raw body, then applied. Its `status` says where it stands:

- `pending`: stored, not yet applied (a crash here is caught up at the next start);
- `applied`: its changes are in the subscribers and events;
- `waiting`: it names a customer the store does not know and carries too little to create
  one; it is applied when that customer arrives (`wait_for` holds the customer id or email);
- `ignored`: a type that means nothing for care, or an older state than the one stored;
- `failed`: applying it raised; `error` says why, and it is retried at the next start;
- `held`: dated too far ahead of the bot's clock, applied once that time comes (see intake).

The journal is one append-only file of JSON lines (`signal_journal.jsonl`): a delivery, a
change of a delivery's status, or the time of the newest state applied to a resource (a
subscription, a customer), so that an event older than that never overwrites it. Appends are
group-committed: whoever needs its line durable writes and fsyncs every line queued so far,
so one fsync covers all the deliveries that arrived while the previous one ran (a burst costs
a few fsyncs a second, not one per delivery), and `add` returns only once its line is
durable. Status and version lines ride along with the next commit; the applier commits
before it reports a batch applied, and an applied delivery whose status line a crash lost is
simply applied again (applying is idempotent). At start the file is read once into memory:
the keys (for dedupe), every delivery's status, and the bodies of the unfinished ones; an
applied delivery's body is read back from the file when asked for.

Data directories from before the log kept deliveries and versions in sharded TinyDB files
(`signal_journal/`, `signal_versions/`); they are read under the log, which wins.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.mapping import Model, UTCDateTime
from bot.repos.journal_retention import compacted_log, kept_keys, worth_compacting
from bot.store import Store, atomic_write, dump_doc, fsync_dir, iter_docs

log = logging.getLogger(__name__)

PENDING, APPLIED, WAITING, IGNORED, FAILED = "pending", "applied", "waiting", "ignored", "failed"
UNFINISHED = frozenset({PENDING, FAILED})
FINAL = frozenset({APPLIED, IGNORED})
JOURNAL, VERSIONS = "signal_journal", "signal_versions"  # the sharded files of older versions
LOG = "signal_journal.jsonl"
STATUS_FIELDS = ("status", "applied_at", "note", "wait_for", "subscriber_id")


class Delivery(Model):
    """One webhook delivery as received: who sent it, its raw body, and where it stands."""

    id: str  # the dedupe key, "<source>:<event id>"
    source: str
    type: str
    received_at: UTCDateTime
    body: str
    status: str = PENDING
    at: UTCDateTime | None = None  # the event's own time, as the sender states it
    headers: dict[str, str] = {}  # the few headers the parser needs (topic, ids)
    applied_at: UTCDateTime | None = None
    wait_for: str = ""
    note: str = ""  # why it was ignored, or the error it failed with
    subscriber_id: str = ""
    aliases: list[str] = []  # other dedupe keys (Shopify's event id)


class _Commit:
    """Lines queued for one write and fsync, and how it went."""

    def __init__(self) -> None:
        self.lines: list[tuple[bytes, str]] = []  # each line, and the delivery it adds or ""
        self.done = False
        self.error: BaseException | None = None


class JournalRepo:
    """Deliveries by key, and the newest applied state time per resource, in one log file."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._path: Path | None = store.data_dir / LOG if store.data_dir is not None else None
        self._lock = threading.Lock()  # the in-memory state and the queue of lines
        self._written = threading.Condition(self._lock)
        self._docs: dict[str, dict[str, Any]] | None = None  # key -> document (body if kept)
        self._where: dict[str, tuple[int, int]] = {}  # key -> (offset, length) of its line
        self._aliases: dict[str, str] = {}
        self._versions: dict[str, dict[str, str]] = {}
        self._queued = _Commit()
        self._writing = False
        self._end = 0  # the file's length once every queued line is written
        self._exists = False  # the file is known to exist (its creation made durable)

    # ----- loading ------------------------------------------------------------------------

    def _load(self) -> None:
        """Read the files on first use: the store's lock first, as the applier takes them."""
        if self._docs is None:
            with self._store.lock, self._lock:
                self._state()

    def _state(self) -> dict[str, dict[str, Any]]:
        """The deliveries by key (loaded by `_load`). Call with `_lock` held."""
        if self._docs is None:
            raw = self._read()
            if raw and not self._store.read_only and self._compact(raw):
                self._docs, self._where, self._aliases, self._versions = None, {}, {}, {}
                self._read()
        assert self._docs is not None
        return self._docs

    def _read(self) -> bytes:
        """Load the sharded files of older versions, then the log; returns the log as read."""
        docs: dict[str, dict[str, Any]] = {}
        for _, _, doc in iter_docs(self._store.shard_tables(JOURNAL)):
            docs[doc["id"]] = dict(doc)
        for _, _, doc in iter_docs(self._store.shard_tables(VERSIONS)):
            self._versions[doc["id"]] = dict(doc)
        self._docs = docs
        for doc in docs.values():
            self._note_aliases(doc)
        return self._replay(self._path) if self._path is not None else b""

    def _compact(self, raw: bytes) -> bool:
        """Write the log again without deliveries finished long ago, when most of it is them
        (`bot.repos.journal_retention`); True if it was written."""
        assert self._docs is not None and self._path is not None
        keys = kept_keys(self._docs)
        if not worth_compacting(len(raw), len(keys), len(self._docs)):
            return False
        new = compacted_log(raw, keys, self._docs, self._where, self._versions)
        for stale in self._path.parent.glob(f".{self._path.name}.*.tmp"):  # a killed compaction
            stale.unlink(missing_ok=True)  # (this process holds the data directory's lock)
        try:
            atomic_write(self._path, new)  # a kill before the rename leaves the whole old log
        except OSError:
            log.exception("%s: not compacted; the whole log is kept", self._path)
            return False
        log.info("%s: %d of %d deliveries kept", self._path, len(keys), len(self._docs))
        return True

    def _replay(self, path: Path) -> bytes:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return b""
        good = raw.rfind(b"\n") + 1  # a line without its newline was never acknowledged
        offset = 0
        for line in raw[:good].splitlines(keepends=True):
            try:
                self._take(json.loads(line), offset, len(line))
            except (ValueError, KeyError, TypeError, AttributeError):
                log.error("%s: unreadable line at byte %d skipped", path, offset)
            offset += len(line)
        if good < len(raw) and not self._store.read_only:
            log.warning("%s: cutting %d bytes of a line a crash left unfinished", path, len(raw))
            with open(path, "r+b") as fh:
                fh.truncate(good)
                os.fsync(fh.fileno())
        self._end = good
        return raw[:good]

    def _take(self, entry: dict[str, Any], offset: int, length: int) -> None:
        """Apply one log line to the in-memory state."""
        assert self._docs is not None
        if "d" in entry:
            doc = entry["d"]
            self._docs[doc["id"]] = doc
            self._where[doc["id"]] = (offset, length)
            self._note_aliases(doc)
            self._drop_body_if_final(doc)
        elif "s" in entry:
            change = entry["s"]
            doc = self._docs.get(change["id"])
            if doc is not None:
                self._set_fields(doc, change)
        elif "v" in entry:
            self._versions[entry["v"]["id"]] = entry["v"]

    def _note_aliases(self, doc: dict[str, Any]) -> None:
        for alias in doc.get("aliases", ()):
            self._aliases[alias] = doc["id"]

    def _drop_body_if_final(self, doc: dict[str, Any]) -> None:
        """An applied delivery's body stays in the file only (read back by `get`)."""
        if self._path is not None and doc.get("status") in FINAL and doc["id"] in self._where:
            doc.pop("body", None)

    def _set_fields(self, doc: dict[str, Any], change: dict[str, Any]) -> None:
        for name in STATUS_FIELDS:
            if change.get(name):
                doc[name] = change[name]
            else:
                doc.pop(name, None)
        self._drop_body_if_final(doc)

    # ----- writing: group commit ----------------------------------------------------------

    def _queue(self, entry: dict[str, Any], key: str = "") -> _Commit:
        """Queue a line for the next commit. Call with `_lock` held. Returns that commit."""
        line = (dump_doc(entry) + "\n").encode("utf-8")
        commit = self._queued
        if key:
            self._where[key] = (self._end, len(line))
        self._end += len(line)
        commit.lines.append((line, key))
        return commit

    def _wait(self, commit: _Commit) -> None:
        """Return once `commit` is written and fsynced; raise what its write raised.

        Call with `_lock` held. The first waiter finding no write under way writes every line
        queued so far; the others wait for it and are usually covered by it.
        """
        while not commit.done:
            if self._writing:
                self._written.wait()
                continue
            batch, self._queued, self._writing = self._queued, _Commit(), True
            self._lock.release()
            try:
                self._write([line for line, _ in batch.lines])
            except BaseException as exc:
                batch.error = exc
            finally:
                self._lock.acquire()
                self._writing = False
                batch.done = True
                if batch.error is not None:
                    self._undo(batch)
                self._written.notify_all()
        if commit.error is not None:
            raise commit.error

    def _write(self, lines: list[bytes]) -> None:
        if self._path is None or not lines:
            return
        created = not self._exists and not self._path.exists()
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"".join(lines))
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self._path.parent)
        self._exists = True  # (a stat per commit cost 0.5 ms on a loaded machine)

    def _undo(self, batch: _Commit) -> None:
        """A failed write: its deliveries were not stored. Cut what may have reached the file.

        Their keys are forgotten (the sender's retry is taken); the lines queued meanwhile move
        to their new offsets. Status and version lines lost with it only mean a delivery is
        applied again at the next start.
        """
        assert self._docs is not None
        queued = self._queued.lines
        self._end -= sum(len(line) for line, _ in batch.lines) + sum(len(x) for x, _ in queued)
        for _, key in batch.lines:
            doc = self._docs.pop(key, None) if key else None
            self._where.pop(key, None)
            for alias in (doc or {}).get("aliases", ()):
                self._aliases.pop(alias, None)
        if self._path is not None and self._path.exists():
            try:
                with open(self._path, "r+b") as fh:
                    fh.truncate(self._end)
            except OSError:
                log.exception("could not cut %s back after a failed write", self._path)
        for line, key in queued:
            if key:
                self._where[key] = (self._end, len(line))
            self._end += len(line)

    def commit(self) -> None:
        """Make every line queued so far durable (the applier calls it after a batch)."""
        self._load()
        with self._lock:
            self._state()
            if self._queued.lines:
                self._wait(self._queued)

    # ----- deliveries ---------------------------------------------------------------------

    def add(self, delivery: Delivery) -> bool:
        """Store a delivery durably. False (and nothing written) when its key or an alias is known.

        Returns once the delivery's line is fsynced, so the caller may answer 2xx. A duplicate
        also waits for the commit that stores the first copy.
        """
        self._store.check_writable()
        doc = delivery.to_doc()
        self._load()
        with self._lock:
            docs = self._state()
            keys = [delivery.id, *delivery.aliases]
            if any(k in docs or k in self._aliases for k in keys):
                self._wait(self._queued)
                return False
            commit = self._queue({"d": doc}, delivery.id)
            docs[delivery.id] = doc
            self._note_aliases(doc)
            self._wait(commit)
        return True

    def get(self, key: str) -> Delivery | None:
        self._load()
        with self._lock:
            doc = self._state().get(key)
            if doc is None:
                return None
            doc = dict(doc)
            where = self._where.get(key)
        if "body" not in doc and where is not None and self._path is not None:
            with open(self._path, "rb") as fh:
                fh.seek(where[0])
                doc["body"] = json.loads(fh.read(where[1]))["d"]["body"]
        return Delivery.from_doc(doc)

    def set_status(
        self,
        key: str,
        status: str,
        *,
        at: datetime | None = None,
        note: str = "",
        wait_for: str = "",
        subscriber_id: str = "",
    ) -> None:
        """Record where a delivery stands after an attempt to apply it (durable at `commit`)."""
        self._store.check_writable()
        change = {
            "id": key,
            "status": status,
            "applied_at": at.isoformat(timespec="seconds") if at else "",
            "note": note,
            "wait_for": wait_for,
            "subscriber_id": subscriber_id,
        }
        self._load()
        with self._lock:
            doc = self._state().get(key)
            if doc is None:
                raise KeyError(key)
            change = {k: v for k, v in change.items() if v}
            self._queue({"s": change})
            self._set_fields(doc, change)

    def with_status(self, statuses: Iterable[str]) -> list[Delivery]:
        """Deliveries in any of `statuses`, oldest received first."""
        wanted = frozenset(statuses)
        self._load()
        with self._lock:
            keys = [k for k, d in self._state().items() if d.get("status", PENDING) in wanted]
        found = [d for d in map(self.get, keys) if d is not None]
        found.sort(key=lambda d: (d.received_at, d.id))
        return found

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per source: deliveries by status, and the last `received_at` (ISO text)."""
        out: dict[str, dict[str, Any]] = {}
        self._load()
        with self._lock:
            for doc in self._state().values():
                row = out.setdefault(doc["source"], {"last_received": ""})
                status = doc.get("status") or PENDING
                row[status] = row.get(status, 0) + 1
                row["last_received"] = max(row["last_received"], doc["received_at"])
        return out

    # ----- the newest state applied per resource ------------------------------------------

    def version(self, resource: str) -> str:
        """The event time (ISO, UTC) of the newest state applied to `resource`, or ""."""
        self._load()
        with self._lock:
            self._state()
            return self._versions.get(resource, {}).get("at", "")

    def owner(self, resource: str) -> str:
        """The subscriber a resource (a subscription) was last applied to, or ""."""
        self._load()
        with self._lock:
            self._state()
            return self._versions.get(resource, {}).get("owner", "")

    def set_version(self, resource: str, at: str, owner: str = "") -> None:
        """Keep the time of the newest state applied to `resource` (durable at `commit`)."""
        self._store.check_writable()
        doc = {"id": resource, "at": at, **({"owner": owner} if owner else {})}
        self._load()
        with self._lock:
            self._state()
            self._queue({"v": doc})
            self._versions[resource] = doc
