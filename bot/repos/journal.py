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
        # Deliveries have their own lock: a receiver journals while the worker applies (under
        # the store's lock) without waiting for it. Only journal files are touched under it.
        self._lock = threading.RLock()
        self._where: dict[str, tuple[Table, int]] | None = None
        self._aliases: set[str] = set()
        self._versions: dict[str, dict[str, str]] | None = None

    def _index(self) -> dict[str, tuple[Table, int]]:
        if self._where is None:
            where: dict[str, tuple[Table, int]] = {}
            for table, doc_id, doc in iter_docs(self._tables):
                where[doc["id"]] = (table, doc_id)
                for alias in doc.get("aliases", ()):
                    self._aliases.add(alias)
            self._where = where
        return self._where

    def add(self, delivery: Delivery) -> bool:
        """Store a delivery durably. False (and nothing written) when its key or an alias is known."""
        with self._lock:
            self._store.check_writable()
            where = self._index()
            keys = [delivery.id, *delivery.aliases]
            if any(k in where or k in self._aliases for k in keys):
                return False
            table = self._tables[shard_of(delivery.id, len(self._tables))]
            doc_id = table.insert(delivery.to_doc())
            where[delivery.id] = (table, doc_id)
            self._aliases.update(delivery.aliases)
            return True

    def get(self, key: str) -> Delivery | None:
        with self._lock:
            loc = self._index().get(key)
            doc = raw_docs(loc[0]).get(str(loc[1])) if loc else None
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
        with self._lock:
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

            rewrite(table, change)

    def with_status(self, statuses: Iterable[str]) -> list[Delivery]:
        """Deliveries in any of `statuses`, oldest received first."""
        wanted = frozenset(statuses)
        with self._lock:
            self._index()
            docs = [copy_doc(d) for _, _, d in iter_docs(self._tables) if d.get("status") in wanted]
        found = [Delivery.from_doc(d) for d in docs]
        found.sort(key=lambda d: (d.received_at, d.id))
        return found

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per source: deliveries by status, and the last `received_at` (ISO text)."""
        out: dict[str, dict[str, Any]] = {}
        with self._lock:
            self._index()
            for _, _, doc in iter_docs(self._tables):
                row = out.setdefault(doc["source"], {"last_received": ""})
                row[doc.get("status", PENDING)] = row.get(doc.get("status", PENDING), 0) + 1
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
