"""The audit trail, sharded by subscriber: a customer's history is one small file's worth."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.audit import AuditEntry
from bot.repos.records import ShardedRecords
from bot.store import Store


class AuditRepo(ShardedRecords[AuditEntry]):
    name = "audit"

    def __init__(self, store: Store) -> None:
        super().__init__(store, AuditEntry)

    def record(
        self, subscriber_id: str, at: datetime, by: str, action: str, surface: str, **details: Any
    ) -> AuditEntry:
        """Store one new entry (see `AuditEntry.new`) and return it."""
        entry = AuditEntry.new(subscriber_id, at, by, action, surface, **details)
        self.add(entry)
        return entry

    def history(self, subscriber_id: str) -> list[AuditEntry]:
        """The subscriber's entries, most recent first (same-second entries: last added first)."""
        entries = self.for_subscriber(subscriber_id)  # in the order they were added
        return sorted(entries, key=lambda e: e.at)[::-1]

    def for_task(self, task_id: str, subscriber_id: str) -> list[AuditEntry]:
        """Every entry about `task_id`, most recent first."""
        return [e for e in self.history(subscriber_id) if task_id in e.task_ids]

    def for_item(self, item_id: str, subscriber_id: str) -> list[AuditEntry]:
        """Every entry about inbox item `item_id`, most recent first."""
        return [e for e in self.history(subscriber_id) if e.item_id == item_id]
