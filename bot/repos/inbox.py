"""The shared inbox's storage: triage items, handled Message-IDs, IMAP sync state, counters.

Items and message records are sharded (one write rewrites one small file); the sync state,
the noise counters and the connector status live in one small table. Every change runs under
the store's lock, so two people clicking Claim on the same item get one winner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from tinydb.table import Table

from bot.ids import short_id
from bot.inbox.models import (
    ACTIVE_ITEM_STATUSES,
    ITEM_CLAIMED,
    ITEM_RESOLVED,
    MESSAGE_POSTED,
    MESSAGE_POSTING,
    ConnectorStatus,
    InboxMessage,
    SyncState,
    TriageItem,
)
from bot.repos.deadletters import DeadLetters
from bot.repos.loading import load, load_all
from bot.store import Store, iter_docs, raw_docs, rewrite

T = TypeVar("T")
ITEMS, MESSAGES, STATE = "inbox_items", "inbox_messages", "inbox_state"


class ItemNotFound(LookupError):
    def __init__(self, item_id: str) -> None:
        super().__init__(
            f"No inbox item {item_id!r}. Item ids look like 'q4m7x': see /care triage."
        )
        self.item_id = item_id


class ItemUnavailable(Exception):
    """A triage action that cannot happen; the message says why (shown as is)."""

    def __init__(self, message: str, item: TriageItem) -> None:
        super().__init__(message)
        self.item = item


class InboxRepo:
    """All inbox records over one store. Construct once (it keeps small in-memory indexes)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._item_tables = store.shard_tables(ITEMS)
        self._state = store.table(STATE)
        self._where: dict[str, tuple[Table, int]] | None = None  # item id -> (shard, doc id)
        self._by_key: dict[str, str] = {}
        self._threads: dict[tuple[str, str], list[str]] = {}  # (sender, subject) -> item ids
        self._unposted: set[str] = set()  # ids of items that await their post (`awaiting_post`)
        self.dead = DeadLetters(store, self._state, self._put_state)

    # ----- items -------------------------------------------------------------------------

    def _index(self) -> dict[str, tuple[Table, int]]:
        if self._where is None:
            where: dict[str, tuple[Table, int]] = {}
            for table, doc_id, doc in iter_docs(self._item_tables):
                item = load(TriageItem, doc, table, doc_id)
                if item is None:  # left in its file, unseen
                    continue
                where[doc["id"]] = (table, doc_id)
                self._remember(doc)
                self._track(item)
            self._where = where
        return self._where

    def _remember(self, doc: dict[str, Any]) -> None:
        self._by_key[doc["key"]] = doc["id"]
        if doc.get("normalized_subject"):
            thread = (doc.get("sender", ""), doc["normalized_subject"])
            self._threads.setdefault(thread, []).append(doc["id"])

    def _track(self, item: TriageItem) -> None:
        if item.awaits_post:
            self._unposted.add(item.id)
        else:
            self._unposted.discard(item.id)

    def _doc(self, item_id: str) -> dict[str, Any] | None:
        loc = self._index().get(item_id)
        return raw_docs(loc[0]).get(str(loc[1])) if loc else None

    def item(self, item_id: str) -> TriageItem | None:
        """The item, or None if there is none (or its document cannot be read: logged)."""
        item_id = item_id.strip().lower()
        with self._store.lock:
            doc = self._doc(item_id)
            if not doc:
                return None
            table, doc_id = self._index()[item_id]
            item: TriageItem | None = load(TriageItem, doc, table, doc_id)
            return item

    def require_item(self, item_id: str) -> TriageItem:
        item = self.item(item_id)
        if item is None:
            raise ItemNotFound(item_id)
        return item

    def item_by_key(self, key: str) -> TriageItem | None:
        """The item whose conversation started with Message-ID `key`."""
        with self._store.lock:
            self._index()
            item_id = self._by_key.get(key)
            return self.item(item_id) if item_id else None

    def new_item_id(self, key: str, also_taken: Callable[[str], bool] | None = None) -> str:
        """A short id for a new item; `also_taken` lets ids avoid other namespaces (task ids)."""
        with self._store.lock:
            index = self._index()
            return short_id(
                f"inbox:{key}", lambda c: c in index or bool(also_taken and also_taken(c))
            )

    def create_item(self, item: TriageItem) -> None:
        """Store a new item. Raises ValueError if its id or key is already used."""
        with self._store.lock:
            self._store.check_writable()
            index = self._index()
            if item.id in index or item.key in self._by_key:
                raise ValueError(f"inbox item {item.id} ({item.key}) already exists")
            table = self._store.shard_table(ITEMS, item.id)
            doc = item.to_doc()
            index[item.id] = (table, table.insert(doc))
            self._remember(doc)
            self._track(item)

    def mutate_item(self, item_id: str, change: Callable[[TriageItem], T]) -> tuple[TriageItem, T]:
        """Read the item, let `change` modify it (or raise), write it back; all under the lock."""
        item_id = item_id.strip().lower()
        with self._store.lock:
            self._store.check_writable()
            doc = self._doc(item_id)
            if doc is None:
                raise ItemNotFound(item_id)
            item = TriageItem.from_doc(doc)
            result = change(item)
            if item.id != item_id or item.key != doc["key"]:
                raise ValueError("an inbox item's id and key never change")
            table, doc_id = self._index()[item_id]
            new_doc = item.to_doc()

            def replace(docs: dict[int, dict[str, Any]]) -> None:
                docs[doc_id] = new_doc

            rewrite(table, replace)
            self._track(item)
            if (new_doc.get("sender"), new_doc.get("normalized_subject")) != (
                doc.get("sender"),
                doc.get("normalized_subject"),
            ):
                self._remember(new_doc)
            return item, result

    def claim_item(self, item_id: str, user: str, now: datetime) -> TriageItem:
        """Claim an item for `user`: exactly one of two simultaneous claims wins.

        Raises:
            ItemNotFound: no such item.
            ItemUnavailable: someone else holds it (`.item.claimed_by` says who) or it is resolved.
        """

        def claim(item: TriageItem) -> None:
            if item.status == ITEM_CLAIMED and item.claimed_by != user:
                raise ItemUnavailable(f"Already claimed by {item.claimed_by}.", item)
            if item.status == ITEM_RESOLVED:
                raise ItemUnavailable("This conversation is already resolved.", item)
            if item.status != ITEM_CLAIMED:
                item.status, item.claimed_by, item.claimed_at = ITEM_CLAIMED, user, now
                item.snoozed_until = None

        return self.mutate_item(item_id, claim)[0]

    def items(self) -> Iterator[TriageItem]:
        with self._store.lock:
            docs = [doc for _, _, doc in iter_docs(self._item_tables)]
        yield from load_all(TriageItem, docs, self._item_tables)

    def awaiting_post(self) -> list[TriageItem]:
        """Outreach items whose triage post is still to be made (`TriageItem.awaits_post`),
        oldest first, read alone: their ids are kept in memory, found with the id index from
        the items themselves at the first read after a start (nothing on disk to go stale if
        the bot is killed) and kept by every write here. The triage minute job reads these
        few, not the inbox's whole history."""
        with self._store.lock:
            self._index()
            found = [self.item(item_id) for item_id in sorted(self._unposted)]
        waiting = [i for i in found if i is not None and i.awaits_post]
        return sorted(waiting, key=lambda i: i.created_at)

    def active_items(self) -> list[TriageItem]:
        """Open, claimed and snoozed items, oldest first (for `/care triage` and reminders)."""
        with self._store.lock:
            docs = [
                d
                for _, _, d in iter_docs(self._item_tables)
                if d.get("status") in ACTIVE_ITEM_STATUSES
            ]
        items = load_all(TriageItem, docs, self._item_tables)
        return sorted(items, key=lambda i: i.created_at)

    def find_thread(
        self, sender: str, normalized_subject: str, since: datetime
    ) -> TriageItem | None:
        """The latest item with this sender and subject whose last email is not before `since`."""
        if not normalized_subject:
            return None
        with self._store.lock:
            self._index()
            ids = list(self._threads.get((sender, normalized_subject), ()))
            found = [i for i in (self.item(item_id) for item_id in ids) if i]
        recent = [
            i
            for i in found
            if i.sender == sender
            and i.normalized_subject == normalized_subject
            and i.last_message_at >= since
        ]
        return max(recent, key=lambda i: i.last_message_at, default=None)

    def count_items(self) -> int:
        with self._store.lock:
            return len(self._index())

    # ----- handled messages --------------------------------------------------------------

    def _message_doc(self, message_id: str) -> tuple[Table, int, dict[str, Any]] | None:
        table = self._store.shard_table(MESSAGES, message_id)
        for doc_id, doc in raw_docs(table).items():
            if doc.get("message_id") == message_id:
                return table, int(doc_id), doc
        return None

    def message(self, message_id: str) -> InboxMessage | None:
        """The record of a handled email. One written "posting" whose new conversation is
        stored with its Slack message reads as posted (see `_completed`)."""
        with self._store.lock:
            found = self._message_doc(message_id)
            record: InboxMessage | None = (
                load(InboxMessage, found[2], found[0], found[1]) if found else None
            )
            if record is not None and record.status == MESSAGE_POSTING:
                record = self._completed(record)
            return record

    def _completed(self, record: InboxMessage) -> InboxMessage:
        """A new conversation's record is finished by its item: the item, stored after the
        post with the Slack ts and this email as its key, says the post is done, so the
        ingest writes no second record (one store write per email fewer)."""
        doc = self._doc(record.item_id)
        slack = (doc or {}).get("slack") or {}
        if doc is None or doc.get("key") != record.message_id or not slack.get("ts"):
            return record
        return msgspec.structs.replace(
            record, status=MESSAGE_POSTED, channel=slack.get("channel", ""), ts=slack["ts"]
        )

    def has_message(self, message_id: str) -> bool:
        with self._store.lock:
            return self._message_doc(message_id) is not None

    def record_message(self, record: InboxMessage) -> bool:
        """Remember a handled Message-ID. Returns False (nothing written) if already known."""
        with self._store.lock:
            self._store.check_writable()
            if self._message_doc(record.message_id) is not None:
                return False
            self._store.shard_table(MESSAGES, record.message_id).insert(record.to_doc())
            return True

    def finish_message(self, message_id: str, status: str, channel: str, ts: str) -> None:
        """Mark a record written "posting" as posted/threaded, with where it went in Slack."""
        with self._store.lock:
            self._store.check_writable()
            found = self._message_doc(message_id)
            if found is None:
                raise LookupError(f"no inbox message record {message_id!r}")
            table, doc_id, doc = found
            new_doc = {**doc, "status": status, "channel": channel, "ts": ts}

            def replace(docs: dict[int, dict[str, Any]]) -> None:
                docs[doc_id] = new_doc

            rewrite(table, replace)

    # ----- sync state, counters, connector status ----------------------------------------

    def _state_doc(self, kind: str, key: str) -> tuple[int, dict[str, Any]] | None:
        for doc_id, doc in raw_docs(self._state).items():
            if doc.get("type") == kind and doc.get("key") == key:
                return int(doc_id), doc
        return None

    def _put_state(self, kind: str, key: str, values: dict[str, Any]) -> None:
        with self._store.lock:
            self._store.check_writable()
            found = self._state_doc(kind, key)
            doc = {**values, "type": kind, "key": key}

            def put(docs: dict[int, dict[str, Any]]) -> None:
                doc_id = found[0] if found else max(docs, default=0) + 1
                docs[doc_id] = doc

            rewrite(self._state, put)

    def sync_state(self, host: str, user: str, folder: str) -> SyncState:
        """The stored progress for a mailbox folder (uidvalidity 0 = never synced)."""
        fresh = SyncState(host=host, user=user, folder=folder)
        with self._store.lock:
            found = self._state_doc("sync", fresh.key)
            state: SyncState | None = (
                load(SyncState, found[1], self._state, found[0]) if found else None
            )
        return state or fresh

    def save_sync(self, state: SyncState) -> None:
        self._put_state("sync", state.key, state.to_doc())

    def count_noise(self, kind: str, count: int = 1) -> None:
        """Add to the counter of filtered mail of one kind (auto_reply, bounce, ...)."""
        with self._store.lock:
            counts = self.noise_counts()
            counts[kind] = counts.get(kind, 0) + count
            self._put_state("noise", "counts", {"counts": counts})

    def noise_counts(self) -> dict[str, int]:
        with self._store.lock:
            found = self._state_doc("noise", "counts")
            return dict(found[1]["counts"]) if found else {}

    def connector_status(self, key: str) -> ConnectorStatus | None:
        with self._store.lock:
            found = self._state_doc("connector", key)
            status: ConnectorStatus | None = (
                load(ConnectorStatus, found[1], self._state, found[0]) if found else None
            )
        return status

    def connector_statuses(self) -> list[ConnectorStatus]:
        with self._store.lock:
            docs = [d for d in raw_docs(self._state).values() if d.get("type") == "connector"]
        return load_all(ConnectorStatus, docs, [self._state])

    def save_connector_status(self, status: ConnectorStatus) -> None:
        self._put_state("connector", status.key, status.to_doc())
