"""The shared inbox in Slack: triage messages, their buttons, reminders, the webhook, the poller.

`SlackTriagePoster` is the `bot.inbox.ingest.TriagePoster` that posts to the triage channel.
`TriageSlack` holds the rest: Claim / Resolve / Snooze / Release / Reopen / Show full email
and a cancel request's Confirm / Dismiss listeners, `/care triage`, inbox figures for
`/care stats`, the signed `POST /inbox` webhook, the reminder job, and the IMAP connector's
thread.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import schedule
from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.blocks import ids, replies
from bot.blocks.outreach_post import build_answer_note, build_outreach_post
from bot.blocks.triage import Attachment, CancelState, TriageView
from bot.blocks.triage_list import build_triage_list
from bot.blocks.triage_message import build_triage_message
from bot.blocks.triage_thread import (
    build_full_email_messages,
    build_triage_reminder,
    build_triage_reply,
)
from bot.care import CareError, NotAllowed, Permissions
from bot.inbox.ingest import PARKED, Ingestor, PostFailed, TriageContext
from bot.inbox.models import SOURCE_OUTREACH, TriageItem
from bot.inbox.parse import ParsedEmail
from bot.inbox.triage import TriageActions, business_minutes
from bot.inbox.webhook import MAX_BODY, SIGNATURE_HEADER
from bot.outreach.contact import last_contact
from bot.outreach.thread import OutreachThreads
from bot.posting import UncertainPost, post_once
from bot.priority import Priority
from bot.risk import score
from bot.stage import lifecycle_stage
from config import Settings
from handlers import webhooks
from handlers.context import Services
from handlers.slack_sink import SlackSink
from handlers.webhooks import Reply, SignedRequest, WebApp, hmac_sha256_verifier

log = logging.getLogger(__name__)
SNAPSHOT_TEXT = 40_000  # Slack's own ceiling for a message's text; the rest is never shown
META_TYPE = "care_triage"
POST_ATTEMPTS = 4  # tries per triage post (1, 2, 4 s apart) before the email waits for later
# Answers that say Slack (or the bot's access to the channel) is down, not this email.
SLACK_DOWN_ERRORS = frozenset(
    {
        "ratelimited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)


class _TriageSink(SlackSink):
    """The Web API sink whose searches fail as `PostFailed`: history that cannot be read says
    Slack is not reachable now, so the email waits for a later try."""

    def find(self, channel: str, metadata: dict[str, Any], thread_ts: str = "") -> dict[str, str]:
        try:
            return super().find(channel, metadata, thread_ts)
        except (SlackApiError, OSError) as exc:
            raise PostFailed(f"Slack history could not be read: {exc}") from exc


class SlackTriagePoster:
    """Posts new conversations to the triage channel and follow-ups into their threads.

    Each post carries metadata naming it (`inbox:<item id>`, plus the email and part for a
    reply) and goes through `bot.posting.post_once`, paced by the bot's one `Pacer` (the
    digest's): a client that retries 429s only, and after a 5xx or a lost answer the channel
    (or thread) is searched for the post's key before each re-post, and when the ingest says
    an earlier attempt may have posted (`check_first`).
    """

    def __init__(self, services: Services, channel: str) -> None:
        self.services = services
        self.channel = channel
        self.sink = _TriageSink(services.client)
        self.pacer = services.publisher.pacer

    def post_item(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext, check_first: bool
    ) -> tuple[str, str]:
        # The ingestor stores `item` after this returns: the snapshot travels with it.
        item.snapshot = email_snapshot(parsed)
        view = self.services.triage.view(item, context=context)
        # A trimmed text gets a "Show full email" button: the whole text is one click away.
        return self._post_parent(item, build_triage_message(view, *self._now()), check_first)

    def post_reply(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext, check_first: bool
    ) -> str:
        channel, ts = item.slack.get("channel", self.channel), item.slack["ts"]
        if context.answered:  # the ingestor stores it: the card now shows the customer's email
            item.snapshot = email_snapshot(parsed)
        view = self.services.triage.view(item, context=context)
        view.sender_name, view.sender_email = parsed.from_name, parsed.from_address
        email = hashlib.sha256(parsed.message_id.encode()).hexdigest()[:16]
        found = self._find(channel, ts) if check_first else {}
        first = ""
        for index, reply in enumerate(build_triage_reply(view, parsed.text, *self._now())):
            key = f"inbox:{item.id}:{email}:{index}"
            posted = found.get(key) or self.post_once(channel, reply, key, thread_ts=ts)
            first = first or posted
        if context.reopened or context.changed or context.answered:
            if context.reopened:
                item.status, item.claimed_by, item.resolved_by = "open", "", ""
            self.services.client.chat_update(
                channel=channel,
                ts=ts,
                **build_triage_message(self.services.triage.view(item), *self._now()),
            )
        if context.answered:
            self._tell_tasks(item, channel)
        return first

    def post_outreach(self, item: TriageItem, check_first: bool) -> tuple[str, str]:
        """`bot.outreach.thread.OutreachPoster`: "@dana emailed Ann Lee: subject"."""
        message = build_outreach_post(self.services.triage.view(item), *self._now())
        return self._post_parent(item, message, check_first)

    def _post_parent(
        self, item: TriageItem, message: dict[str, Any], check_first: bool
    ) -> tuple[str, str]:
        """Post an item's channel message, unless an earlier attempt did (`check_first`)."""
        key = f"inbox:{item.id}"
        if check_first:
            found = self._find(self.channel, "")
            if key in found:
                log.warning("inbox: %s was already in Slack; not posting it again", key)
                return self.channel, found[key]
        return self.channel, self.post_once(self.channel, message, key)

    def _tell_tasks(self, item: TriageItem, channel: str) -> None:
        """The digest entry an outreach was sent from says that the customer answered."""
        tasks = self.services.repos.tasks
        for task in (t for t in map(tasks.get, item.outreach_tasks) if t is not None):
            link = task.slack or {}
            thread = link.get("thread_ts") or link.get("ts")
            if link.get("channel") and thread:
                note = build_answer_note(self.services.triage.view(item), channel)
                key = f"inbox:{item.id}:answered:{task.id}"
                try:
                    self.post_once(link["channel"], note, key, thread_ts=thread)
                except Exception:  # the answer is in the triage thread; this is a pointer
                    log.exception("inbox: could not tell task %s of the answer", task.id)
                return

    def post_once(
        self, channel: str, message: dict[str, Any], key: str, thread_ts: str = ""
    ) -> str:
        """Post once, however Slack fails; raise PostFailed when Slack will not take it."""
        metadata = {"event_type": META_TYPE, "event_payload": {"key": key}}
        try:
            return post_once(
                self.sink, self.pacer, channel, message, key, metadata, thread_ts, POST_ATTEMPTS
            )
        except UncertainPost as exc:
            raise PostFailed(f"Slack did not confirm {key} after {POST_ATTEMPTS} tries") from exc
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if exc.response.status_code == 429 or error in SLACK_DOWN_ERRORS:
                raise PostFailed(f"Slack refused the triage post: {error}") from exc
            raise  # about this message (invalid_blocks, msg_too_long...): counts to parking

    def _find(self, channel: str, thread_ts: str) -> dict[str, str]:
        return self.sink.find(channel, {}, thread_ts=thread_ts)

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

    # ----- commands, stats, webhook ----------------------------------------------------

    def list_open(self) -> dict[str, Any]:
        """`/care triage`: open items in `bot.priority` order (overdue = past its reminder
        time), then oldest first; then parked emails."""
        repos = self.services.repos
        now, tz = self.services.clock.now(), self.settings.timezone
        today = now.astimezone(tz).date()
        ranked = []
        for item in repos.inbox.active_items():
            view = self.view(item)
            sub, risk = view.subscriber, view.risk
            rank = Priority(
                overdue=self.actions.waited_too_long(item),
                risk=risk.score if risk else 0,
                band=risk.band if risk else "low",
                value=sub.monthly_value if sub else 0.0,
                last_reached=repos.outreach.last_reached(sub.id, tz) if sub else None,
            )
            ranked.append(((*rank.key(today), view.received_at or now, item.id), view))
        ranked.sort(key=lambda pair: pair[0])
        views = [view for _, view in ranked]
        return build_triage_list(views, now, tz, parked=repos.inbox.dead.all())

    def parked_command(
        self, user: str, verb: str, letter_id: str
    ) -> tuple[dict[str, Any], Callable[[], None] | None]:
        """`/care inbox retry ID` / `drop ID`: the answer now, and the retry to run after the ack.

        Raises:
            CareError: not a manager, or no parked email with that id.
        """
        self.actions.permissions.require(user)
        dead = self.services.repos.inbox.dead
        letter = dead.get(letter_id)
        if letter is None:
            raise CareError("No parked email with that id. `/care triage` lists them.")
        if verb == "drop":
            dead.drop(letter)
            log.info("inbox: %s dropped parked email %s (%s)", user, letter.id, letter.message_id)
            return replies.build_info(f"Dropped the parked email `{letter.id}`."), None

        def retry() -> None:
            if letter.source == SOURCE_OUTREACH:  # a sent email's triage post Slack refused
                try:
                    self.threads.retry_parked(letter)
                except Exception as exc:  # noqa: BLE001 - the answer is: it stays parked
                    log.warning(
                        "inbox: retry of %s by %s: %s; it stays parked", letter.id, user, exc
                    )
                return
            try:
                result = self.ingestor.retry_parked(letter.id)
            except PostFailed as exc:
                log.warning("inbox: retry of %s by %s: %s; it stays parked", letter.id, user, exc)
                return
            log.info("inbox: retry of %s by %s: %s", letter.id, user, result.status)

        answer = replies.build_info(
            f"Retrying `{letter.id}`: it appears in the triage channel if it goes through, "
            "and stays in `/care triage` if it fails again."
        )
        return answer, retry

    def stats(self) -> dict[str, Any]:
        inbox = self.services.repos.inbox
        figures: dict[str, Any] = {"open items": len(inbox.active_items())}
        parked = inbox.dead.count()
        if parked:
            figures["parked emails (see /care triage)"] = parked
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

    # ----- jobs ------------------------------------------------------------------------

    def remind(self) -> int:
        """Post outreach messages Slack refused at send time, wake snoozed items, then post
        one reminder in each long-unclaimed item's thread."""
        self.threads.post_pending()
        for item in self.actions.wake_snoozed():
            try:
                self.redraw(item)
            except Exception:  # its message (deleted in Slack?): the others are redrawn
                log.exception("triage: item %s woke but its message could not be redrawn", item.id)
        sent = 0
        for item in self.actions.due_reminders():
            waited = business_minutes(
                item.last_message_at,
                self.services.clock.now(),
                self.settings.triage,
                self.settings.timezone,
            )
            message = build_triage_reminder(self.view(item), waited)
            # Marked first: a failed write never posts; the metadata key makes a lost answer safe.
            self.actions.mark_reminded(item.id)
            key = f"inbox:{item.id}:reminder:{item.last_message_at.isoformat()}"
            try:
                self.poster.post_once(item.slack["channel"], message, key, item.slack["ts"])
            except Exception:
                log.exception("triage reminder for %s failed; retrying next minute", item.id)
                self.actions.mark_reminded(item.id, undo=True)
                continue
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
        cancels, permissions = self.ingestor.cancels, self.actions.permissions
        app.action(ids.ACTION_TRIAGE_CANCEL_CONFIRM)(
            ack=ack, lazy=[self._on(lambda b, u, i: cancels.confirm(i, u, permissions))]
        )
        app.action(ids.ACTION_TRIAGE_CANCEL_DISMISS)(
            ack=ack, lazy=[self._on(lambda b, u, i: cancels.dismiss(i, u, permissions))]
        )

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
        tell(self.services, body, message)


def tell(services: Services, body: dict[str, Any], message: dict[str, Any]) -> None:
    """A private note to whoever clicked on a triage message (in its channel); never raises."""
    channel = (body.get("channel") or {}).get("id") or services.settings.slack.triage_channel
    try:
        services.client.chat_postEphemeral(channel=channel, user=body["user"]["id"], **message)
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


def email_snapshot(parsed: ParsedEmail) -> dict[str, Any]:
    """What a triage message shows of an email, kept with the item to redraw it later."""
    return {
        "sender_name": parsed.from_name,
        "subject": parsed.subject,
        "text": parsed.text[:SNAPSHOT_TEXT],
        "received_at": parsed.date.isoformat() if parsed.date else "",
        "attachments": [[a.filename, a.size] for a in parsed.attachments],
        "notes": list(parsed.notes),
    }
