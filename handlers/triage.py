"""The shared inbox in Slack: triage messages, their buttons, reminders, the webhook, the poller.

`SlackTriagePoster` is the `bot.inbox.ingest.TriagePoster` that posts to the triage channel.
`TriageSlack` holds the rest: Claim / Resolve / Snooze / Release / Reopen / Show full email
listeners, `/care triage`, inbox figures for `/care stats`, the signed `POST /inbox` webhook,
the reminder job, and the IMAP connector's thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import schedule
from slack_bolt import Ack, App

from bot.blocks import ids, replies
from bot.blocks.triage import (
    Attachment,
    TriageView,
    build_full_email_messages,
    build_triage_list,
    build_triage_message,
    build_triage_reminder,
    build_triage_reply,
)
from bot.care import CareError, NotAllowed, Permissions
from bot.inbox.ingest import Ingestor, TriageContext
from bot.inbox.models import TriageItem
from bot.inbox.parse import ParsedEmail
from bot.inbox.triage import TriageActions, business_minutes
from bot.inbox.webhook import MAX_BODY, SIGNATURE_HEADER
from bot.risk import score
from bot.stage import lifecycle_stage
from config import Settings
from handlers import webhooks
from handlers.context import Services
from handlers.webhooks import Reply, SignedRequest, WebApp, hmac_sha256_verifier

log = logging.getLogger(__name__)
SNAPSHOT_TEXT = 40_000  # Slack's own ceiling for a message's text; the rest is never shown


class SlackTriagePoster:
    """Posts new conversations to the triage channel and follow-ups into their threads."""

    def __init__(self, services: Services, channel: str) -> None:
        self.services = services
        self.channel = channel

    def post_item(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext
    ) -> tuple[str, str]:
        # The ingestor stores `item` after this returns: the snapshot travels with it.
        item.snapshot = {
            "sender_name": parsed.from_name,
            "subject": parsed.subject,
            "text": parsed.text[:SNAPSHOT_TEXT],
            "received_at": parsed.date.isoformat() if parsed.date else "",
            "attachments": [[a.filename, a.size] for a in parsed.attachments],
            "notes": list(parsed.notes),
        }
        view = self.services.triage.view(item, context=context)
        client = self.services.client
        # A trimmed text gets a "Show full email" button: the whole text is one click away.
        ts = str(
            client.chat_postMessage(
                channel=self.channel, **build_triage_message(view, *self._now())
            )["ts"]
        )
        return self.channel, ts

    def post_reply(self, item: TriageItem, parsed: ParsedEmail, context: TriageContext) -> str:
        client = self.services.client
        channel, ts = item.slack.get("channel", self.channel), item.slack["ts"]
        view = self.services.triage.view(item, context=context)
        view.sender_name, view.sender_email = parsed.from_name, parsed.from_address
        first = ""
        for reply in build_triage_reply(view, parsed.text, *self._now()):
            answer = client.chat_postMessage(channel=channel, thread_ts=ts, **reply)
            first = first or str(answer["ts"])
        if context.reopened:
            item.status, item.claimed_by, item.resolved_by = "open", "", ""
            client.chat_update(
                channel=channel,
                ts=ts,
                **build_triage_message(self.services.triage.view(item), *self._now()),
            )
        return first

    def _now(self) -> tuple[Any, Any]:
        return self.services.clock.now(), self.services.settings.timezone


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
        self.ingestor = Ingestor(services.repos, settings, services.clock, self.poster)
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
            attachments=[Attachment(name, size) for name, size in snap.get("attachments", [])],
            notes=list(snap.get("notes", [])),
            intent=item.intent,
            subscriber=sub,
            stage=lifecycle_stage(sub, today) if sub else "",
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

    # ----- commands, stats, webhook ----------------------------------------------------

    def list_open(self) -> dict[str, Any]:
        items = [self.view(i) for i in self.services.repos.inbox.active_items()]
        return build_triage_list(items, self.services.clock.now(), self.settings.timezone)

    def stats(self) -> dict[str, Any]:
        inbox = self.services.repos.inbox
        figures: dict[str, Any] = {"open items": len(inbox.active_items())}
        for kind, count in sorted(inbox.noise_counts().items()):
            figures[f"filtered {kind.replace('_', ' ')}"] = count
        for status in inbox.connector_statuses():
            figures[f"IMAP {status.key}"] = status.state + (
                f" ({status.consecutive_failures} failures)" if status.consecutive_failures else ""
            )
            if status.last_error:
                figures["IMAP last error"] = status.last_error
        return figures

    def webhook(self, request: SignedRequest) -> Reply:
        """`POST /inbox`: a raw MIME message whose signature the route has checked."""
        result = self.ingestor.ingest(request.body, "webhook")
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

    # ----- jobs ------------------------------------------------------------------------

    def remind(self) -> int:
        """Wake snoozed items, then post one reminder in each long-unclaimed item's thread."""
        for item in self.actions.wake_snoozed():
            self.redraw(item)
        sent = 0
        for item in self.actions.due_reminders():
            waited = business_minutes(
                item.last_message_at,
                self.services.clock.now(),
                self.settings.triage,
                self.settings.timezone,
            )
            message = build_triage_reminder(self.view(item), waited)
            self.services.client.chat_postMessage(
                channel=item.slack["channel"], thread_ts=item.slack["ts"], **message
            )
            self.actions.mark_reminded(item.id)
            sent += 1
        return sent

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

    # ----- listeners -------------------------------------------------------------------

    def register(self, app: App) -> None:
        def ack(ack: Ack) -> None:
            ack()

        app.action(ids.ACTION_TRIAGE_CLAIM)(ack=ack, lazy=[self._on(self._claim)])
        app.action(ids.ACTION_TRIAGE_RESOLVE)(
            ack=ack, lazy=[self._on(lambda b, u, i: self.actions.resolve(i, u))]
        )
        app.action(ids.ACTION_TRIAGE_RELEASE)(
            ack=ack, lazy=[self._on(lambda b, u, i: self.actions.release(i, u))]
        )
        app.action(ids.ACTION_TRIAGE_REOPEN)(
            ack=ack, lazy=[self._on(lambda b, u, i: self.actions.reopen(i, u))]
        )
        app.action(ids.ACTION_TRIAGE_SNOOZE)(ack=ack, lazy=[self._on(self._snooze)])
        app.action(ids.ACTION_TRIAGE_SHOW_FULL)(ack=ack, lazy=[self._on(self._show_full)])

    def _on(self, work: Any) -> Any:
        def run(body: dict[str, Any]) -> None:
            user = body["user"]["id"]
            action = body["actions"][0]
            value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
            item_id = value.split("|", 1)[-1].split(",")[0]
            try:
                item = work(body, user, item_id)
            except NotAllowed:
                self._tell(body, replies.build_not_a_manager())
                return
            except CareError as exc:
                self._tell(body, replies.build_error(str(exc), mrkdwn=True))
                return
            if item is not None:
                self.redraw(item)

        return run

    def _claim(self, body: dict[str, Any], user: str, item_id: str) -> TriageItem | None:
        result = self.actions.claim(item_id, user)
        if not result.won:
            self._tell(
                body,
                replies.build_already_claimed(
                    result.holder, result.holder_since, self.settings.timezone
                ),
            )
            return None
        return result.item

    def _snooze(self, body: dict[str, Any], user: str, _: str) -> TriageItem:
        minutes, item_ids = ids.decode_choice(body["actions"][0]["selected_option"]["value"])
        return self.actions.snooze(item_ids[0], minutes, user)

    def _show_full(self, body: dict[str, Any], user: str, item_id: str) -> None:
        item = self.actions.item(item_id)
        for message in build_full_email_messages(self.view(item)):
            self.services.client.chat_postMessage(
                channel=item.slack["channel"], thread_ts=item.slack["ts"], **message
            )

    def _tell(self, body: dict[str, Any], message: dict[str, Any]) -> None:
        channel = (body.get("channel") or {}).get("id") or self.settings.slack.triage_channel
        try:
            self.services.client.chat_postEphemeral(
                channel=channel, user=body["user"]["id"], **message
            )
        except Exception:
            log.exception("Could not tell %s: %s", body["user"]["id"], message.get("text"))


def build_triage(
    settings: Settings, services: Services, scheduler: schedule.Scheduler
) -> TriageSlack:
    """The inbox's Slack side, its reminder job, and the IMAP connector when IMAP_HOST is set."""
    triage = TriageSlack(settings, services)
    if settings.imap.enabled:
        from bot.inbox.imap import ImapConnector

        triage.connector = ImapConnector(
            settings.imap, triage.ingestor, services.repos.inbox, services.clock, threading.Event()
        )
    scheduler.every(1).minutes.do(_guarded(triage.remind)).tag("triage-reminders")
    return triage


def _guarded(job: Any) -> Any:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("triage reminders failed; retrying next minute")

    return run
