"""`GET /healthz`: 200 with every check's details when all is fine, 503 naming what is wrong.

Checks: the data directory takes a real write, the scheduler loop ticked recently, today's
digest is posted (or not yet due), Slack accepts the bot token (`auth.test`, cached and
refreshed by a scheduled job, never called per health request), and the IMAP connector is up.
A load balancer can poll it as often as it likes: the costliest part is one small fsync.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

import schedule
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.health import (
    Check,
    Heartbeat,
    check_connectors,
    check_digest,
    check_store,
    digest_due_at,
    report,
)
from bot.jobs import SingleFlight
from bot.repos.digests import POSTED
from handlers.context import Services
from handlers.webhooks import Reply, WebApp

log = logging.getLogger(__name__)
AUTH_EVERY_MINUTES = 5


class SlackAuth:
    """The last `auth.test` answer, refreshed by `refresh()` (a scheduled job)."""

    def __init__(self, client: WebClient, clock: Any) -> None:
        self.client = client
        self.clock = clock
        self._lock = threading.Lock()
        self._result: Check | None = None

    def refresh(self) -> Check:
        try:
            answer = self.client.auth_test()
            check = Check(
                "slack",
                True,
                f"signed in as {answer.get('user')} on {answer.get('team')}",
                {"team_id": answer.get("team_id"), "bot_user_id": answer.get("user_id")},
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            check = Check("slack", False, f"auth.test failed: {error or exc}")
        except Exception as exc:  # network errors: Slack unreachable is a health fact, not a bug
            check = Check("slack", False, f"auth.test failed: {type(exc).__name__}: {exc}")
        checked = Check(
            check.name, check.ok, check.detail, {**check.figures, "checked_at": self._now()}
        )
        if not checked.ok:
            log.warning("Slack health: %s", checked.detail)
        with self._lock:
            self._result = checked
        return checked

    def check(self) -> Check:
        with self._lock:
            result = self._result
        return result or Check("slack", True, "not checked yet")

    def _now(self) -> str:
        now: datetime = self.clock.now()
        return now.isoformat()


class Health:
    """Everything `/healthz` looks at, built by the composition root."""

    def __init__(self, services: Services, heartbeat: Heartbeat, auth: SlackAuth) -> None:
        self.services = services
        self.heartbeat = heartbeat
        self.auth = auth

    def checks(self) -> list[Check]:
        services, settings = self.services, self.services.settings
        repos, now = services.repos, services.clock.now()
        due_at = digest_due_at(now, settings.timezone, settings.digest)
        today = repos.digests.get(now.astimezone(settings.timezone).date())
        posted = next((r for r in repos.digests.recent() if r.status == POSTED), None)
        triage = services.triage
        imap = triage is not None and triage.connector is not None
        return [
            check_store(repos.store),
            self.heartbeat.check(),
            check_digest(today, posted, due_at, now),
            self.auth.check(),
            check_connectors(repos.inbox.connector_statuses() if imap else [], imap),
            *([self._signals()] if services.signals is not None else []),
        ]

    def _signals(self) -> Check:
        """Live signals, per source: informational (a vendor's silence is no reason for a
        load balancer to take the bot out); a quiet source is also warned of in Slack."""
        sources = self.services.signals.health()
        quiet = [name for name, state in sources.items() if state["quiet"]]
        detail = f"{len(sources)} source(s)" + (f"; quiet: {', '.join(quiet)}" if quiet else "")
        return Check("signals", True, detail, {"sources": sources})

    def answer(self) -> Reply:
        ok, body = report(self.checks())
        return Reply(200 if ok else 503, body)


def register_health(
    web: WebApp, services: Services, scheduler: schedule.Scheduler, heartbeat: Heartbeat
) -> Health:
    """Serve `GET /healthz` and schedule the Slack auth refresh (run_bot runs it at start)."""
    auth = SlackAuth(services.client, services.clock)
    scheduler.every(AUTH_EVERY_MINUTES).minutes.do(SingleFlight("slack-auth", auth.refresh)).tag(
        "health"
    )
    health = Health(services, heartbeat, auth)
    web.get("/healthz", health.answer)
    return health
