"""`python app.py backtest --from DATE --to DATE [--weights FILE] [--json PATH]`.

Opens the data read-only (it never changes data), replays the period with the rules in
care.toml and, with `--weights`, with the `[risk]` of another TOML file, side by side.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.clock import Clock, SystemClock, local_today
from bot.metrics.backtest import RULE_HORIZONS, BacktestResult, backtest
from bot.repos import Repos
from bot.store import Store
from config import ConfigError, load_settings
from config.rules import RiskRules
from config.settings import Settings


def alternative_rules(path: Path) -> RiskRules:
    """The `[risk]` and `[risk.weights]` of a TOML file (anything else in it is ignored)."""
    return load_settings({}, dotenv=False, config_path=path).risk


def _pct(value: float | None) -> str:
    return f"{value:.1f}%" if value is not None else "n/a"


def summary_table(results: dict[str, BacktestResult]) -> Table:
    table = Table(
        title="Backtest: high-risk flags against the cancellations that followed",
        title_justify="left",
    )
    table.add_column("Figure")
    for name in results:
        table.add_column(escape(name), justify="right")
    horizon = next(iter(results.values())).horizon
    rows = [
        ("Subscribers replayed", lambda r: f"{r.subscribers:,}"),
        ("Flags (runs of high-risk days)", lambda r: f"{r.flags:,}"),
        (f"  judged (their {horizon} days have passed)", lambda r: f"{r.judged_flags:,}"),
        ("  followed by a cancellation", lambda r: f"{r.hits:,}"),
        ("Precision", lambda r: _pct(r.precision)),
        ("Cancellations in the period", lambda r: f"{r.cancellations:,}"),
        ("  flagged beforehand", lambda r: f"{r.caught:,}"),
        ("Recall", lambda r: _pct(r.recall)),
        (
            "Median days of warning",
            lambda r: f"{r.median_warning_days:g}" if r.median_warning_days is not None else "n/a",
        ),
    ]
    for label, value in rows:
        table.add_row(label, *(value(r) for r in results.values()))
    return table


def rules_table(name: str, result: BacktestResult) -> Table:
    table = Table(title=f"Per rule ({escape(name)})", title_justify="left")
    table.add_column("Rule")
    table.add_column("Fired", justify="right")
    table.add_column("Judged", justify="right")
    for n in RULE_HORIZONS:
        table.add_column(f"Cancel within {n} d", justify="right")
    for rule, count in sorted(result.rules.items(), key=lambda kv: -kv[1].fired):
        cells = [
            f"{count.followed[n]} ({100 * count.followed[n] / count.judged:.0f}%)"
            if count.judged
            else "n/a"
            for n in RULE_HORIZONS
        ]
        table.add_row(escape(rule), str(count.fired), str(count.judged), *cells)
    return table


def run_backtest(
    settings: Settings,
    first: date,
    last: date,
    weights: Path | None,
    json_path: Path | None,
    console: Console,
    data_end: date | None = None,
    clock: Clock | None = None,
) -> int:
    """Replay `first`..`last`; flags are judged against cancellations up to `data_end` (today)."""
    clock = clock or SystemClock()
    today = data_end or local_today(clock, settings.timezone)
    if last < first:
        raise ConfigError(f"--to {last} is before --from {first}")
    if last > today:
        raise ConfigError(
            f"--to {last} is after the data's last day ({today}): the future cannot be replayed"
        )
    variants = {"care.toml": settings.risk}
    if weights is not None:
        variants[str(weights)] = alternative_rules(weights)
    store = Store(settings.data_dir, read_only=True)
    try:
        repos = Repos.open(store)
        results = {
            name: backtest(repos, rules, settings.timezone, first, last, today)
            for name, rules in variants.items()
        }
    finally:
        store.close()
    console.print(summary_table(results))
    for name, result in results.items():
        console.print(rules_table(name, result))
    if json_path is not None:
        doc = {name: r.to_json() for name, r in results.items()}
        json_path.write_text(json.dumps(doc, indent=2) + "\n")
        console.print(f"Written to {escape(str(json_path))}", highlight=False)
    return 0


def add_backtest(sub) -> None:  # noqa: ANN001
    bt = sub.add_parser("backtest", help="replay the risk rules over stored history")
    bt.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    bt.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    bt.add_argument("--weights", type=Path, help="a TOML file with [risk] / [risk.weights]")
    bt.add_argument("--json", dest="json_path", type=Path, help="also write the figures here")
    bt.add_argument(
        "--data-end",
        type=date.fromisoformat,
        help="the last day the data covers, e.g. your last export (default: today)",
    )
