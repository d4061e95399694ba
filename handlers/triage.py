"""The shared inbox's Slack side: `TriageSlack` and its wiring (`build_triage`).

`TriageSlack` holds what the inbox's Slack surfaces share: the triage actions
(`bot.inbox.triage`), the poster, the ingestor and sent emails' threads; it builds the
`TriageView` a triage message shows of an item (`view`) and redraws that message (`redraw`).
It also serves the signed `POST /inbox` webhook and runs the IMAP connector's thread.

Each surface has its own module:
- `handlers/triage_post.py`: posting to the triage channel (`SlackTriagePoster`);
- `handlers/triage_buttons.py`: the message's buttons (Claim, Resolve, Snooze, ...);
- `handlers/triage_commands.py`: `/care triage`, `/care inbox retry|drop ID`, `/care stats`;
- `handlers/triage_jobs.py`: the minute job (late outreach posts, snoozes, reminders).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

import schedule

from bot.blocks.triage import Attachment, CancelState, TriageView
from bot.blocks.triage_message import build_triage_message
from bot.care import Permissions
from bot.inbox.context import TriageContext
from bot.inbox.delivery import PostFailed
from bot.inbox.ingest import PARKED, Ingestor
from bot.inbox.models import SOURCE_OUTREACH, TriageItem
from bot.inbox.triage import TriageActions
from bot.inbox.webhook import MAX_BODY, SIGNATURE_HEADER
from bot.outreach.contact import last_contact
from bot.outreach.thread import OutreachThreads
from bot.risk import score
from bot.stage import lifecycle_stage
from config import Settings
from handlers import webhooks
from handlers.context import Services
from handlers.triage_jobs import schedule_reminders
from handlers.triage_post import SlackTriagePoster
from handlers.webhooks import Reply, SignedRequest, WebApp, hmac_sha256_verifier

log = logging.getLogger(__name__)


class TriageSlack:
    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings = settings
        self.services = services
        self.actions = TriageActions(
            services.repos,
            services.clock,
            settings.timezone,
            settings.triage,
            Permissions(settings.slack.managers, settings.slack.leads),
        )
        self.poster = SlackTriagePoster(services, settings.slack.triage_channel)
        # Sent emails' triage threads (bot.outreach.thread): the Email modal records each.
        self.threads = OutreachThreads(services.repos, services.clock, self.poster)
        self.ingestor = Ingestor(
            services.repos, settings, services.clock, self.poster, threads=self.threads
        )
        self.connector: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # ----- what a triage message shows -------------------------------------------------

    def view(self, item: TriageItem, context: TriageContext | None = None) -> TriageView:
        repos, snap = self.services.repos, item.snapshot or {}
        sub = (
            context.subscriber
            if context
            else (repos.subscribers.get(item.subscriber_id) if item.subscriber_id else None)
        )
        today = self.services.clock.now().astimezone(self.settings.timezone).date()
        risk = (
            context.risk
            if context
            else (
                score(
                    sub,
                    repos.events.for_subscriber(sub.id),
                    today,
                    self.settings.risk,
                    tz=self.settings.timezone,
                )
                if sub
                else None
            )
        )
        open_task = context.open_task if context else (self._open_task(sub.id) if sub else None)
        churn = (
            context.churn_task
            if context
            else (repos.tasks.get(item.churn_task_id) if item.churn_task_id else None)
        )
        return TriageView(
            item_id=item.id,
            sender_email=item.sender,
            sender_name=item.sender_name or snap.get("sender_name", ""),
            subject=item.subject,
            text=snap.get("text", ""),
            received_at=_received(item),
            attachments=[Attachment(name, size) for name, size in snap.get("attachments", [])],
            notes=list(snap.get("notes", [])),
            intent=item.intent,
            intents=[(name, item.triggers.get(name, "")) for name in item.intents],
            set_aside=[tuple(row) for row in item.set_aside if len(row) == 3],
            cancel=CancelState(item.cancel, item.cancel_confidence, item.cancel_by, item.cancel_at),
            subscriber=sub,
            stage=lifecycle_stage(sub, today) if sub else "",
            contact=last_contact(repos.outreach.for_subscriber(sub.id)) if sub else None,
            risk=risk,
            open_task=open_task,
            churn_task=churn,
            status=item.status,
            claimed_by=item.claimed_by,
            claimed_at=item.claimed_at,
            resolved_by=item.resolved_by,
            resolved_at=item.resolved_at,
            snoozed_until=item.snoozed_until,
            reopened=bool(context and context.reopened),
            messages=item.message_count,
            outreach_at=item.created_at if item.source == SOURCE_OUTREACH else None,
            outreach_by=item.outreach_by,
            outreach_text=str(snap.get("outreach_text", "")),
        )

    def _open_task(self, sid: str) -> Any:
        active = [t for t in self.services.repos.tasks.for_subscriber(sid) if t.active]
        return min(active, key=lambda t: (t.kind != "churn_risk", t.due), default=None)

    def redraw(self, item: TriageItem) -> None:
        if not item.slack.get("ts"):
            return
        message = build_triage_message(
            self.view(item), self.services.clock.now(), self.settings.timezone
        )
        self.services.client.chat_update(
            channel=item.slack["channel"], ts=item.slack["ts"], **message
        )

    # ----- the webhook and the IMAP thread ---------------------------------------------

    def webhook(self, request: SignedRequest) -> Reply:
        """`POST /inbox`: a raw MIME message whose signature the route has checked.

        200 handled (or a duplicate), 202 parked after repeated failures (the sender stops),
        503 Slack is not taking posts and 500 handling failed (the sender retries later).
        """
        try:
            result = self.ingestor.ingest(request.body, "webhook")
        except PostFailed as exc:  # nothing recorded as done: the sender's retry posts it once
            log.warning("inbox webhook: %s; asking the sender to retry", exc)
            return webhooks.reply(
                503, ok=False, error="Slack is not taking posts now; retry later."
            )
        except Exception:
            log.exception("inbox webhook: the email could not be handled")
            return webhooks.reply(
                500,
                ok=False,
                error="The email could not be handled; retry later (it is parked after "
                f"{self.ingestor.max_attempts} tries and shown in /care triage).",
            )
        if result.status == PARKED:
            return webhooks.reply(202, ok=True, status=PARKED, dead_letter=result.item_id)
        return webhooks.reply(200, ok=True, status=result.status, item=result.item_id)

    def register_http(self, web: WebApp) -> None:
        """Serve the webhook when INBOX_WEBHOOK_SECRET is set (otherwise `/inbox` is 404)."""
        secret = self.settings.inbox_webhook_secret
        if secret:
            web.signed_route(
                "/inbox",
                verifier=hmac_sha256_verifier(secret, SIGNATURE_HEADER),
                max_body=MAX_BODY,
                handler=self.webhook,
            )

    def start(self) -> None:
        if self.connector is not None:
            self._thread = threading.Thread(
                target=self.connector.run, name="care-imap", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self.connector is not None:
            self.connector.stop_event.set()
            if self._thread is not None:
                self._thread.join(timeout=10)


def _received(item: TriageItem) -> datetime:
    """When the email was sent (its Date, kept in the snapshot), else when it came in: a
    snapshot's unreadable date never stops the item's message or `/care triage`."""
    text = (item.snapshot or {}).get("received_at")
    if isinstance(text, str) and text:
        try:
            sent = datetime.fromisoformat(text)
        except ValueError:
            return item.created_at
        if sent.tzinfo is not None:
            return sent
    return item.created_at


def build_triage(
    settings: Settings, services: Services, scheduler: schedule.Scheduler
) -> TriageSlack:
    """The inbox's Slack side, its minute job, and the IMAP connector when IMAP_HOST is set."""
    triage = TriageSlack(settings, services)
    if settings.imap.enabled:
        from bot.inbox.imap import ImapConnector

        triage.connector = ImapConnector(
            settings.imap, triage.ingestor, services.repos.inbox, services.clock, threading.Event()
        )
    schedule_reminders(scheduler, triage)
    return triage
