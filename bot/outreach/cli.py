"""`python app.py template preview KIND --customer EMAIL`: a draft as the Email button opens it.

Reads the data directory read-only (safe while the bot runs) and prints the subject and body
in the terminal; `--html` prints the HTML part too. Nothing is sent.
"""

from __future__ import annotations

import argparse
from datetime import date

from rich.console import Console
from rich.markup import escape

from bot.clock import SystemClock, local_today
from bot.outreach.drafts import DraftService
from bot.outreach.templates import TEMPLATE_KINDS, TemplateProblem, Templates
from bot.repos import Repos
from bot.store import Store
from config.settings import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tpl = sub.add_parser("template", help="outreach email templates (templates/)")
    tpl.add_argument("action", choices=["preview"])
    tpl.add_argument("kind", choices=TEMPLATE_KINDS)
    tpl.add_argument("--customer", required=True, help="the subscriber's email (or id)")
    tpl.add_argument("--date", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")
    tpl.add_argument("--html", action="store_true", help="also print the HTML part")


def run_template(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the draft of `args.kind` for `args.customer`.

    Returns:
        0; 1 when the customer is unknown or the template does not render.
    """
    day = args.date or local_today(SystemClock(), settings.timezone)
    store = Store(settings.data_dir, read_only=True)
    try:
        repos = Repos.open(store)
        subscriber = repos.subscribers.resolve(args.customer.strip())
        if subscriber is None:
            console.print(
                f"No subscriber {escape(args.customer)!s} in {escape(str(settings.data_dir))}.",
                highlight=False,
            )
            return 1
        templates = Templates.from_settings(settings)
        try:
            draft = DraftService(repos, settings, templates).for_customer(
                subscriber, args.kind, day
            )
            html = templates.html(draft.body) if args.html else None
        except TemplateProblem as exc:
            console.print(f"[bold red]Template error:[/] {escape(str(exc))}", highlight=False)
            return 1
    finally:
        store.close()
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"[dim]Template:[/] {escape(str(draft.source))}")
    out.print(f"[dim]To:[/]       {escape(subscriber.email or '(no email address on file)')}")
    out.print(f"[bold]Subject:[/]  {escape(draft.subject)}\n")
    out.print(escape(draft.body))
    if html is not None:
        out.print("\n[dim]HTML part:[/]")
        out.print(escape(html))
    return 0
