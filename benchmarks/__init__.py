"""`make bench`: performance figures, one module per area, printed as tables and saved as JSON.

A module of this package that defines `SECTION = Section(...)` is a benchmark section;
`python -m benchmarks` runs every section, `python -m benchmarks core` only the named ones.
A section's `run(options)` returns a `Report`: rows of figures (one column per measured
size or case), each with its target and whether it was met. The report is rendered as a
rich table and its raw numbers are written to `.bench-data/<json_name>.json`.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / ".bench-data"


@dataclass(frozen=True)
class Options:
    """How to run the sections.

    Attributes:
        quick: small sizes, for a smoke run (the figures mean little).
        sizes: the sizes to measure, when a section measures several (None: its defaults).
        out_dir: where the JSON files go.
    """

    quick: bool = False
    sizes: tuple[int, ...] | None = None
    out_dir: Path = OUT_DIR


@dataclass
class Row:
    """One figure across the report's columns.

    Attributes:
        figure: what was measured, in words.
        values: column -> measured number (a missing column is shown blank).
        unit: "s", "ms", "MB", "x" or "" (a count).
        target: the goal in words ("100k < 10 s"); empty for information only.
        passed: whether the target was met; None when there is no target.
    """

    figure: str
    values: dict[str, float | None]
    unit: str = ""
    target: str = ""
    passed: bool | None = None


@dataclass
class Report:
    section: str
    title: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # raw numbers for the JSON file
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.passed is not False for row in self.rows)


@dataclass(frozen=True)
class Section:
    """A benchmark area: its name on the command line, its title and how to run it."""

    name: str
    title: str
    json_name: str
    run: Callable[[Options], Report]
    order: int = 50


def discover() -> dict[str, Section]:
    """Every section defined by a module of this package, in run order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        section = getattr(module, "SECTION", None)
        if isinstance(section, Section):
            found.append(section)
    return {s.name: s for s in sorted(found, key=lambda s: (s.order, s.name))}


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:,.0f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def render(report: Report) -> Table:
    """The report as a rich table: one row per figure, then target and result."""
    table = Table(title=report.title, title_justify="left", caption="\n".join(report.notes))
    table.add_column("Figure")
    for column in report.columns:
        table.add_column(column, justify="right")
    table.add_column("Target")
    table.add_column("Result")
    for row in report.rows:
        result = {True: "[green]pass[/]", False: "[bold red]FAIL[/]", None: "[dim]info[/]"}
        table.add_row(
            row.figure,
            *(format_value(row.values.get(c), row.unit) for c in report.columns),
            row.target,
            result[row.passed],
        )
    return table


def write_json(report: Report, json_name: str, out_dir: Path) -> Path:
    """Write the report's figures and raw numbers to `out_dir/<json_name>.json`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{json_name}.json"
    doc = {
        "section": report.section,
        "title": report.title,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "passed": report.passed,
        "columns": report.columns,
        "figures": [asdict(row) for row in report.rows],
        "data": report.data,
        "notes": report.notes,
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def run_sections(names: list[str], options: Options, console: Console) -> bool:
    """Run the named sections (all when `names` is empty); True when every target was met.

    Raises:
        KeyError: a name that is not a section.
    """
    sections = discover()
    unknown = [n for n in names if n not in sections]
    if unknown:
        raise KeyError(f"No benchmark section {', '.join(unknown)}; known: {', '.join(sections)}")
    passed = True
    for name in names or list(sections):
        section = sections[name]
        report = section.run(options)
        console.print(render(report))
        path = write_json(report, section.json_name, options.out_dir)
        console.print(f"[dim]Figures written to {path}[/]\n")
        passed = passed and report.passed
    return passed
