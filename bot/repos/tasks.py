"""Tasks: sharded by subscriber so one task write rewrites one small file.

Every change goes through `create` (refuses a second task with the same key) or `mutate`
(read-modify-write under the store's lock), so two threads can never both claim a task.
Tasks are held as their JSON bytes (`bot.compact`), decoded when read; a task is found by id
or key through the index of their hashes (`bot.repos.task_places`), each answer checked
against the document. A subscriber's tasks are found in the one shard its id hashes to. A
write encodes only the tasks it changes. Grown shards are spread over more files
(`TaskRepo.spread`, `bot.reshard`).

A task's digest link (`slack`, `digest_date`) is derived from the posted digest messages
(`DigestRepo.fill_links`, wired by `Repos.open`) and filled in on every read; a write keeps the
stored fields as they were unless the change set them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any, TypeVar

from tinydb.table import Table

from bot.compact import Encoded, decode_doc, encode_doc, table_docs, write_docs
from bot.ids import short_id
from bot.models import ACTIVE_TASK_STATUSES, Task
from bot.repos.changes import ChangeListeners
from bot.repos.loading import load, load_all
from bot.repos.records import holding, read_head
from bot.repos.task_places import TaskPlaces, read_task
from bot.reshard import reshard
from bot.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
Fill = Callable[[Iterable[Task]], None]
LINK_FIELDS = ("slack", "digest_date")


class TaskNotFound(LookupError):
    def __init__(self, task_id: str) -> None:
        super().__init__(
            f"No task {task_id!r}. Task ids look like 'k7qx2': see /care mine or the digest."
        )
        self.task_id = task_id


class SkipTask(Exception):
    """Raised by a `mutate_many` change to leave that task unchanged."""


# Past SPREAD_ABOVE tasks a shard on average the tasks are spread over more shard files, the
# count doubled until a shard holds at most SPREAD_TO: a write rewrites one shard, and at a
# million subscribers (271k tasks in 1,024 files) that file's write cost twice 1k's. The
# spread holds the store's lock while it rewrites every task (about 21 s of CPU at 1M), so
# the daily job does it before the engine's run and the bot at start-up (`spread`), never a
# claim. A write spreads them itself only past SPREAD_FAR, where a claim's CPU grows past
# about 1.15x a spread shard's: only a day that adds over four times the tasks there were
# gets there (the first engine run after a large import; docs/benchmarks.md, "When the
# spread runs").
SPREAD_ABOVE, SPREAD_TO, SPREAD_FAR = 32, 24, 128


def _subscriber_of(raw: Encoded) -> str | None:
    """The shard key of a task document: its subscriber id (None if unreadable)."""
    head = read_head(raw)
    return None if head is None else head.subscriber_id


class StoredTasks:
    """Task documents decoded one at a time as they are iterated (fresh copies)."""

    def __init__(self, raws: list[Encoded]) -> None:
        self._raws = raws

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (decode_doc(raw) for raw in self._raws)

    def __len__(self) -> int:
        return len(self._raws)

    @property
    def encoded(self) -> list[Encoded]:
        """The documents' bytes, not decoded (`bot.duetask.shown` keeps facts by them)."""
        return self._raws


