"""Alert threads: per subscriber, the Slack thread its live alerts go to and what was posted.

One document per subscriber (sharded by subscriber id): the open thread's channel and parent
`ts`, and every alert key with the `ts` it was posted as ("" while a post is under way, so a
crash between the post and the record is found in Slack by the message's metadata instead of
posting twice). Keys outlive a closed thread: an old delivery applied again never re-alerts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.mapping import Model, UTCDateTime
from bot.store import Store, copy_doc, raw_docs, rewrite

THREADS = "alert_threads"


class AlertThread(Model):
    id: str  # the subscriber id
    channel: str = ""
    ts: str = ""  # the open thread's parent message; "" when no thread is open
    opened_at: UTCDateTime | None = None
    closed_at: UTCDateTime | None = None
    task_id: str = ""  # the task its buttons act on
    posted: dict[str, str] = {}  # alert key -> ts ("" = posting)
    alerts: list[dict[str, Any]] = []  # the open thread's alerts (JSON values only)
    declines: list[dict[str, Any]] = []  # the last declines reported apart from their alert

    @property
    def open(self) -> bool:
        return bool(self.ts)


class AlertRepo:
    """Alert threads by subscriber; every change is a read-modify-write under the store lock."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, sid: str) -> AlertThread | None:
        with self._store.lock:
            found = self._find(sid)
            return AlertThread.from_doc(copy_doc(found[1])) if found else None

    def _find(self, sid: str) -> tuple[int, dict[str, Any]] | None:
        table = self._store.shard_table(THREADS, sid)
        for doc_id, doc in raw_docs(table).items():
            if doc["id"] == sid:
                return int(doc_id), doc
        return None

    def mutate(self, sid: str, change: Callable[[AlertThread], None]) -> AlertThread:
        """Change a subscriber's thread (created empty if new) in one write; returns it."""
        with self._store.lock:
            self._store.check_writable()
            found = self._find(sid)
            thread = AlertThread.from_doc(copy_doc(found[1])) if found else AlertThread(id=sid)
            change(thread)
            doc = thread.to_doc()

            def write(docs: dict[int, dict[str, Any]]) -> None:
                docs[found[0] if found else max(docs, default=0) + 1] = doc

            rewrite(self._store.shard_table(THREADS, sid), write)
            return thread
