"""`python app.py digest --preview`: what the digest would hold on a date, changing nothing.

The data directory is opened read-only (no process lock, writes refused), so the preview is
safe while the bot runs. `--json` prints one object on stdout (every task, each marked posted
or queued); otherwise a terminal view of what will be posted, grouped by kind, with counts,
overdue marked, risk with its reasons when there is some, plan, value and tenure, and the queue
beyond the day's bound as counts. `--all` lists every due task instead, posted and queued, one
compact line each, in one write.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape

from bot.bulk import paused_gc
from bot.clock import SystemClock, local_today
from bot.digest import plan_digest
from bot.digest_plan import (
    OVERDUE,
    DigestChoice,
    DigestEntry,
    DigestPlan,
    HasTasks,
    daily_limit,
    kind_label,
)
from bot.lifecycle import started_on
from bot.models import Task
from bot.money import price_label
from bot.repos import Repos
from bot.sizing import plan_day
from bot.store import Store
from config.settings import Settings

BAND_STYLES = {"high": "bold red", "medium": "yellow", "low": "green"}


def run_preview(
    settings: Settings,
    day: date | None,
    as_json: bool,
    console: Console,
    every: bool = False,
    out: TextIO | None = None,
) -> int:
    """Print the digest plan for `day` (default: today in the team's timezone).

    Args:
        settings: where the data lives, the rules and the timezone.
        day: the digest date.
        as_json: print one JSON object on stdout instead of the terminal view.
        console: where the terminal view and messages go.
        every: list every due task, one compact line each (`--all`), on `out`.
        out: where `--json` and `--all` write (default stdout).

    Returns:
        0, or 1 when there is no subscriber data to preview.
    """
    # A short read-only process: every object it makes lives until it prints, none forms a
    # cycle worth collecting, and each full collection would walk the whole store it loaded.
    with paused_gc():
        return _preview(settings, day, as_json, console, every, out)


def _preview(
    settings: Settings,
    day: date | None,
    as_json: bool,
    console: Console,
    every: bool,
    out: TextIO | None,
) -> int:
    clock = SystemClock()
    day = day or local_today(clock, settings.timezone)
    store = Store(settings.data_dir, read_only=True)
    try:
        repos = Repos.open(store)
        if repos.subscribers.empty():  # no pass of its own over the documents
            console.print(
                f"No subscribers in {escape(str(settings.data_dir))}. Import an export first: "
                "python app.py import FILE (or set CARE_DATA_DIR to your data directory).",
                highlight=False,
            )
            return 1
        limit, must_show = daily_limit(settings), settings.digest.must_show_value
        if not (as_json or every or settings.tech_touch.enabled):
            # What is posted, and the queue as counts: full entries for the posted only.
            render(*plan_day(day, repos, settings, clock.now(), limit, must_show), console)
            return 0
        from bot.techtouch import TechTouch, without  # not imported for the terminal view

        whole = plan_digest(day, repos, settings, clock.now())
        auto = TechTouch(repos, settings).choose(whole)  # emailed by the bot, not posted
    finally:
        store.close()
    plan = without(whole, auto)
    choice = plan.choose(limit, must_show)
    out = out or sys.stdout
    if as_json:
        doc = whole.to_json()
        queued = {t.id for e in [*choice.queued, *auto] for t in e.tasks}
        emailed = {t.id for e in auto for t in e.tasks}
        for item in doc["tasks"]:
            item["posted"] = item["id"] not in queued
            item["automatic"] = item["id"] in emailed
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    elif every:
        out.write(compact_lines(plan, choice, auto))
    else:
        render(plan, choice, console)
        console.print(tech_touch_line(auto), highlight=False)
    return 0


def tech_touch_line(auto: list[DigestEntry]) -> str:
    """What the bot would email itself today ([tech_touch]), as counts per kind."""
    kinds = " · ".join(f"{kind_label(k)} {n}" for k, n in _kinds(auto).items())
    return (
        f"[bold]Tech touch[/]: {len(auto)} customer{_s(len(auto))} would be emailed "
        f"automatically, not posted{': ' + kinds if kinds else ''} (--all lists them)"
    )


def render(plan: DigestPlan, choice: DigestChoice[Any], console: Console) -> None:
    """The terminal view: what will be posted in full, the queue beyond it as counts."""
    posted = DigestPlan(plan.date, choice.posted, {}, plan.grace_days)
    tasks = len(posted.tasks)
    overdue = sum(t.overdue(plan.date, plan.grace_days) for t in posted.tasks)
    console.print(
        f"[bold]Digest for {plan.date:%A %d %B %Y}[/]: {tasks} task{_s(tasks)} for "
        f"{len(posted.entries)} customer{_s(len(posted.entries))} posted, "
        f"[red]{overdue} overdue[/]",
        highlight=False,
    )
    if not (choice.posted or choice.queued):
        console.print("Nothing is due: no proactive touches today.")
        return
    lines = [" · ".join(f"{kind_label(kind)} {n}" for kind, n in _kinds(posted.entries).items())]
    for kind, entries in posted.groups():
        lines += ["", f"[bold]── {escape(kind_label(kind))}[/] ({len(entries)}) ──"]
        for entry in entries:
            lines += _entry(entry, plan)
    # One print: rich's per-call cost, not the text, was most of a long preview's time.
    console.print("\n".join(lines), highlight=False, soft_wrap=True)
    if choice.queued:
        console.print()
        bound = f"the day's bound is {choice.limit} customers; " if choice.limit else ""
        console.print(
            f"[bold]Queue[/]: {choice.queued_tasks} more task{_s(choice.queued_tasks)} for "
            f"{len(choice.queued)} customer{_s(len(choice.queued))} wait ({bound}"
            "/care queue lists them best first; --all lists every task here)",
            highlight=False,
        )
        console.print(
            " · ".join(f"{kind_label(k)} {n}" for k, n in _kinds(choice.queued).items()),
            highlight=False,
        )


def _kinds(entries: Sequence[HasTasks]) -> dict[str, int]:
    """Tasks per kind, in digest order."""
    from bot.digest_plan import count_tasks

    counts = count_tasks(entries, date.min, 0)
    counts.pop(OVERDUE, None)
    return counts


# Control characters (terminal escapes included) are dropped from outside text in --all.
_CONTROL = dict.fromkeys([*range(32), 127], None)


def compact_lines(
    plan: DigestPlan, choice: DigestChoice[DigestEntry], auto: list[DigestEntry] | None = None
) -> str:
    """Every due task, one tab-separated line each: posted ones in digest order, then the
    queue in priority order, then those the bot would email itself ("email"). Columns: where, id, kind, due, overdue, risk, band, monthly
    value, currency, claimed by, customer id, name, email."""
    lines = [
        "where\tid\tkind\tdue\toverdue\trisk\tband\tvalue\tcurrency\tclaimed_by\t"
        "customer\tname\temail"
    ]
    for where, entries in (
        ("posted", choice.posted),
        ("queued", choice.queued),
        ("email", auto or []),
    ):
        for entry in entries:
            sub = entry.subscriber
            money = f"{entry.value:.2f}\t{_clean(sub.currency)}"
            who = f"{_clean(sub.id)}\t{_clean(sub.name)}\t{_clean(sub.email)}"
            risk = f"{entry.risk.score}\t{entry.risk.band}"
            for task in entry.tasks:
                late = "overdue" if task.overdue(plan.date, plan.grace_days) else ""
                lines.append(
                    f"{where}\t{task.id}\t{task.kind}\t{task.due}\t{late}\t{risk}\t{money}\t"
                    f"{_clean(task.claimed_by)}\t{who}"
                )
    return "\n".join(lines) + "\n"


def _entry(entry: DigestEntry, plan: DigestPlan) -> list[str]:
    """The entry's lines, as rich markup (outside text escaped)."""
    sub = entry.subscriber
    head = f"[bold]{escape(sub.display_name)}[/]"
    if sub.email and sub.email != sub.display_name:
        head += f" <{escape(sub.email)}>"
    if entry.overdue:
        head += " [bold red]OVERDUE[/]"
    lines = [head]
    facts = [escape(sub.plan or "no plan"), _value(entry), escape(sub.status)]
    start = started_on(sub)
    if start:
        facts.append(f"customer for {(plan.date - start).days} days (since {start})")
    if sub.owner:
        facts.append(f"owner {escape(sub.owner)}")
    lines.append("   " + " · ".join(facts))
    risk = entry.risk
    shown = bool(risk.score or risk.reasons)
    lines += ["   " + _task_line(task, plan, shown) for task in entry.tasks]
    if shown:  # a customer without risk signals gets no risk line
        style = BAND_STYLES.get(risk.band, "")
        reasons = "; ".join(escape(r) for r in risk.reason_texts())
        lines.append(f"   Risk [{style}]{risk.score} {risk.band}[/]: {reasons}")
    return lines


def _clean(value: str) -> str:
    return value.translate(_CONTROL)


def _task_line(task: Task, plan: DigestPlan, risk_shown: bool = False) -> str:
    line = f"[cyan]{task.id}[/] {escape(kind_label(task.kind))}, due {task.due}"
    if task.overdue(plan.date, plan.grace_days):
        line += " [red](overdue)[/]"
    if task.claimed_by:
        line += f", claimed by {escape(task.claimed_by)}"
    # A churn task's reason is its risk, printed on the risk line: said once.
    if task.reason and not (risk_shown and task.kind == "churn_risk"):
        line += f": {escape(task.reason)}"
    return line


def _value(entry: DigestEntry) -> str:
    return price_label(entry.subscriber) or "no price"


def _s(n: int) -> str:
    return "" if n == 1 else "s"
