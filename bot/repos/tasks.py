"""Tasks: sharded by subscriber so one task write rewrites one small file.

Every change goes through `create` (refuses a second task with the same key) or `mutate`
(read-modify-write under the store's lock), so two threads can never both claim a task.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any, TypeVar

from tinydb.table import Table

from bot.ids import short_id
from bot.models import ACTIVE_TASK_STATUSES, Task
from bot.repos.changes import ChangeListeners
from bot.repos.loading import load, load_all
from bot.store import Store, copy_doc, iter_docs, raw_docs, rewrite

T = TypeVar("T")


class TaskNotFound(LookupError):
    def __init__(self, task_id: str) -> None:
        super().__init__(
            f"No task {task_id!r}. Task ids look like 'k7qx2': see /care mine or the digest."
        )
        self.task_id = task_id


class SkipTask(Exception):
    """Raised by a `mutate_many` change to leave that task unchanged."""


class TaskRepo:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._tables = store.shard_tables("tasks")
        self._where: dict[str, tuple[Table, int]] | None = None  # task id -> (shard, doc id)
        self._by_key: dict[str, str] = {}
        self._by_subscriber: dict[str, list[str]] = {}
        self._unreadable: set[tuple[int, int]] = set()  # (id(shard), doc id) of unreadable docs
        self.changes = ChangeListeners()  # who else must know (bot.worklist)
        store.on_undo(self._drop_index)

    def _drop_index(self) -> None:
        """Rebuild the indexes from the files on next use (a transaction was undone)."""
        self._where, self._by_key, self._by_subscriber = None, {}, {}
        self._unreadable = set()
        self.changes(None)

    def _index(self) -> dict[str, tuple[Table, int]]:
        if self._where is None:
            where: dict[str, tuple[Table, int]] = {}
            for table, doc_id, doc in iter_docs(self._tables):
                if load(Task, doc, table, doc_id) is None:  # left in its file, out of every view
                    self._unreadable.add((id(table), doc_id))
                    continue
                where[doc["id"]] = (table, doc_id)
                self._by_key[doc["key"]] = doc["id"]
                self._by_subscriber.setdefault(doc["subscriber_id"], []).append(doc["id"])
            self._where = where
        return self._where

    def _doc(self, task_id: str) -> dict[str, Any] | None:
        loc = self._index().get(task_id)
        if loc is None:
            return None
        table, doc_id = loc
        return raw_docs(table).get(str(doc_id))

    def get(self, task_id: str) -> Task | None:
        """The task, or None if there is none (or its document cannot be read: logged)."""
        task_id = task_id.strip().lower()
        with self._store.lock:
            doc = self._doc(task_id)
            if not doc:
                return None
            table, doc_id = self._index()[task_id]
            task: Task | None = load(Task, copy_doc(doc), table, doc_id)
            return task

    def require(self, task_id: str) -> Task:
        task = self.get(task_id)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    def by_key(self, key: str) -> Task | None:
        with self._store.lock:
            self._index()
            task_id = self._by_key.get(key)
            return self.get(task_id) if task_id else None

    def has_key(self, key: str) -> bool:
        with self._store.lock:
            self._index()
            return key in self._by_key

    def for_subscriber(self, subscriber_id: str) -> list[Task]:
        with self._store.lock:
            self._index()
            ids = list(self._by_subscriber.get(subscriber_id, ()))
        return [t for t in (self.get(i) for i in ids) if t]

    def all(self) -> Iterator[Task]:
        with self._store.lock:
            docs = [(t, i, doc) for t, i, doc in iter_docs(self._tables)]
        for table, doc_id, doc in docs:
            task = load(Task, copy_doc(doc), table, doc_id)
            if task is not None:
                yield task

    def active(self) -> Iterator[Task]:
        with self._store.lock:
            docs = [
                (t, i, d)
                for t, i, d in iter_docs(self._tables)
                if d.get("status") in ACTIVE_TASK_STATUSES
            ]
        for table, doc_id, doc in docs:
            task = load(Task, copy_doc(doc), table, doc_id)
            if task is not None:
                yield task

    def count(self) -> int:
        with self._store.lock:
            return len(self._index())

    def load(self, docs: Iterable[dict[str, Any]]) -> list[Task]:
        """Tasks from documents `raw` gave, copied; unreadable ones are skipped and logged."""
        return load_all(Task, (copy_doc(d) for d in docs), self._tables)

    def raw(self) -> list[dict[str, Any]]:
        """Every readable stored task document, for bulk read paths (the engine). Do not modify."""
        with self._store.lock:
            self._index()
            skip = self._unreadable
            return [d for t, i, d in iter_docs(self._tables) if not skip or (id(t), i) not in skip]

    def new_id(self, key: str, reserved: Collection[str] = ()) -> str:
        """A short id for `key`, not used by a stored task nor in `reserved` (ids planned but
        not stored yet)."""
        with self._store.lock:
            index = self._index()
            return short_id(key, lambda candidate: candidate in index or candidate in reserved)

    def create(self, task: Task) -> bool:
        """Store a new task. Returns False (and stores nothing) if its key already exists."""
        with self._store.lock:
            self._store.check_writable()
            index = self._index()
            if task.key in self._by_key:
                return False
            if task.id in index:
                raise ValueError(f"task id {task.id} already used")
            table = self._store.shard_table("tasks", task.subscriber_id)
            doc_id = table.insert(task.to_doc())
            index[task.id] = (table, doc_id)
            self._by_key[task.key] = task.id
            self._by_subscriber.setdefault(task.subscriber_id, []).append(task.id)
            self.changes([task.subscriber_id])
            return True

    def create_many(self, tasks: list[Task]) -> list[Task]:
        """Store new tasks with one write per shard touched; returns those actually created."""
        with self._store.lock:
            self._store.check_writable()
            index = self._index()
            fresh: dict[str, Task] = {}
            for task in tasks:
                if task.key not in self._by_key and task.key not in fresh:
                    fresh[task.key] = task
            by_table: dict[int, tuple[Table, list[Task]]] = {}
            for task in fresh.values():
                table = self._store.shard_table("tasks", task.subscriber_id)
                by_table.setdefault(id(table), (table, []))[1].append(task)
            for table, group in by_table.values():
                doc_ids = table.insert_multiple([t.to_doc() for t in group])
                for task, doc_id in zip(group, doc_ids, strict=True):
                    index[task.id] = (table, doc_id)
                    self._by_key[task.key] = task.id
                    self._by_subscriber.setdefault(task.subscriber_id, []).append(task.id)
            self.changes({t.subscriber_id for t in fresh.values()})
            return list(fresh.values())

    def mutate(self, task_id: str, change: Callable[[Task], T]) -> tuple[Task, T]:
        """Read the task, let `change` modify it (or raise), write it back; all under the lock.

        Returns:
            The task as written and whatever `change` returned.
        """
        task_id = task_id.strip().lower()
        with self._store.lock:
            self._store.check_writable()
            doc = self._doc(task_id)
            if doc is None:
                raise TaskNotFound(task_id)
            task = Task.from_doc(copy_doc(doc))  # a change that raises must leave no trace
            result = change(task)
            if task.id != task_id or task.key != doc["key"]:
                raise ValueError("a task's id and key never change")
            table, doc_id = self._index()[task_id]
            new_doc = task.to_doc()

            def replace(docs: dict[int, dict[str, Any]]) -> None:
                docs[doc_id] = new_doc

            rewrite(table, replace)
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
            index = self._index()
            groups: dict[int, tuple[Table, dict[int, dict[str, Any]], list[Task]]] = {}
            for task_id in task_ids:
                doc = self._doc(task_id.strip().lower())
                if doc is None:
                    continue
                table, doc_id = index[task_id.strip().lower()]
                loaded: Task | None = load(Task, copy_doc(doc), table, doc_id)
                if loaded is None:
                    continue
                task = loaded
                try:
                    change(task)
                except SkipTask:
                    continue
                if task.id != doc["id"] or task.key != doc["key"]:
                    raise ValueError("a task's id and key never change")
                table, doc_id = index[task.id]
                group = groups.setdefault(id(table), (table, {}, []))
                group[1][doc_id] = task.to_doc()
                group[2].append(task)
            written: list[Task] = []
            for table, new_docs, tasks in groups.values():

                def replace(
                    docs: dict[int, dict[str, Any]], new: dict[int, dict[str, Any]] = new_docs
                ) -> None:
                    docs.update(new)

                rewrite(table, replace)
                written.extend(tasks)
            self.changes({t.subscriber_id for t in written})
            return written
