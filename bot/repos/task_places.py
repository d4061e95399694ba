"""Where each stored task is: its shard and doc id, found by the hash of its id or of its key.

`TaskRepo` (bot/repos/tasks.py) finds a task through this index instead of scanning its
shards. A location is one int, `shard << SHIFT | doc id`. The index keeps the hashes of the
tasks' ids and keys beside their locations (`bot.repos.hash_index`), no str, and every answer
is checked against the stored document, so a hash collision or an entry a change left behind
costs one more check, never a wrong answer. A document without an id, key or subscriber is
kept apart (`unreadable`): left in its file, out of every view.
"""

from __future__ import annotations

from array import array
from typing import Any

import msgspec
from tinydb.table import Table

from bot.compact import Encoded, decode_doc, table_docs
from bot.models import Task
from bot.repos.hash_index import HashIndex, key_hash
from bot.repos.records import read_record

SHIFT = 40  # a location is shard << SHIFT | doc id
DOC_ID = (1 << SHIFT) - 1
_read_task = msgspec.json.Decoder(Task).decode


def read_task(raw: Encoded, table: Table, doc_id: int) -> Task | None:
    """The task a document holds, None if it cannot be read (logged)."""
    task: Task | None = read_record(_read_task, Task, raw, table, doc_id)
    return task


class Head(msgspec.Struct):
    """A task document's id and key, read without the rest."""

    id: Any = None
    key: Any = None


_read_head = msgspec.json.Decoder(Head).decode


class TaskPlaces:
    """The locations of the tasks in the shard tables in use, built from them on demand.

    Attributes:
        tables: the task shards in use, by shard number.
        count: how many tasks are stored (a task id stored twice counts once).
        unreadable: the locations of documents without an id, key or subscriber.
    """

    def __init__(self) -> None:
        self.tables: list[Table] = []
        self._shard_no: dict[int, int] = {}
        # hash of task id -> location, hash of key -> location.
        self._ids: HashIndex | None = None
        self._keys = HashIndex()
        self.count = 0
        self.unreadable: set[int] = set()

    def use(self, tables: list[Table]) -> None:
        """Index `tables` (the shards in use) from now on: built again on next use."""
        self.tables = tables
        self._shard_no = {id(table): n for n, table in enumerate(tables)}
        self.drop()

    def drop(self) -> None:
        """Forget every location: built again from the tables on next use."""
        self._ids, self._keys, self.count, self.unreadable = None, HashIndex(), 0, set()

    @property
    def built(self) -> bool:
        return self._ids is not None

    def build(self) -> None:
        """Read every task document's id and key from the tables."""
        ids, keys, locs = array("q"), array("q"), array("q")  # hashes, and where
        for n, table in enumerate(self.tables):
            for doc_id, raw in table_docs(table).pairs():
                task = read_task(raw, table, doc_id)
                loc = n << SHIFT | doc_id
                if task is None:  # left in its file, out of every view
                    self.unreadable.add(loc)
                    continue
                ids.append(key_hash(task.id))
                keys.append(key_hash(task.key))
                locs.append(loc)
        self._ids, self._keys = HashIndex(ids, locs), HashIndex(keys, locs)
        self.count = len(ids)
        for same in self._ids.shared():  # a task id stored twice (hand-edited): rare
            self.count -= len(same) - len({self.head(loc).id for loc in same})

    def head(self, loc: int) -> Head:
        """The id and key of the document at `loc` (None, None if there is none)."""
        raw = table_docs(self.tables[loc >> SHIFT]).get(str(loc & DOC_ID))
        if raw is None:
            return Head()
        try:
            return _read_head(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            doc = decode_doc(raw)
            return Head(doc.get("id"), doc.get("key")) if isinstance(doc, dict) else Head()

    def find(self, task_id: str) -> int | None:
        """Where the task `task_id` is stored (the last one, if hand-edited twice)."""
        assert self._ids is not None
        for loc in reversed(self._ids.get(key_hash(task_id))):
            if loc not in self.unreadable and self.head(loc).id == task_id:
                return loc
        return None

    def id_of_key(self, key: str) -> str | None:
        """The id of the stored task with `key`, None if there is none."""
        for loc in reversed(self._keys.get(key_hash(key))):
            head = self.head(loc)
            if loc not in self.unreadable and head.key == key and type(head.id) is str:
                return head.id
        return None

    def loc(self, table: Table, doc_id: int) -> int:
        """The location of the document `doc_id` in the shard `table`."""
        return self._shard_no[id(table)] << SHIFT | doc_id

    def where(self, loc: int) -> tuple[Table, int]:
        """The shard table and doc id at `loc`."""
        return self.tables[loc >> SHIFT], loc & DOC_ID

    def place(self, table: Table, doc_id: int, task: Task) -> None:
        """File a task just stored at `doc_id` of `table`."""
        assert self._ids is not None
        loc = self.loc(table, doc_id)
        self._ids.add(key_hash(task.id), loc)
        self._keys.add(key_hash(task.key), loc)
        self.count += 1

    def stored(self) -> list[tuple[Table, int, Encoded]]:
        """Every readable task document, with its table and doc id."""
        skip = self.unreadable
        return [
            (table, doc_id, raw)
            for n, table in enumerate(self.tables)
            for doc_id, raw in table_docs(table).pairs()
            if not skip or n << SHIFT | doc_id not in skip
        ]

    def encoded(self) -> list[Encoded]:
        """Every readable task document's bytes (no tuple per task: the plan's peak)."""
        skip = self.unreadable
        return [
            raw
            for n, table in enumerate(self.tables)
            for doc_id, raw in table_docs(table).pairs()
            if not skip or n << SHIFT | doc_id not in skip
        ]
