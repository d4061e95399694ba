"""`python app.py report` and `python app.py export`: the metrics in the terminal and as CSV.

Both open the data directory read-only, so they are safe while the bot runs, and change
nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bot.clock import Clock, SystemClock, local_today
from bot.metrics.backtest_cli import add_backtest, run_backtest
from bot.metrics.export import WHAT, cell, export
from bot.metrics.report import PERIODS, MetricsReport, build_report
from bot.metrics.terminal import CSV_HEADER, csv_rows, render
from bot.repos import Repos
from bot.store import Store
from config.settings import Settings


@contextmanager
def read_only(settings: Settings) -> Iterator[Repos]:
    store = Store(settings.data_dir, read_only=True)
    try:
        yield Repos.open(store)
    finally:
        store.close()


def report_for(
    repos: Repos, settings: Settings, period: str, as_of: date | None, clock: Clock
) -> MetricsReport:
    day = as_of or local_today(clock, settings.timezone)
    return build_report(repos, settings, day, PERIODS[period], clock.now())


def run_report(
    settings: Settings,
    period: str,
    fmt: str,
    as_of: date | None,
    console: Console,
    clock: Clock | None = None,
) -> int:
    """Print the report for the period ending `as_of` (default today): tables, JSON or CSV."""
    clock = clock or SystemClock()
    with read_only(settings) as repos:
        report = report_for(repos, settings, period, as_of, clock)
    if fmt == "json":
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows([cell(v) for v in row] for row in csv_rows(report))
    else:
        render(report, console)
    return 0


def run_export(
    settings: Settings,
    what: list[str] | None,
    out: Path,
    bom: bool,
    period: str,
    console: Console,
    clock: Clock | None = None,
) -> int:
    """Write the chosen CSV files (default: all) into `out`."""
    clock = clock or SystemClock()
    with read_only(settings) as repos:
        written = export(
            repos,
            what or WHAT,
            out,
            bom,
            lambda: report_for(repos, settings, period, None, clock),
        )
    for name, (path, rows) in written.items():
        console.print(f"{name}: {rows:,} rows -> {escape(str(path))}", highlight=False)
    return 0


COMMANDS = ("report", "export", "backtest")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `report`, `export` and `backtest` on the app's command line."""
    rep = sub.add_parser("report", help="care and service metrics for a period")
    rep.add_argument("--period", choices=tuple(PERIODS), default="30d")
    rep.add_argument(
        "--date", type=date.fromisoformat, help="the period's last day (default: today)"
    )
    out = rep.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_const", const="json", dest="fmt")
    out.add_argument("--csv", action="store_const", const="csv", dest="fmt")
    exp = sub.add_parser("export", help="write CSV files a spreadsheet opens as is")
    exp.add_argument("--what", choices=WHAT, action="append", help="repeatable (default: all)")
    exp.add_argument("--out", type=Path, default=Path("."), help="directory (default: .)")
    exp.add_argument("--bom", action="store_true", help="start each file with a UTF-8 BOM")
    exp.add_argument("--period", choices=tuple(PERIODS), default="30d", help="for metrics.csv")
    add_backtest(sub)


def run_command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Run one of `COMMANDS` from parsed arguments."""
    if args.command == "report":
        return run_report(settings, args.period, args.fmt or "table", args.date, console)
    if args.command == "backtest":
        return run_backtest(
            settings, args.first, args.last, args.weights, args.json_path, console, args.data_end
        )
    return run_export(settings, args.what, args.out, args.bom, args.period, console)
