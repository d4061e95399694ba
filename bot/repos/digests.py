"""Digest records: a small header per date, and one document per thread reply.

The header (`DigestRecord`, one file for all dates) says where the day's parent message is and
how many thread replies the day has. Each reply is its own document (`DigestMessage`), sharded
by date and position like tasks, so posting one message or editing it after a claim rewrites one
small file whatever the digest holds, and a claim finds the message that shows its task by the
message's ts without reading the rest of the day.

A task's Slack link (`Task.slack`, `Task.digest_date`) is derived from these documents: the
latest posted message that lists the task is where it is shown now. The repository keeps that
as an index (task id -> message), built from the files on first use and kept by every write, and
`fill_links` puts it on tasks as they are read (`TaskRepo.derive_links`). So posting a message
writes its own document and nothing else, whatever the store holds; a message's ts and its
tasks' link are stored in one write, so a kill between the post and the link cannot happen.

The index keeps the links of the last `KEEP_LINK_DAYS` digests (counted back from the newest):
it held one entry per task ever posted. A task still open is listed again by every digest
(carried over), so a task last listed earlier than that is long closed; its link only said
where an old thread showed it, and a closed task changes nothing there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from tinydb import Query
from tinydb.table import Table

from bot.mapping import Model, UTCDateTime
from bot.models import Task
from bot.repos.changes import ChangeListeners
from bot.repos.loading import load
from bot.store import Store, copy_doc, iter_docs, raw_docs, rewrite

POSTING, POSTED = "posting", "posted"
# Consecutive messages of a day share a shard file: writing the day's messages before posting
# costs one file per 16 messages, and posting one rewrites a file of at most 16 small documents.
MESSAGES_PER_SHARD = 16
TALLY_KEYS = ("claimed", "done", "open", "expired", "moved")
KEEP_LINK_DAYS = 180


class DigestMessage(Model):
    """One thread reply: a few entries (one customer each) of one kind.

    Attributes:
        date, index: the digest it belongs to and its place in the thread (0 first).
        kind: the kind its entries are listed under ("carried" for the still-open list).
        entries: task ids per entry (one entry = one customer).
        first_of_kind: it opens its kind's section of the thread (shows the kind's header).
        carried: the compact layout for tasks carried over from earlier digests.
        ts: the message in Slack, once posted.
    """

    date: date
    index: int
    kind: str
    entries: list[list[str]]
    first_of_kind: bool = False
    carried: bool = False
    ts: str = ""

    @property
    def key(self) -> str:
        return message_key(self.date, self.index)

    @property
    def task_ids(self) -> list[str]:
        return [t for e in self.entries for t in e]


class DigestRecord(Model):
    """One day's digest: its parent message and how many thread replies it has.

    Attributes:
        counts: due tasks per kind, "overdue" and "carried" (from earlier digests), as planned.
        message_count: thread replies (`DigestMessage` index 0 to message_count - 1).
        moved_from: ts of earlier days' messages that showed tasks this digest lists now; they
            are edited to say so once this digest is posted.
    """

    date: date
    channel: str
    created_at: UTCDateTime
    status: str = POSTING
    parent_ts: str = ""
    counts: dict[str, int] = {}
    message_count: int = 0
    moved_from: list[str] = []
    posted_at: UTCDateTime | None = None


def message_key(day: date, index: int) -> str:
    return f"{day.isoformat()}:{index}"


# Where a task is shown: the posted message's (date, index, ts); one tuple per message.
Shown = tuple[date, int, str]


class DigestRepo:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table("digests")
        self._shards = store.shard_tables("digest_messages")
        self._where: dict[str, tuple[Table, int]] | None = None  # message key -> (shard, doc id)
        self._by_ts: dict[str, str] = {}  # posted message ts -> key
        self._shown: dict[str, Shown] = {}  # task id -> the latest posted message listing it
        self._days: dict[date, tuple[str, str]] = {}  # date -> (channel, parent ts)
        # Told the ids of the tasks a post links (not customers' ids): bot.worklist re-ranks them.
        self.linked = ChangeListeners()
        store.on_undo(self._drop_index)

    def _drop_index(self) -> None:
        """Read the files again on next use (a transaction was undone)."""
        self._where, self._by_ts, self._shown, self._days = None, {}, {}, {}
        self.linked(None)

    # -- the day's header ----------------------------------------------------------------------

    def get(self, day: date) -> DigestRecord | None:
        with self._store.lock:
            self._index()  # splits headers written by earlier versions
            stored = self._table.get(Query().date == day.isoformat())
            if stored is None:
                return None
            doc = self._migrate(dict(stored)) if "messages" in stored else dict(stored)
            record: DigestRecord | None = load(DigestRecord, doc, self._table, stored.doc_id)
            return record

    def save(self, record: DigestRecord) -> None:
        with self._store.lock:
            self._store.check_writable()
            self._index()
            self._table.upsert(record.to_doc(), Query().date == record.date.isoformat())
            new_day = record.date not in self._days
            self._days[record.date] = (record.channel, record.parent_ts)
            if new_day:
                self._forget_old_links()

    def _forget_old_links(self) -> None:
        """Drop the links of tasks last listed more than `KEEP_LINK_DAYS` before the newest
        digest (once per new day: one pass over the index)."""
        if not self._days:
            return
        since = max(self._days) - timedelta(days=KEEP_LINK_DAYS)
        old = [task_id for task_id, shown in self._shown.items() if shown[0] < since]
        for task_id in old:
            del self._shown[task_id]

    def recent(self, limit: int = 14) -> list[DigestRecord]:
        with self._store.lock:
            days = sorted((d["date"] for d in self._table.all()), reverse=True)[:limit]
        return [r for r in (self.get(date.fromisoformat(d)) for d in days) if r]

    # -- its thread replies --------------------------------------------------------------------

    def count(self) -> int:
        """Messages stored, over all days (reads and indexes them all: done at start)."""
        with self._store.lock:
            return len(self._index())

    def messages(self, day: date) -> list[DigestMessage]:
        """The day's thread replies in thread order (none before the record exists)."""
        record = self.get(day)
        if record is None:
            return []
        found = (self.message(day, i) for i in range(record.message_count))
        return [m for m in found if m is not None]

    def message(self, day: date, index: int) -> DigestMessage | None:
        with self._store.lock:
            return self._load(message_key(day, index))

    def message_at(self, ts: str) -> DigestMessage | None:
        """The thread reply posted as `ts`, or None."""
        with self._store.lock:
            self._index()
            key = self._by_ts.get(ts)
            return self._load(key) if key else None

    def save_message(self, message: DigestMessage) -> None:
        self.save_messages([message])

    def save_messages(self, messages: list[DigestMessage]) -> None:
        """Insert or replace messages: one write per shard touched."""
        with self._store.lock:
            self._store.check_writable()
            where = self._index()
            groups: dict[int, tuple[Table, list[DigestMessage]]] = {}
            for message in messages:
                table = where[message.key][0] if message.key in where else self._shard(message)
                groups.setdefault(id(table), (table, []))[1].append(message)
            for table, group in groups.values():
                fresh = [m for m in group if m.key not in where]
                if fresh:
                    doc_ids = table.insert_multiple([m.to_doc() for m in fresh])
                    for doc_id, message in zip(doc_ids, fresh, strict=True):
                        where[message.key] = (table, doc_id)
                known = {where[m.key][1]: m.to_doc() for m in group if m not in fresh}
                if known:
                    rewrite(table, lambda docs, new=known: docs.update(new))  # type: ignore[misc]
                self._by_ts.update({m.ts: m.key for m in group if m.ts})
            linked = [
                t
                for m in messages
                if m.ts
                for t in self._note_shown((m.date, m.index, m.ts), m.task_ids)
            ]
            if linked:
                self.linked(linked)

    # -- where each task is shown --------------------------------------------------------------

    def fill_links(self, tasks: Iterable[Task]) -> None:
        """Set each task's `slack` link and `digest_date` from the posted messages listing it.

        A task no posted message lists keeps what it carries (tasks linked by earlier versions
        had it written into them); a stored link to a later digest than the messages say is
        kept too.
        """
        with self._store.lock:
            self._index()
            shown, days = self._shown, self._days
            for task in tasks:
                found = shown.get(task.id)
                if found is None or (task.digest_date is not None and task.digest_date > found[0]):
                    continue
                day, _, ts = found
                channel, parent = days.get(day, ("", ""))
                task.slack = {"channel": channel, "ts": ts, "thread_ts": parent}
                task.digest_date = day

    def _note_shown(self, here: Shown, task_ids: Iterable[str]) -> list[str]:
        """Note that the message posted as `here` shows `task_ids`, unless a later one does.

        Returns:
            The ids of the tasks whose link this changed.
        """
        shown, changed = self._shown, []
        for task_id in task_ids:
            was = shown.get(task_id)
            if was is None or was[:2] <= here[:2]:
                shown[task_id] = here
                if was != here:
                    changed.append(task_id)
        return changed

    def _shard(self, message: DigestMessage) -> Table:
        group = message_key(message.date, message.index // MESSAGES_PER_SHARD)
        return self._store.shard_table("digest_messages", group)

    def _load(self, key: str) -> DigestMessage | None:
        loc = self._index().get(key)
        if loc is None:
            return None
        doc = raw_docs(loc[0]).get(str(loc[1]))
        if not doc:
            return None
        message: DigestMessage | None = load(DigestMessage, copy_doc(doc), loc[0], loc[1])
        return message

    def _index(self) -> dict[str, tuple[Table, int]]:
        if self._where is None:
            where: dict[str, tuple[Table, int]] = {}
            for table, doc_id, doc in iter_docs(self._shards):
                day = date.fromisoformat(doc["date"])
                key = message_key(day, doc["index"])
                where[key] = (table, doc_id)
                if doc.get("ts"):
                    self._by_ts[doc["ts"]] = key
                    listed = (t for entry in doc.get("entries") or () for t in entry)
                    self._note_shown((day, doc["index"], doc["ts"]), listed)
            self._where = where
            for header in self._table.all():
                day = date.fromisoformat(header["date"])
                self._days[day] = (header.get("channel", ""), header.get("parent_ts", ""))
            self._forget_old_links()
            for header in [d for d in self._table.all() if "messages" in d]:
                self._migrate(dict(header))
        return self._where

    def _migrate(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A header written before messages had their own documents: split them out."""
        day = date.fromisoformat(doc["date"])
        messages = [
            DigestMessage.from_doc({**m, "date": doc["date"], "index": i})
            for i, m in enumerate(doc.pop("messages"))
        ]
        doc["message_count"] = len(messages)
        if not self._store.read_only:
            self.save_messages(messages)
            self._table.upsert(doc, Query().date == day.isoformat())
        return doc
