"""The signal journal: every accepted webhook delivery, stored before it is answered.

A delivery is recorded under its dedupe key (`stripe:evt_…`, `shopify:<webhook id>`, …) with the
raw body, then applied. Its `status` says where it stands:

- `pending`: stored, not yet applied (a crash here is caught up at the next start);
- `applied`: its changes are in the subscribers and events;
- `waiting`: it names a customer the store does not know and carries too little to create
  one; it is applied when that customer arrives (`wait_for` holds the customer id or email);
- `ignored`: a type that means nothing for care, or an older state than the one stored;
- `failed`: applying it raised; `error` says why, and it is retried at the next start.

Records are sharded by key, so one write rewrites one small file. A second table keeps, per
resource (a subscription, a customer), the time of the newest state applied, so an event
older than that never overwrites it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tinydb.table import Table

from bot.mapping import Model, UTCDateTime
from bot.store import Store, copy_doc, iter_docs, raw_docs, rewrite, shard_of

PENDING, APPLIED, WAITING, IGNORED, FAILED = "pending", "applied", "waiting", "ignored", "failed"
UNFINISHED = frozenset({PENDING, FAILED})
JOURNAL, VERSIONS = "signal_journal", "signal_versions"


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


class JournalRepo:
    """Deliveries by key, and the newest applied state time per resource."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._tables = store.shard_tables(JOURNAL)
        # Deliveries have their own locks, not the store's: receivers journal while the worker
        # applies under the store's lock, and deliveries to different shards are written (and
        # fsynced) in parallel. `_lock` guards the in-memory index; each shard has its lock.
        self._lock = threading.Lock()
        self._shard_locks = {id(t): threading.Lock() for t in self._tables}
        self._where: dict[str, tuple[Table, int]] | None = None
        self._aliases: set[str] = set()
        self._reserved: set[str] = set()  # keys being written right now
        self._versions: dict[str, dict[str, str]] | None = None

    def _index(self) -> dict[str, tuple[Table, int]]:
        with self._lock:
            if self._where is None:
                where: dict[str, tuple[Table, int]] = {}
                for table, doc_id, doc in iter_docs(self._tables):
                    where[doc["id"]] = (table, doc_id)
                    for alias in doc.get("aliases", ()):
                        self._aliases.add(alias)
                self._where = where
            return self._where

    def _docs(self, fields: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """A copy of every stored delivery document (or of `fields` of it), shard by shard."""
        out: list[dict[str, Any]] = []
        for table in self._tables:
            with self._shard_locks[id(table)]:
                docs = raw_docs(table).values()
                if fields:
                    out.extend({f: d.get(f) for f in fields} for d in docs)
                else:
                    out.extend(copy_doc(d) for d in docs)
        return out

    def add(self, delivery: Delivery) -> bool:
        """Store a delivery durably. False (and nothing written) when its key or an alias is known."""
        self._store.check_writable()
        keys = [delivery.id, *delivery.aliases]
        where = self._index()
        with self._lock:
            if any(k in where or k in self._aliases or k in self._reserved for k in keys):
                return False
            self._reserved.update(keys)
        table = self._tables[shard_of(delivery.id, len(self._tables))]
        try:
            with self._shard_locks[id(table)]:
                doc_id = table.insert(delivery.to_doc())
        finally:
            with self._lock:
                self._reserved.difference_update(keys)
        with self._lock:
            where[delivery.id] = (table, doc_id)
            self._aliases.update(delivery.aliases)
        return True

    def get(self, key: str) -> Delivery | None:
        loc = self._index().get(key)
        if loc is None:
            return None
        with self._shard_locks[id(loc[0])]:
            doc = raw_docs(loc[0]).get(str(loc[1]))
            return Delivery.from_doc(copy_doc(doc)) if doc else None

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
        """Record where a delivery stands after an attempt to apply it."""
        self._store.check_writable()
        loc = self._index().get(key)
        if loc is None:
            raise KeyError(key)
        table, doc_id = loc

        def change(docs: dict[int, dict[str, Any]]) -> None:
            doc = dict(docs[doc_id])
            doc["status"] = status
            for name, value in (
                ("applied_at", at.isoformat(timespec="seconds") if at else None),
                ("note", note),
                ("wait_for", wait_for),
                ("subscriber_id", subscriber_id),
            ):
                if value:
                    doc[name] = value
                else:
                    doc.pop(name, None)
            docs[doc_id] = doc

        with self._shard_locks[id(table)]:
            rewrite(table, change)

    def with_status(self, statuses: Iterable[str]) -> list[Delivery]:
        """Deliveries in any of `statuses`, oldest received first."""
        wanted = frozenset(statuses)
        found = [Delivery.from_doc(d) for d in self._docs() if d.get("status") in wanted]
        found.sort(key=lambda d: (d.received_at, d.id))
        return found

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per source: deliveries by status, and the last `received_at` (ISO text)."""
        out: dict[str, dict[str, Any]] = {}
        for doc in self._docs(("source", "status", "received_at")):
            row = out.setdefault(doc["source"], {"last_received": ""})
            status = doc["status"] or PENDING
            row[status] = row.get(status, 0) + 1
            row["last_received"] = max(row["last_received"], doc["received_at"])
        return out

    # ----- the newest state applied per resource ------------------------------------------

    def _version_table(self, resource: str) -> Table:
        return self._store.shard_table(VERSIONS, resource)

    def _all_versions(self) -> dict[str, dict[str, str]]:
        if self._versions is None:
            self._versions = {
                doc["id"]: doc for _, _, doc in iter_docs(self._store.shard_tables(VERSIONS))
            }
        return self._versions

    def version(self, resource: str) -> str:
        """The event time (ISO, UTC) of the newest state applied to `resource`, or ""."""
        with self._store.lock:
            return self._all_versions().get(resource, {}).get("at", "")

    def owner(self, resource: str) -> str:
        """The subscriber a resource (a subscription) was last applied to, or ""."""
        with self._store.lock:
            return self._all_versions().get(resource, {}).get("owner", "")

    def set_version(self, resource: str, at: str, owner: str = "") -> None:
        with self._store.lock:
            self._store.check_writable()
            versions = self._all_versions()
            doc = {"id": resource, "at": at, **({"owner": owner} if owner else {})}
            table = self._version_table(resource)

            def change(docs: dict[int, dict[str, Any]]) -> None:
                for doc_id, old in docs.items():
                    if old["id"] == resource:
                        docs[doc_id] = doc
                        return
                docs[max(docs, default=0) + 1] = doc

            rewrite(table, change)
            versions[resource] = doc
