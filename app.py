"""Proactive Care: composition root and command line.

python app.py                      run the Slack bot (HTTP or Socket Mode)
python app.py import PATH [...]    import subscribers or events from a CSV export
python app.py digest --preview     show what today's digest would hold
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

from rich.console import Console

from bot.store import StoreError
from config import ConfigError, load_settings

FORMATS = ("auto", "generic", "stripe", "shopify", "chargebee", "recharge", "events")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description="Proactive Care for Slack")
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import", help="import subscribers or events from a CSV file")
    imp.add_argument("path")
    imp.add_argument("--format", choices=FORMATS, default="auto")
    imp.add_argument(
        "--dry-run", action="store_true", help="report what would change, change nothing"
    )
    dig = sub.add_parser("digest", help="the daily digest")
    dig.add_argument("--preview", action="store_true", help="show it without changing any data")
    dig.add_argument(
        "--date", type=date.fromisoformat, help="YYYY-MM-DD (default: today, team timezone)"
    )
    dig.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = Console(stderr=True)
    try:
        settings = load_settings()
        if args.command == "import":
            from bot.importers.cli import run_import

            return run_import(settings, args.path, args.format, args.dry_run, console)
        if args.command == "digest":
            from bot.preview import run_preview

            return run_preview(settings, args.date, args.json, console)
        from bot.runtime import run_bot

        return run_bot(settings)
    except (ConfigError, StoreError) as exc:
        console.print(f"[bold red]Error:[/] {exc}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
