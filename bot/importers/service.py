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
from bot.importers.dates import DateOrder, UndecidedOrder, may_hold_numeric_dates
from bot.importers.detect import OtherExport, looks_generic, nearest_formats, other_export
from bot.importers.events import EventReader, looks_like_events, missing_columns
from bot.importers.formats import GENERIC, SUBSCRIBER_FORMATS
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
    dates: DateOrder = field(default_factory=DateOrder)

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
    date_order: str | None = None,
) -> ImportReport:
    """Import a CSV file of subscribers or events into `repos`.

    Args:
        path: the CSV file.
        fmt: one of `FORMATS`; "auto" detects the format from the headers.
        repos: where to read and write.
        now: the import time (history entries, `updated_at`).
        dry_run: compute the report, write nothing.
        progress: called with (rows done, rows total) while reading rows.
        date_order: "dmy" or "mdy" for numeric dates that can be read both ways; None lets
            the file's other dates decide (see `bot.importers.dates`).

    Raises:
        ImportFileError: the file cannot be read, is not a format I know, is another export
            of a known platform, or holds dates whose order nothing decides; nothing imported.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"No file {path}: check the path.") from None
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    table = read_csv(data, name=path.name)
    return import_rows(
        table,
        fmt,
        repos,
        now,
        dry_run=dry_run,
        progress=progress,
        name=path.name,
        date_order=date_order,
    )


def import_rows(
    table: CsvTable,
    fmt: str,
    repos: Repos,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    name: str = "the file",
    date_order: str | None = None,
) -> ImportReport:
    """Import an already parsed CSV table (see `import_file`)."""
    chosen, detected = choose_format(table.headers, fmt, name)
    report = ImportReport(
        name=name, format=chosen, detected=detected, dry_run=dry_run, rows=table.count
    )
    reader: EventReader | RowReader
    if chosen == "events":
        reader = EventReader(table.headers, repos.subscribers)
    else:
        reader = RowReader(SUBSCRIBER_FORMATS[chosen], table.headers)
    report.dates = _date_order(table, reader.date_positions(), date_order, name)
    reader.date_order = report.dates.order
    with repos.store.lock, paused_gc():  # one read-modify-write of the subscribers
        if isinstance(reader, EventReader):
            _import_events(table, reader, repos, now, report, progress)
        else:
            _import_subscribers(table, reader, repos, now, report, progress)
        if not dry_run:  # the next plan restores the index, not reads every customer
            repos.subscribers.keep_plan_index()
    return report


def _date_order(
    table: CsvTable, positions: Sequence[int], asked: str | None, name: str
) -> DateOrder:
    """How the file's numeric dates are read (a pass over its date columns when it has any).

    Raises:
        ImportFileError: some dates can be read both ways and nothing decides which.
    """
    if not positions or not may_hold_numeric_dates(table.text):
        return DateOrder(order=asked, asked=asked is not None)
    cells = (
        (line, cells[i].strip())
        for line, cells in table.rows()
        for i in positions
        if i < len(cells)
    )
    try:
        return DateOrder.decide(cells, asked)
    except UndecidedOrder as exc:
        raise ImportFileError(f"{name}: {exc}") from None


def choose_format(headers: Sequence[str], fmt: str, name: str = "the file") -> tuple[str, bool]:
    """The format to read a file with, and whether it was detected.

    Raises:
        ImportFileError: `auto` met another export of a known platform (refused by name, with
            the export to use), or no format whose headers fit (the message lists the headers
            found and the nearest formats); or the file lacks the columns the format asked
            for needs.
    """
    seen = ", ".join(shown(h) for h in headers[:30]) + (" ..." if len(headers) > 30 else "")
    other = other_export(headers)
    if fmt == "auto":
        if other is not None:
            raise ImportFileError(_refusal(name, other))
        if looks_like_events(headers):
            return "events", True
        for candidate in SUBSCRIBER_FORMATS.values():
            if candidate is not GENERIC and not candidate.missing(headers, auto=True):
                return candidate.name, True
        if looks_generic(headers):
            return GENERIC.name, True
        near = "; ".join(
            f"{n} ({DESCRIPTIONS[n]}) lacks {' and '.join(missing)}"
            for n, missing in nearest_formats(headers)
        )
        known = ", ".join(f"{n} ({d})" for n, d in DESCRIPTIONS.items())
        raise ImportFileError(
            f"{name}: I cannot tell which export this is from its headers: {seen}. "
            f"Nearest: {near}. Formats I know: {known}. If the file is your own layout, name "
            "its columns as docs/importing.md shows (an id or email, and a status), or pass "
            "--format generic to read it as the generic layout."
        )
    if fmt == "events":
        missing = missing_columns(headers)
    elif fmt in SUBSCRIBER_FORMATS:
        missing = SUBSCRIBER_FORMATS[fmt].missing(headers, auto=False)
    else:
        raise ImportFileError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")
    if other is not None and fmt != GENERIC.name:  # only --format generic reads them anyway
        raise ImportFileError(_refusal(name, other))
    if missing:
        raise ImportFileError(
            f"{name} is not {DESCRIPTIONS[fmt]}: it has no column {' and no column '.join(missing)}. "
            f"Its headers: {seen}. Try --format auto."
        )
    return fmt, False


def _refusal(name: str, other: OtherExport) -> str:
    return (
        f"{name} is {other.name}: {other.holds}. It holds no subscriptions, so nothing was "
        f"read. Import {other.instead}."
    )


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
    reader: RowReader,
    repos: Repos,
    now: datetime,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    merger = Merger(repos.subscribers, reader.format.name, now)
    for row in _read_rows(table, reader.read, report, progress):
        merger.add(row)
    result = merger.result()
    report.created, report.updated = len(result.created), len(result.updated)
    report.unchanged = len(result.unchanged)
    if not report.dry_run:
        repos.subscribers.put_many(result.changed)


def _import_events(
    table: CsvTable,
    reader: EventReader,
    repos: Repos,
    now: datetime,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    fresh: dict[str, Event] = {}
    for row in _read_rows(table, reader.read, report, progress):
        if row.event.id in fresh:
            report.duplicates += 1
        else:
            fresh[row.event.id] = row.event
    stored = repos.events.stored_ids(fresh.values())  # one pass over each shard
    report.duplicates += len(stored)
    fresh = {eid: event for eid, event in fresh.items() if eid not in stored}
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
