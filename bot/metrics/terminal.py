"""The metrics report as rich tables (`python app.py report`) and as CSV rows (`--csv`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from bot.metrics.figures import Figure
from bot.metrics.outcomes import LOST_WITHIN, OUTCOME_DAYS, STATES
from bot.metrics.report import LABELS, OUTCOME_LOOKBACK_DAYS, MetricsReport

CSV_HEADER = ["section", "metric", "label", "value", "unit", "n", "why"]


def _cell(figure: Figure) -> str:
    return "[dim]n/a[/]" if figure.value is None else escape(figure.text())


def _detail(figure: Figure) -> str:
    if figure.value is None:
        return f"[dim]{escape(figure.why)}[/]"
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in figure.detail.items() if k != "count"]
    return escape(", ".join(parts))


def figures_table(title: str, figures: dict[str, Figure]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("Number")
    table.add_column("Value", justify="right")
    table.add_column("Based on", justify="right")
    table.add_column("Detail")
    for key, figure in figures.items():
        n = "" if figure.n is None or figure.value is None else f"{figure.n:,}"
        table.add_row(LABELS.get(key, key), _cell(figure), n, _detail(figure))
    return table


def retention_table(report: MetricsReport) -> Table:
    table = Table(title="Retention by start month", title_justify="left")
    table.add_column("Cohort")
    table.add_column("Customers", justify="right")
    for label in ("Day 30", "Day 90", "Day 180", "Anniversary"):
        table.add_column(label, justify="right")
    for cohort in report.cohorts:
        cells = [
            f"{f.value:.0f}% of {f.n}" if f.value is not None else "[dim]not yet[/]"
            for f in cohort.retention.values()
        ]
        table.add_row(cohort.month, f"{cohort.size:,}", *cells)
    if not report.cohorts:
        table.add_row("[dim]no customer started in the last 12 months[/]", "", "", "", "", "")
    return table


def team_table(report: MetricsReport) -> Table:
    team = report.team
    table = Table(title="Team", title_justify="left")
    columns = ("Due", "Claimed", "Done", "Expired", "Open now", "Median time to claim")
    for column in (*columns, "Emailed by the bot"):
        table.add_column(column, justify="right")
    wait = (
        f"{team.median_claim_minutes:.0f} min" if team.median_claim_minutes is not None else "n/a"
    )
    table.add_row(
        *(str(v) for v in (team.due, team.claimed, team.done, team.expired)),
        str(team.open_now),
        wait,
        str(team.automated),
    )
    return table


def managers_table(report: MetricsReport) -> Table | None:
    if not report.team.per_manager:
        return None
    table = Table(title="Per manager", title_justify="left")
    for column in ("Manager", "Claimed", "Done", "Outreach", "Saved"):
        table.add_column(column, justify="right" if column != "Manager" else "left")
    for who, stats in sorted(report.team.per_manager.items()):
        table.add_row(
            escape(who or "(nobody)"),
            str(stats.claimed),
            str(stats.done),
            str(stats.outreach),
            str(stats.saved),
        )
    return table


def outcomes_table(report: MetricsReport) -> Table:
    out = report.outcomes
    table = Table(
        title=f"Outcomes of the {out.logged} outreach logged in the last {OUTCOME_LOOKBACK_DAYS} days",
        title_justify="left",
    )
    table.add_column("Customer")
    for n in OUTCOME_DAYS:
        table.add_column(f"After {n} days", justify="right")
    for state in (*STATES, "pending"):
        table.add_row(state.replace("_", " "), *(str(out.states[n][state]) for n in OUTCOME_DAYS))
    return table


def comparisons_table(report: MetricsReport) -> Table:
    table = Table(
        title=f"Lost within {LOST_WITHIN} days: customers reached vs due but not reached",
        title_justify="left",
    )
    for column in ("Task kind", "Risk", "Reached", "Not reached (expired)", "Held out"):
        table.add_column(column, justify="left" if column in ("Task kind", "Risk") else "right")
    for c in report.comparisons:
        cells = [
            f"{f.text()} of {f.n}" if f is not None and f.value is not None else "[dim]n/a[/]"
            for f in (c.reached, c.not_reached, c.held_out)
        ]
        table.add_row(c.kind.replace("_", " "), c.band, *cells)
    if not report.comparisons:
        table.add_row(f"[dim]no task due {LOST_WITHIN}+ days ago was handled or expired[/]")
    return table


def patterns_table(report: MetricsReport) -> Table:
    table = Table(title="Inbox this week against the four weeks before", title_justify="left")
    for column in ("Intent", "This week", "Weekly average before", "Examples"):
        table.add_column(column, justify="right" if "week" in column.lower() else "left")
    for p in report.patterns:
        arrow = {"up": "[red]↑[/]", "down": "[green]↓[/]", "flat": "="}[p.trend]
        examples = "; ".join(escape(e) for e in p.examples)
        table.add_row(
            p.intent.replace("_", "/"), f"{p.this_week} {arrow}", f"{p.baseline:g}", examples
        )
    if not report.patterns:
        table.add_row("[dim]no inbox conversation in the last five weeks[/]", "", "", "")
    return table


def render(report: MetricsReport, console: Console) -> None:
    """Print the report: care, service, retention, team, and any later sections."""
    console.print(
        f"[bold]Care report[/], {report.period.days} days: {report.period.label()}",
        highlight=False,
    )
    parts: list[Any] = [
        figures_table("Care", report.care),
        retention_table(report),
        figures_table("Service", report.service),
        team_table(report),
    ]
    managers = managers_table(report)
    if managers is not None:
        parts.append(managers)
    parts += [outcomes_table(report), comparisons_table(report), patterns_table(report)]
    console.print(Group(*parts))
    if report.skipped:
        left = "; ".join(f"{n} {escape(why)}" for why, n in sorted(report.skipped.items()))
        console.print(f"[dim]Subscribers left out: {left}[/]", highlight=False)


def csv_rows(report: MetricsReport) -> Iterator[list[Any]]:
    """One row per number: section, metric key, label, value, unit, n, why."""
    for section, figures in (("care", report.care), ("service", report.service)):
        for key, f in figures.items():
            yield [section, key, LABELS.get(key, key), f.value, f.unit, f.n, f.why]
    for cohort in report.cohorts:
        for n, f in cohort.retention.items():
            label = "anniversary" if n == 365 else f"day {n}"
            yield [
                "retention",
                f"{cohort.month}:day_{n}",
                f"{cohort.month} {label}",
                f.value,
                f.unit,
                f.n,
                f.why,
            ]
    team = report.team
    for key in ("due", "claimed", "done", "expired", "open_now"):
        yield ["team", key, key.replace("_", " "), getattr(team, key), "count", None, ""]
    for c in report.comparisons:
        sides = (("reached", c.reached), ("not_reached", c.not_reached), ("held_out", c.held_out))
        for side, f in ((n, f) for n, f in sides if f is not None):
            key = f"{c.kind}:{c.band}:{side}"
            yield [
                "outcomes",
                key,
                f"{c.kind} {c.band} {side} lost in {LOST_WITHIN} days",
                f.value,
                f.unit,
                f.n,
                f.why,
            ]
    for p in report.patterns:
        yield ["patterns", p.intent, f"{p.intent} this week", p.this_week, "count", None, ""]
    wait = team.median_claim_minutes
    yield [
        "team",
        "median_claim_minutes",
        "median time to claim",
        wait,
        "minutes",
        None,
        "" if wait is not None else "no task claimed in the period",
    ]
