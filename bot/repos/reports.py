"""Weekly report records and the kept App Home headline.

Weekly report records: one per ISO week, with the `ts` of the message posted for it.

Written before the post and right after it, like the digest's, so a restart never posts a
week's report twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinydb import Query

from bot.models import Doc
from bot.store import Store

POSTING, POSTED = "posting", "posted"
CHARTS_UPLOADING, CHARTS_DONE = "uploading", "done"
HEADLINE_KEY = "30d"


@dataclass
class ReportRecord(Doc):
    week: str  # ISO week, "2026-W49"
    channel: str
    created_at: datetime
    status: str = POSTING
    ts: str = ""
    charts: str = ""  # "" | uploading | done
    posted_at: datetime | None = None

    _datetimes = ("created_at", "posted_at")


class ReportRepo:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table("weekly_reports")

    def get(self, week: str) -> ReportRecord | None:
        with self._store.lock:
            doc = self._table.get(Query().week == week)
            return ReportRecord.from_doc(dict(doc)) if doc else None  # type: ignore[arg-type]

    def save(self, record: ReportRecord) -> None:
        with self._store.lock:
            self._store.check_writable()
            self._table.upsert(record.to_doc(), Query().week == record.week)


class HeadlineRepo:
    """The App Home headline kept between computations (`bot.metrics.headline`): one document."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table("headline")

    def get(self) -> dict[str, Any] | None:
        """The kept document as stored (the caller reads it), or None."""
        with self._store.lock:
            doc = self._table.get(Query().key == HEADLINE_KEY)
            return dict(doc) if doc else None  # type: ignore[arg-type]

    def save(self, doc: dict[str, Any]) -> None:
        """Replace the kept document (one write: a kill leaves the old one or the new)."""
        with self._store.lock:
            self._store.check_writable()
            self._table.upsert({**doc, "key": HEADLINE_KEY}, Query().key == HEADLINE_KEY)
