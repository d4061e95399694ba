"""`python app.py digest --preview`: what the digest would hold on a date, changing nothing.

The data directory is opened read-only (no process lock, writes refused), so the preview is
safe while the bot runs. `--json` prints one object on stdout; otherwise a terminal view
grouped by kind, with counts, overdue marked, risk with its reasons, plan, value and tenure.
"""

from __future__ import annotations

import json
from datetime import date

from rich.console import Console
from rich.markup import escape

from bot.clock import SystemClock, local_today
from bot.digest import OVERDUE, DigestEntry, DigestPlan, kind_label, plan_digest
from bot.lifecycle import started_on
from bot.models import Task
from bot.money import price_label
from bot.repos import Repos
from bot.store import Store
from config.settings import Settings

BAND_STYLES = {"high": "bold red", "medium": "yellow", "low": "green"}


def run_preview(settings: Settings, day: date | None, as_json: bool, console: Console) -> int:
    """Print the digest plan for `day` (default: today in the team's timezone).

    Args:
        settings: where the data lives, the rules and the timezone.
        day: the digest date.
        as_json: print one JSON object on stdout instead of the terminal view.
        console: where the terminal view and messages go.

    Returns:
        0, or 1 when there is no subscriber data to preview.
    """
    clock = SystemClock()
    day = day or local_today(clock, settings.timezone)
    store = Store(settings.data_dir, read_only=True)
    try:
        repos = Repos.open(store)
        if repos.subscribers.count() == 0:
            console.print(
                f"No subscribers in {escape(str(settings.data_dir))}. Import an export first: "
                "python app.py import FILE (or set CARE_DATA_DIR to your data directory).",
                highlight=False,
            )
            return 1
        plan = plan_digest(day, repos, settings, clock.now())
    finally:
        store.close()
    if as_json:
        print(json.dumps(plan.to_json(), indent=2, ensure_ascii=False))
    else:
        render(plan, console)
    return 0


def render(plan: DigestPlan, console: Console) -> None:
    """The terminal view of a digest plan."""
    tasks = len(plan.tasks)
    console.print(
        f"[bold]Digest for {plan.date:%A %d %B %Y}[/]: {tasks} task{_s(tasks)} for "
        f"{len(plan.entries)} customer{_s(len(plan.entries))}, "
        f"[red]{plan.overdue} overdue[/]",
        highlight=False,
    )
    if not plan.entries:
        console.print("Nothing is due: no proactive touches today.")
        return
    summary = " · ".join(
        f"{kind_label(kind)} {n}" for kind, n in plan.counts.items() if kind != OVERDUE
    )
    console.print(summary, highlight=False)
    for kind, entries in plan.groups():
        console.print()
        console.rule(f"[bold]{escape(kind_label(kind))}[/] ({len(entries)})", align="left")
        for entry in entries:
            _entry(entry, plan, console)


def _entry(entry: DigestEntry, plan: DigestPlan, console: Console) -> None:
    sub = entry.subscriber
    head = f"[bold]{escape(sub.display_name)}[/]"
    if sub.email and sub.email != sub.display_name:
        head += f" <{escape(sub.email)}>"
    if entry.overdue:
        head += " [bold red]OVERDUE[/]"
    console.print(head, highlight=False)
    facts = [escape(sub.plan or "no plan"), _value(entry), escape(sub.status)]
    start = started_on(sub)
    if start:
        facts.append(f"customer for {(plan.date - start).days} days (since {start})")
    if sub.owner:
        facts.append(f"owner {escape(sub.owner)}")
    console.print("   " + " · ".join(facts), highlight=False)
    for task in entry.tasks:
        console.print("   " + _task_line(task, plan), highlight=False)
    risk = entry.risk
    style = BAND_STYLES.get(risk.band, "")
    reasons = "; ".join(escape(r) for r in risk.reason_texts()) or "no risk signals"
    console.print(f"   Risk [{style}]{risk.score} {risk.band}[/]: {reasons}", highlight=False)


def _task_line(task: Task, plan: DigestPlan) -> str:
    line = f"[cyan]{task.id}[/] {escape(kind_label(task.kind))}, due {task.due}"
    if task.overdue(plan.date, plan.grace_days):
        line += " [red](overdue)[/]"
    if task.claimed_by:
        line += f", claimed by {escape(task.claimed_by)}"
    if task.reason:
        line += f": {escape(task.reason)}"
    return line


def _value(entry: DigestEntry) -> str:
    return price_label(entry.subscriber) or "no price"


def _s(n: int) -> str:
    return "" if n == 1 else "s"
