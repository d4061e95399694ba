"""What `GET /healthz` reports: each part of the bot that can fail while the process lives on.

Every check returns a `Check`: its name, whether it is fine, and what a person on call needs to
know (a short detail, plus figures). `report()` turns a list of them into the health answer.
None of these talk to Slack; the Slack auth check lives with the Slack client (handlers/health).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.inbox.models import ConnectorStatus
from bot.jobs import DAY_NAMES
from bot.repos.digests import POSTED, DigestRecord
from bot.store import Store
from config.rules import DigestRules

PROBE = ".health-probe"
STALL_AFTER = timedelta(minutes=2)  # the run loop ticks every second
DIGEST_GRACE = timedelta(minutes=30)  # posting takes ~1 s a message; catch-up runs every 5 min
CONNECTOR_FAILURES = 3  # consecutive failed polls before the inbox counts as down


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)


def report(checks: list[Check]) -> tuple[bool, dict[str, Any]]:
    """(all fine, the JSON body): `problems` names what is wrong, `checks` has every detail."""
    ok = all(c.ok for c in checks)
    body: dict[str, Any] = {
        "ok": ok,
        "problems": [f"{c.name}: {c.detail}" for c in checks if not c.ok],
        "checks": {c.name: {"ok": c.ok, "detail": c.detail, **c.figures} for c in checks},
    }
    return ok, body


class Heartbeat:
    """When the scheduler loop last turned; the run loop beats once a tick."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.last: datetime | None = None
        self._lock = threading.Lock()

    def beat(self) -> None:
        with self._lock:
            self.last = self.clock.now()

    def check(self, stall_after: timedelta = STALL_AFTER) -> Check:
        with self._lock:
            last = self.last
        if last is None:
            return Check("scheduler", False, "the scheduler loop has not started")
        age = (self.clock.now() - last).total_seconds()
        figures = {"last_tick": last.isoformat(), "seconds_ago": round(age, 1)}
        if age > stall_after.total_seconds():
            return Check("scheduler", False, f"stalled: no tick for {age:.0f} s", figures)
        return Check("scheduler", True, "ticking", figures)


def check_store(store: Store) -> Check:
    """Write, fsync and delete a small file in the data directory: the way every save writes."""
    if store.data_dir is None:
        return Check("store", True, "in memory")
    path = store.data_dir / PROBE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.unlink(path)
    except OSError as exc:
        return Check("store", False, f"cannot write to {store.data_dir}: {exc.strerror or exc}")
    return Check("store", True, f"writable ({store.data_dir})")


def check_digest(
    today: DigestRecord | None,
    last_posted: DigestRecord | None,
    due_at: datetime | None,
    now: datetime,
) -> Check:
    """Today's digest against its schedule.

    Args:
        today: today's record, if any.
        last_posted: the latest fully posted digest (any day).
        due_at: when today's digest is due, or None on a day without a digest.
        now: the current time.
    """
    figures: dict[str, Any] = {
        "last_posted": last_posted.date.isoformat() if last_posted else None,
        "today": today.status if today else None,
        "due_at": due_at.isoformat() if due_at else None,
    }
    if today is not None and today.status == POSTED:
        return Check("digest", True, "today's digest is posted", figures)
    if due_at is None:
        return Check("digest", True, "no digest today", figures)
    if now < due_at:
        return Check("digest", True, "today's digest is not due yet", figures)
    late = now - due_at
    state = "still posting" if today is not None else "not posted"
    if late > DIGEST_GRACE:
        minutes = int(late.total_seconds() // 60)
        return Check("digest", False, f"today's digest is {state}, {minutes} min after", figures)
    return Check("digest", True, f"today's digest is due and {state}", figures)


def digest_due_at(now: datetime, tz: ZoneInfo, rules: DigestRules) -> datetime | None:
    """When the digest of `now`'s local day is due, or None on a day without one."""
    local = now.astimezone(tz)
    if list(DAY_NAMES)[local.weekday()] not in rules.weekdays:
        return None
    return datetime.combine(local.date(), rules.time, tzinfo=tz)


def check_connectors(statuses: list[ConnectorStatus], enabled: bool) -> Check:
    """The IMAP connector: down when stopped or failing poll after poll."""
    if not enabled:
        return Check("inbox", True, "no IMAP connector")
    figures = {
        s.key: {
            "state": s.state,
            "failures": s.consecutive_failures,
            "last_success": s.last_success_at.isoformat() if s.last_success_at else None,
        }
        for s in statuses
    }
    down = [
        s for s in statuses if s.state == "stopped" or s.consecutive_failures >= CONNECTOR_FAILURES
    ]
    if down:
        reason = "; ".join(f"{s.key} {s.state}: {s.last_error or 'no error given'}" for s in down)
        return Check("inbox", False, reason, figures)
    if not statuses:
        return Check("inbox", True, "connector starting", figures)
    return Check("inbox", True, ", ".join(f"{s.key} {s.state}" for s in statuses), figures)
