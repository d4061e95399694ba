"""`python app.py import PATH`: the import with a progress bar, a summary and the rejected rows.

Exit codes: 0 every row imported, 1 some rows rejected (the others were imported),
2 nothing imported (the file could not be read, or every row was rejected).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape as _escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from bot.clock import Clock, SystemClock
from bot.importers.dates import describe
from bot.importers.reader import ImportFileError
from bot.importers.service import DESCRIPTIONS, ImportReport, import_file
from bot.repos import Repos
from bot.store import Store
from config.settings import Settings

PROGRESS_FROM_ROWS = 2000  # smaller files import in the blink of an eye
MAX_LISTED = 50


class ProgressBar:
    """A transient rich progress bar that only appears for files of many rows."""

    def __init__(self, console: Console, threshold: int = PROGRESS_FROM_ROWS) -> None:
        self._console = console
        self._threshold = threshold
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if total <= self._threshold:
            return
        if self._progress is None:
            self._progress = Progress(
                TextColumn("Importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("import", total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def open_store(data_dir: Path, dry_run: bool) -> Store:
    """The store to import into; a dry run reads the current data and can write nothing."""
    if not dry_run:
        return Store(data_dir)
    if data_dir.is_dir():
        return Store(data_dir, read_only=True)
    return Store.memory()


def run_import(
    settings: Settings,
    path: str,
    fmt: str,
    dry_run: bool,
    console: Console,
    clock: Clock | None = None,
    date_order: str | None = None,
) -> int:
    """Import `path` into the data directory and print what happened.

    Args:
        settings: where the data lives.
        path: the CSV file.
        fmt: a format name or "auto".
        dry_run: report what would change, change nothing.
        console: where to print.
        clock: the import time (default: the system clock).
        date_order: "dmy" or "mdy" for numeric dates that can be read both ways.

    Returns:
        The exit code: 0 all imported, 1 some rows rejected, 2 nothing imported.
    """
    now = (clock or SystemClock()).now()
    bar = ProgressBar(console)
    with open_store(settings.data_dir, dry_run) as store:
        try:
            report = import_file(
                path,
                fmt,
                Repos.open(store),
                now,
                dry_run=dry_run,
                progress=bar,
                date_order=date_order,
            )
        except ImportFileError as exc:
            bar.close()
            console.print(f"[bold red]Nothing imported.[/] {_escape(str(exc))}", highlight=False)
            return 2
        finally:
            bar.close()
    print_report(report, console)
    return report.exit_code


def print_report(report: ImportReport, console: Console) -> None:
    """The summary table, then each rejected row as `line N: reason`."""
    how = "detected from its headers" if report.detected else "as asked"
    console.print(
        f"Read [bold]{_escape(report.name)}[/] as {DESCRIPTIONS[report.format]} "
        f"({report.format}, {how}).",
        highlight=False,
    )
    if describe(report.dates):
        console.print(describe(report.dates), markup=False, highlight=False)
    table = Table(title="Dry run: nothing was written" if report.dry_run else None)
    if report.kind == "events":
        counts = {"events\nadded": report.added, "duplicates\n(skipped)": report.duplicates}
    else:
        counts = {
            "subscribers\ncreated": report.created,
            "subscribers\nupdated": report.updated,
            "subscribers\nunchanged": report.unchanged,
        }
    table.add_column("rows\nread", justify="right")
    for label in counts:
        table.add_column(label, justify="right")
    table.add_column("rows\nrejected", justify="right", style="red" if report.rejected else None)
    table.add_row(str(report.rows), *map(str, counts.values()), str(len(report.rejected)))
    console.print(table)
    for row in report.rejected[:MAX_LISTED]:
        console.print(f"line {row.line}: {row.reason}", markup=False, highlight=False)
    if len(report.rejected) > MAX_LISTED:
        console.print(f"... and {len(report.rejected) - MAX_LISTED} more rejected rows.")
    console.print(outcome(report), highlight=False)


def outcome(report: ImportReport) -> str:
    """One sentence (rich markup) saying exactly how many rows were imported and rejected."""
    done = "would be imported (dry run)" if report.dry_run else "imported"
    rejected = len(report.rejected)
    if not report.rows:
        return f"{_escape(report.name)} has a header line but no data rows: nothing to import."
    if not rejected:
        return f"All {_rows(report.rows)} {done}."
    if not report.accepted:
        every = "the only row was" if rejected == 1 else f"all {rejected:,} rows were"
        return (
            f"[bold red]Nothing imported[/]: {every} rejected. Fix those lines and import the "
            "file again."
        )
    again = "duplicates" if report.kind == "events" else "unchanged"
    return (
        f"{_rows(report.accepted)} {done}, [yellow]{_rows(rejected)} rejected[/]. Fix those "
        f"lines and import the file again: rows already imported will count as {again}."
    )


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"
