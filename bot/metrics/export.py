"""CSV export: outreach, tasks, inbox, subscribers and metrics, as a spreadsheet opens them.

UTF-8 (with a byte-order mark when asked: older Excel needs it to read accents), comma
separated, one header row, dates as `YYYY-MM-DD` and times as `YYYY-MM-DD HH:MM:SS` in UTC (the
column name ends in `_utc`), which spreadsheets and BI tools read as dates. Text from outside
that starts with `=`, `+`, `-`, `@`, tab or carriage return gets a leading apostrophe, so a
spreadsheet shows it instead of running it as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.metrics.report import MetricsReport
from bot.metrics.terminal import CSV_HEADER, csv_rows
from bot.repos import Repos
from bot.store import atomic_write

WHAT = ("outreach", "tasks", "inbox", "subscribers", "metrics")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value as a spreadsheet should see it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list | tuple):
        return cell("; ".join(str(v) for v in value))
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(path: Path, header: list[str], rows: Iterable[Iterable[Any]], bom: bool) -> int:
    """Write rows atomically; returns how many."""
    count = 0

    def payload(fh: Any) -> None:
        nonlocal count
        if bom:
            fh.write("\ufeff")
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([cell(v) for v in row])
            count += 1

    atomic_write(path, payload)
    return count


def outreach_rows(repos: Repos) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "id",
        "subscriber_id",
        "email",
        "task_id",
        "by",
        "channel",
        "outcome",
        "at_utc",
        "note",
        "follow_up",
    ]
    emails = {d["id"]: d.get("email", "") for d in repos.subscribers.iter_raw()}
    records = sorted(repos.outreach.all(), key=lambda o: o.at)
    return header, (
        [
            o.id,
            o.subscriber_id,
            emails.get(o.subscriber_id, ""),
            o.task_id,
            o.by,
            o.channel,
            o.outcome,
            o.at,
            o.note,
            o.follow_up,
        ]
        for o in records
    )


def task_rows(repos: Repos) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "id", "key", "kind", "subscriber_id", "status", "due", "created_at_utc", "claimed_by",
        "claimed_at_utc", "closed_at_utc", "closed_by", "outcome", "risk_score", "risk_band",
        "risk_reasons", "monthly_value", "reason",
    ]  # fmt: skip
    tasks = sorted(repos.tasks.all(), key=lambda t: (t.created_at, t.id))
    return header, (
        [
            t.id,
            t.key,
            t.kind,
            t.subscriber_id,
            t.status,
            t.due,
            t.created_at,
            t.claimed_by,
            t.claimed_at,
            t.closed_at,
            t.closed_by,
            t.outcome,
            t.risk_score,
            t.risk_band,
            t.risk_reasons,
            t.value,
            t.reason,
        ]  # fmt: skip
        for t in tasks
    )


def inbox_rows(repos: Repos) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "id", "subject", "sender", "subscriber_id", "intent", "status", "created_at_utc",
        "last_message_at_utc", "messages", "claimed_by", "claimed_at_utc", "resolved_by",
        "resolved_at_utc", "source",
    ]  # fmt: skip
    items = sorted(repos.inbox.items(), key=lambda i: (i.created_at, i.id))
    return header, (
        [
            i.id,
            i.subject,
            i.sender,
            i.subscriber_id,
            i.intent,
            i.status,
            i.created_at,
            i.last_message_at,
            i.message_count,
            i.claimed_by,
            i.claimed_at,
            i.resolved_by,
            i.resolved_at,
            i.source,
        ]  # fmt: skip
        for i in items
    )


def subscriber_rows(repos: Repos) -> tuple[list[str], Iterator[list[Any]]]:
    header = [
        "id", "email", "name", "source", "owner", "status", "plan", "monthly_value", "currency",
        "first_started", "ended_on", "last_order", "subscriptions", "tags",
    ]  # fmt: skip
    return header, (
        [
            s.id,
            s.email,
            s.name,
            s.source,
            s.owner,
            s.status,
            s.plan,
            s.monthly_value,
            s.currency,
            s.first_started,
            s.ended_on,
            s.last_order,
            len(s.subscriptions),
            s.tags,
        ]  # fmt: skip
        for s in repos.subscribers.all()
    )


def export(
    repos: Repos,
    what: Iterable[str],
    out: Path,
    bom: bool,
    report: Callable[[], MetricsReport],
) -> dict[str, tuple[Path, int]]:
    """Write `<what>.csv` into `out` for each of `what`; returns path and row count for each."""
    out.mkdir(parents=True, exist_ok=True)
    sources = {
        "outreach": outreach_rows,
        "tasks": task_rows,
        "inbox": inbox_rows,
        "subscribers": subscriber_rows,
    }
    written = {}
    for name in what:
        if name == "metrics":
            header, rows = CSV_HEADER, csv_rows(report())
        else:
            header, rows = sources[name](repos)
        path = out / f"{name}.csv"
        written[name] = (path, write_csv(path, header, rows, bom))
    return written
