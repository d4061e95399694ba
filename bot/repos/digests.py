"""Digest records: one per date, with the `ts` of every message posted for it.

The record is written before the first post and after every post, so a restart resumes where
posting stopped and never posts a message twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tinydb import Query

from bot.models import Doc
from bot.store import Store

POSTING, POSTED = "posting", "posted"


@dataclass
class DigestMessage(Doc):
    """One thread reply: a few entries (one customer each) of one kind."""

    kind: str
    entries: list[list[str]]  # task ids per entry (one entry = one customer)
    first_of_kind: bool = False
    ts: str = ""


@dataclass
class DigestRecord(Doc):
    date: date
    channel: str
    created_at: datetime
    status: str = POSTING
    parent_ts: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    messages: list[DigestMessage] = field(default_factory=list)
    posted_at: datetime | None = None

    _dates = ("date",)
    _datetimes = ("created_at", "posted_at")

    @classmethod
    def _post_load(cls, values: dict[str, Any]) -> DigestRecord:
        values["messages"] = [DigestMessage.from_doc(m) for m in values.get("messages", [])]
        return cls(**values)

    @property
    def task_ids(self) -> list[str]:
        return [t for m in self.messages for e in m.entries for t in e]

    def message_for(self, task_id: str) -> DigestMessage | None:
        return next((m for m in self.messages if any(task_id in e for e in m.entries)), None)


class DigestRepo:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table("digests")

    def get(self, day: date) -> DigestRecord | None:
        with self._store.lock:
            doc = self._table.get(Query().date == day.isoformat())
            return DigestRecord.from_doc(dict(doc)) if doc else None

    def save(self, record: DigestRecord) -> None:
        with self._store.lock:
            self._store.check_writable()
            self._table.upsert(record.to_doc(), Query().date == record.date.isoformat())

    def recent(self, limit: int = 14) -> list[DigestRecord]:
        with self._store.lock:
            docs = sorted(self._table.all(), key=lambda d: d["date"], reverse=True)[:limit]
        return [DigestRecord.from_doc(dict(d)) for d in docs]
