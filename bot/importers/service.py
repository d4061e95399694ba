"""Importing a file: pick the format, read every row, merge, write once, report.

`import_file` is the whole import without a console, for the CLI, tests and benchmarks. Good
rows are imported even when others are rejected; every rejected row is reported with its line
and reason. A dry run computes the same report and writes nothing.

Every data row is either accepted or rejected, never lost: `rows == accepted + len(rejected)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from bot.bulk import paused_gc
from bot.importers.events import EventReader, looks_like_events, missing_columns
from bot.importers.formats import SUBSCRIBER_FORMATS
from bot.importers.merge import Merger
from bot.importers.reader import CsvTable, ImportFileError, read_csv
from bot.importers.rows import RowReader
from bot.importers.values import RowError, shown
from bot.models import Event, Subscriber
from bot.repos import Repos

FORMATS = ("auto", *SUBSCRIBER_FORMATS, "events")
DESCRIPTIONS = {
    "stripe": "a Stripe subscriptions export",
    "chargebee": "a Chargebee Subscriptions.csv",
    "recharge": "a Recharge subscriptions export",
    "shopify": "a Shopify customers export",
    "generic": "a generic subscribers CSV",
    "events": "an events CSV",
}
PROGRESS_EVERY = 1000

Progress = Callable[[int, int], None]
"""Called as `progress(rows_done, rows_total)` while rows are read."""

T = TypeVar("T")


@dataclass
class Rejected:
    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do).

    Subscriber counts are per subscriber; `rows` and `rejected` are per data row.
    """

    name: str
    format: str
    detected: bool
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    added: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "events" if self.format == "events" else "subscribers"

    @property
    def accepted(self) -> int:
        """Data rows read without error (for events, duplicates included)."""
        return self.rows - len(self.rejected)

    @property
    def exit_code(self) -> int:
        """0 every row imported, 1 some rows rejected and others imported, 2 every row rejected."""
        if not self.rejected:
            return 0
        return 1 if self.accepted else 2


def import_file(
    path: str | Path,
    fmt: str,
    repos: Repos,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV file of subscribers or events into `repos`.

    Args:
        path: the CSV file.
        fmt: one of `FORMATS`; "auto" detects the format from the headers.
        repos: where to read and write.
        now: the import time (history entries, `updated_at`).
        dry_run: compute the report, write nothing.
        progress: called with (rows done, rows total) while reading rows.

    Raises:
        ImportFileError: the file cannot be read or is not a format I know; nothing imported.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"No file {path}: check the path.") from None
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    table = read_csv(data, name=path.name)
    return import_rows(table, fmt, repos, now, dry_run=dry_run, progress=progress, name=path.name)


def import_rows(
    table: CsvTable,
    fmt: str,
    repos: Repos,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    name: str = "the file",
) -> ImportReport:
    """Import an already parsed CSV table (see `import_file`)."""
    chosen, detected = choose_format(table.headers, fmt, name)
    report = ImportReport(
        name=name, format=chosen, detected=detected, dry_run=dry_run, rows=table.count
    )
    with repos.store.lock, paused_gc():  # one read-modify-write of the subscribers
        if chosen == "events":
            _import_events(table, repos, now, report, progress)
        else:
            _import_subscribers(table, chosen, repos, now, report, progress)
    return report


def choose_format(headers: Sequence[str], fmt: str, name: str = "the file") -> tuple[str, bool]:
    """The format to read a file with, and whether it was detected.

    Raises:
        ImportFileError: `auto` found no format whose headers fit, or the file lacks the
            columns the format asked for needs; the message lists what it saw.
    """
    seen = ", ".join(shown(h) for h in headers[:30]) + (" ..." if len(headers) > 30 else "")
    if fmt == "auto":
        if looks_like_events(headers):
            return "events", True
        for candidate in SUBSCRIBER_FORMATS.values():
            if not candidate.missing(headers, auto=True):
                return candidate.name, True
        known = "; ".join(f"{n} ({d})" for n, d in DESCRIPTIONS.items())
        raise ImportFileError(
            f"{name}: I cannot tell which export this is from its headers: {seen}. "
            f"Formats I know: {known}. Name the format with --format, or rename the columns as "
            "docs/importing.md shows (a subscribers file needs at least customer_id or email)."
        )
    if fmt == "events":
        missing = missing_columns(headers)
    elif fmt in SUBSCRIBER_FORMATS:
        missing = SUBSCRIBER_FORMATS[fmt].missing(headers, auto=False)
    else:
        raise ImportFileError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")
    if missing:
        raise ImportFileError(
            f"{name} is not {DESCRIPTIONS[fmt]}: it has no column {' and no column '.join(missing)}. "
            f"Its headers: {seen}. Try --format auto."
        )
    return fmt, False


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
        progress(done, total)


def _read_rows(
    table: CsvTable,
    read: Callable[[int, list[str]], T],
    report: ImportReport,
    progress: Progress | None,
) -> Iterator[T]:
    """Each data row read with `read`; a damaged or unreadable row goes to `report.rejected`."""
    total = table.count
    _tick(progress, 0, total)
    for done, (line, cells) in enumerate(table.rows(), 1):
        try:
            table.check_cells(cells)
            item = read(line, cells)
        except RowError as exc:
            report.rejected.append(Rejected(line, str(exc)))
        else:
            yield item
        _tick(progress, done, total)


def _import_subscribers(
    table: CsvTable,
    fmt: str,
    repos: Repos,
    now: datetime,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    reader = RowReader(SUBSCRIBER_FORMATS[fmt], table.headers)
    merger = Merger(repos.subscribers, fmt, now)
    for row in _read_rows(table, reader.read, report, progress):
        merger.add(row)
    result = merger.result()
    report.created, report.updated = len(result.created), len(result.updated)
    report.unchanged = len(result.unchanged)
    if not report.dry_run:
        repos.subscribers.put_many(result.changed)


def _import_events(
    table: CsvTable,
    repos: Repos,
    now: datetime,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    reader = EventReader(table.headers, repos.subscribers)
    fresh: dict[str, Event] = {}
    for row in _read_rows(table, reader.read, report, progress):
        if row.event.id in fresh or repos.events.exists(row.event.id):
            report.duplicates += 1
        else:
            fresh[row.event.id] = row.event
    report.added = len(fresh)
    moved = _last_orders(fresh.values(), repos, now)
    if not report.dry_run:
        repos.events.add_many(fresh.values())
        repos.subscribers.put_many(moved)


def _last_orders(events: Iterable[Event], repos: Repos, now: datetime) -> list[Subscriber]:
    """Subscribers whose `last_order` the new `order` events move forward."""
    latest: dict[str, date] = {}
    for event in events:
        if event.type == "order":
            day = event.at.date()
            if event.subscriber_id not in latest or day > latest[event.subscriber_id]:
                latest[event.subscriber_id] = day
    moved = []
    for sid, day in latest.items():
        sub = repos.subscribers.get(sid)
        if sub is not None and (sub.last_order is None or day > sub.last_order):
            sub.last_order, sub.updated_at = day, now
            moved.append(sub)
    return moved