class TaskRepo:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._places = TaskPlaces()
        self._use_tables()
        self._spread_failed = False
        self.changes = ChangeListeners()  # who else must know (bot.worklist)
        self._fill: Fill | None = None
        store.on_undo(self._drop_index)
        store.on_reshard("tasks", self._moved)

    def _use_tables(self) -> None:
        self._places.use(self._store.shard_tables("tasks"))

    def spread(self) -> bool:
        """Spread the tasks over more shard files if a shard holds more than `SPREAD_ABOVE`
        on average (`bot.reshard`). The daily job calls it before the engine's run, and the
        bot at start-up (an old directory), so that no claim waits behind it.

        Returns:
            Whether the tasks moved (never in a read-only store nor inside a transaction).
        """
        with self._store.lock:
            self._index()
            return self._spread(SPREAD_ABOVE)

    def _spread(self, bound: int | None = None) -> bool:
        """Spread the tasks over more shard files when a shard holds more than `bound` on
        average: only in a writable store, outside a transaction, with the lock held. A write
        (no bound: `SPREAD_FAR`) does it only far past the daily job's bound."""
        store, shards, tasks = self._store, len(self._places.tables), self._places.count
        if (
            tasks <= (SPREAD_FAR if bound is None else bound) * shards
            or store.read_only
            or self._spread_failed
        ):
            return False
        if store.journal is not None and store.journal.active:
            return False  # the next write after the transaction does it
        count = shards
        while tasks > SPREAD_TO * count:
            count *= 2
        try:
            reshard(store, "tasks", count, _subscriber_of)  # calls `_moved`
        except OSError:
            self._spread_failed = True  # the old files are still in use; not tried again
            log.exception("Could not spread the tasks over %d shard files", count)
            return False
        self._index()
        return True

    def _moved(self) -> None:
        """The tasks moved to new shard files: the same tasks, at new places (no change to
        report); the index is rebuilt on next use."""
        self._use_tables()

    def derive_links(self, fill: Fill) -> None:
        """Have `fill` set each task's digest link as it is read (`DigestRepo.fill_links`)."""
        self._fill = fill

    def _linked(self, tasks: list[Task]) -> list[Task]:
        if self._fill is not None and tasks:
            self._fill(tasks)
        return tasks

    def _encode(self, task: Task, doc: dict[str, Any], shown: tuple[Any, ...]) -> Encoded:
        """The document to write for `task` read from `doc`: the derived link it was shown
        with (`shown`) is not written; a link the change set is."""
        new = task.to_doc()
        if (task.slack, task.digest_date) == shown:
            for field in LINK_FIELDS:
                if field in doc:
                    new[field] = doc[field]
                else:
                    new.pop(field, None)
        return encode_doc(new)

    def _drop_index(self) -> None:
        """Rebuild the index from the files on next use (a transaction was undone)."""
        self._places.drop()
        self.changes(None)

    def _index(self) -> TaskPlaces:
        places = self._places
        if not places.built:
            places.build()
            if self._store.refresh_shards("tasks"):  # read-only: the bot spread them meanwhile
                return self._index()
            self._spread()
        return places

    def _loc(self, task_id: str) -> int | None:
        return self._index().find(task_id)

    def _id_of_key(self, key: str) -> str | None:
        return self._index().id_of_key(key)

    def _raw(self, task_id: str) -> tuple[Table, int, Encoded] | None:
        loc = self._loc(task_id)
        if loc is None:
            return None
        table, doc_id = self._places.where(loc)
        raw = table_docs(table).get(str(doc_id))
        return None if raw is None else (table, doc_id, raw)

    def _write(self, table: Table, changes: dict[int, Encoded | None]) -> None:
        try:
            write_docs(table, changes)
        except BaseException:
            self._drop_index()  # the storage reloads the file; so do the indexes
            raise

    def get(self, task_id: str) -> Task | None:
        """The task, or None if there is none (or its document cannot be read: logged)."""
        task_id = task_id.strip().lower()
        with self._store.lock:
            found = self._raw(task_id)
        if found is None:
            return None
        table, doc_id, raw = found
        task = read_task(raw, table, doc_id)
        return None if task is None else self._linked([task])[0]

    def require(self, task_id: str) -> Task:
        task = self.get(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    def by_key(self, key: str) -> Task | None:
        with self._store.lock:
            task_id = self._id_of_key(key)
            return self.get(task_id) if task_id else None

    def has_key(self, key: str) -> bool:
        with self._store.lock:
            return self._id_of_key(key) is not None

    def for_subscriber(self, subscriber_id: str) -> list[Task]:
        with self._store.lock:
            places = self._index()  # first: building it may spread the tasks
            table = self._store.shard_table("tasks", subscriber_id)
            found = []
            for doc_id, data in holding(table_docs(table).pairs(), subscriber_id):
                head = read_head(data)
                if head is None or head.subscriber_id != subscriber_id:
                    continue
                if self._loc(head.id) == places.loc(table, doc_id):  # the stored one, readable
                    found.append(head.id)
        return [t for t in (self.get(i) for i in found) if t]

    def _stored(self) -> list[tuple[Table, int, Encoded]]:
        return self._index().stored()

    def all(self) -> Iterator[Task]:
        with self._store.lock:
            stored = self._stored()
        for table, doc_id, raw in stored:
            task = read_task(raw, table, doc_id)
            if task is not None:
                yield self._linked([task])[0]

    def active(self) -> Iterator[Task]:
        with self._store.lock:
            stored = self._stored()
        for table, doc_id, raw in stored:
            doc = decode_doc(raw)
            if doc.get("status") in ACTIVE_TASK_STATUSES:
                task = load(Task, doc, table, doc_id)
                if task is not None:
                    yield self._linked([task])[0]

    def count(self) -> int:
        with self._store.lock:
            return self._index().count

    def load(self, docs: Iterable[dict[str, Any]]) -> list[Task]:
        """Tasks from documents `raw` gave; unreadable ones are skipped and logged."""
        return self._linked(load_all(Task, docs, self._places.tables))

    def raw(self) -> StoredTasks:
        """Every stored task document with an id, for bulk read paths (the engine).

        Each is decoded as it is iterated: a fresh copy the caller may keep or change.
        """
        with self._store.lock:
            return StoredTasks(self._index().encoded())

    def new_id(self, key: str, reserved: Collection[str] = ()) -> str:
        """A short id for `key`, not used by a stored task nor in `reserved` (ids planned but
        not stored yet)."""
        with self._store.lock:
            taken = self._loc
            return short_id(key, lambda c: c in reserved or taken(c) is not None)

    def create(self, task: Task) -> bool:
        """Store a new task. Returns False (and stores nothing) if its key already exists."""
        return bool(self._create([task], single=True))

    def create_many(self, tasks: list[Task]) -> list[Task]:
        """Store new tasks with one write per shard touched; returns those actually created."""
        return self._create(tasks, single=False)

    def _create(self, tasks: list[Task], *, single: bool) -> list[Task]:
        with self._store.lock:
            self._store.check_writable()
            fresh: dict[str, Task] = {}
            for task in tasks:
                if task.key not in fresh and self._id_of_key(task.key) is None:
                    if single and self._loc(task.id) is not None:
                        raise ValueError(f"task id {task.id} already used")
                    fresh[task.key] = task
            by_table: dict[int, tuple[Table, list[Task]]] = {}
            for task in fresh.values():
                table = self._store.shard_table("tasks", task.subscriber_id)
                by_table.setdefault(id(table), (table, []))[1].append(task)
            for table, group in by_table.values():
                last = table_docs(table).last_id()
                self._write(
                    table, {last + n: encode_doc(t.to_doc()) for n, t in enumerate(group, 1)}
                )
                for n, task in enumerate(group, 1):
                    self._places.place(table, last + n, task)
            if fresh:
                self.changes({t.subscriber_id for t in fresh.values()})
                self._spread()
            return list(fresh.values())

    def mutate(self, task_id: str, change: Callable[[Task], T]) -> tuple[Task, T]:
        """Read the task, let `change` modify it (or raise), write it back; all under the lock.

        Returns:
            The task as written and whatever `change` returned.
        """
        task_id = task_id.strip().lower()
        with self._store.lock:
            self._store.check_writable()
            found = self._raw(task_id)
            if found is None:
                raise TaskNotFound(task_id)
            table, doc_id, raw = found
            doc = decode_doc(raw)
            task = self._linked([Task.from_doc(doc)])[0]  # a change that raises: no trace
            shown = (dict(task.slack), task.digest_date)
            result = change(task)
            if task.id != task_id or task.key != doc["key"]:
                raise ValueError("a task's id and key never change")
            self._write(table, {doc_id: self._encode(task, doc, shown)})
            self.changes([task.subscriber_id])
            return task, result

    def mutate_many(self, task_ids: list[str], change: Callable[[Task], object]) -> list[Task]:
        """Like `mutate` for many tasks, with one write per shard touched (bulk expiry).

        `change` may raise `SkipTask` to leave a task as it is; unknown ids are skipped.

        Returns:
            The tasks as written.
        """
        with self._store.lock:
            self._store.check_writable()
            groups: dict[int, tuple[Table, dict[int, Encoded | None], list[Task]]] = {}
            for task_id in task_ids:
                found = self._raw(task_id.strip().lower())
                if found is None:
                    continue
                table, doc_id, raw = found
                doc = decode_doc(raw)
                task: Task | None = load(Task, doc, table, doc_id)
                if task is None:
                    continue
                key = doc["key"]
                shown = (dict(self._linked([task])[0].slack), task.digest_date)
                try:
                    change(task)
                except SkipTask:
                    continue
                if task.id != doc["id"] or task.key != key:
                    raise ValueError("a task's id and key never change")
                group = groups.setdefault(id(table), (table, {}, []))
                group[1][doc_id] = self._encode(task, doc, shown)
                group[2].append(task)
            written: list[Task] = []
            for table, new_docs, tasks in groups.values():
                self._write(table, new_docs)
                written.extend(tasks)
            self.changes({t.subscriber_id for t in written})
            return written
