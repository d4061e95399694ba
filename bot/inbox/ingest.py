"""The inbox service: one raw email in, at most one Slack post out, exactly once.

`Ingestor.ingest` parses the email, drops duplicates by Message-ID, counts noise (recording
bounces on the subscriber they concern), matches the sender to a subscriber, detects the
intent (a cancel request becomes a `cancel_request` signal and refreshes the churn-risk task),
threads replies onto their conversation and posts through a `TriagePoster`. The Slack side
implements the poster; this module knows nothing of Slack.

Order of effects: the cancel signal and churn task are written before posting (both are
idempotent: a retry finds them), the message record and the item only after the poster
returned. If the poster raises, the error propagates and the message stays unhandled, so the
connector retries it later and it is posted exactly once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Protocol

from bot.clock import Clock
from bot.ids import stable_id
from bot.inbox.filters import BOUNCE, Classification, classify
from bot.inbox.intent import detect_intent
from bot.inbox.models import (
    ITEM_OPEN,
    ITEM_RESOLVED,
    ITEM_SNOOZED,
    MESSAGE_POSTED,
    MESSAGE_THREADED,
    InboxMessage,
    TriageItem,
)
from bot.inbox.parse import ParsedEmail, parse_email
from bot.inbox.text import normalize_subject
from bot.models import TASK_CLAIMED, Event, Risk, Subscriber, Task
from bot.repos import Repos
from bot.risk import score
from config.settings import Settings

log = logging.getLogger(__name__)

POSTED, THREADED, DUPLICATE, NOISE = "posted", "threaded", "duplicate", "noise"
CANCEL_INTENT = "cancel"


@dataclass(frozen=True)
class TriageContext:
    """Everything the triage message shows next to the email."""

    subscriber: Subscriber | None
    risk: Risk | None
    open_task: Task | None  # the subscriber's most relevant active task, if any
    claimant: str  # who holds `open_task` ("" when unclaimed or none)
    intent: str
    churn_task: Task | None  # the churn-risk task this email opened or raised
    classification: Classification
    reopened: bool = False  # a reply brought a resolved or snoozed item back to open


class TriagePoster(Protocol):
    """Where triage items go (the Slack implementation lives with the handlers)."""

    def post_item(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext
    ) -> tuple[str, str]:
        """Post a new conversation to the triage channel. Returns (channel, ts)."""
        ...

    def post_reply(self, item: TriageItem, parsed: ParsedEmail, context: TriageContext) -> str:
        """Post a follow-up email into the item's thread (item.slack). Returns its ts."""
        ...


@dataclass(frozen=True)
class IngestResult:
    """What happened to one email."""

    status: str  # posted | threaded | duplicate | noise
    message_id: str
    item_id: str = ""
    ts: str = ""
    kind: str = "human"
    reason: str = ""
    intent: str = ""
    subscriber_id: str = ""


RefreshChurn = Callable[[str, Repos, Settings, datetime], Task | None]


def _refresh_churn_risk(
    subscriber_id: str, repos: Repos, settings: Settings, now: datetime
) -> Task | None:
    from bot.engine import refresh_churn_risk

    return refresh_churn_risk(subscriber_id, repos, settings, now)


class Ingestor:
    """Turns raw emails into triage items. One per process; safe to share between threads.

    Args:
        repos: the repositories (subscribers, tasks, events, inbox).
        settings: triage rules (intents, thread window) and risk rules.
        clock: the time source.
        poster: where items are posted.
        refresh_churn: re-scores a subscriber after a cancel request (bot.engine's by default).
    """

    def __init__(
        self,
        repos: Repos,
        settings: Settings,
        clock: Clock,
        poster: TriagePoster,
        refresh_churn: RefreshChurn = _refresh_churn_risk,
    ) -> None:
        self.repos = repos
        self.settings = settings
        self.clock = clock
        self.poster = poster
        self.refresh_churn = refresh_churn
        self._lock = threading.Lock()  # one email at a time: dedupe and threading stay exact

    def ingest(self, raw: bytes, source: str, uid: int = 0) -> IngestResult:
        """Handle one raw email.

        Args:
            raw: the message bytes.
            source: where it came from ("imap:host/INBOX", "webhook"), stored with the item.
            uid: the IMAP UID, kept on the message record for tracing (0 for the webhook).

        Returns:
            posted (new item), threaded (into an existing item), duplicate or noise.

        Raises:
            Whatever the poster raises; nothing is recorded for this email then.
        """
        parsed = parse_email(raw)
        with self._lock:
            seen = self.repos.inbox.message(parsed.message_id)
            if seen is not None:
                return IngestResult(DUPLICATE, parsed.message_id, seen.item_id, seen.ts)
            verdict = classify(parsed)
            if verdict.noise:
                self._count_noise(parsed, verdict)
                return IngestResult(
                    NOISE, parsed.message_id, kind=verdict.kind, reason=verdict.reason
                )
            return self._human(parsed, verdict, source, uid)

    def _human(
        self, parsed: ParsedEmail, verdict: Classification, source: str, uid: int
    ) -> IngestResult:
        now = self.clock.now()
        subscriber = self._match(parsed)
        intent = detect_intent(parsed.subject, parsed.text, self.settings.triage.intents)
        churn_task = None
        if subscriber is not None and intent == CANCEL_INTENT:
            churn_task = self._cancel_request(subscriber, parsed, now)
        item = self._thread_of(parsed, now)
        reopened = item is not None and item.status in (ITEM_RESOLVED, ITEM_SNOOZED)
        context = self._context(subscriber, intent, churn_task, verdict, now, reopened)
        if item is None:
            return self._post_new(parsed, context, source, uid, now)
        return self._post_reply(item, parsed, context, source, uid, now)

    def _post_new(
        self, parsed: ParsedEmail, context: TriageContext, source: str, uid: int, now: datetime
    ) -> IngestResult:
        inbox = self.repos.inbox
        item = TriageItem(
            id=inbox.new_item_id(parsed.message_id, self._task_id_taken),
            key=parsed.message_id,
            subject=parsed.subject,
            normalized_subject=normalize_subject(parsed.subject),
            sender=parsed.from_address,
            sender_name=parsed.from_name,
            created_at=now,
            last_message_at=now,
            subscriber_id=context.subscriber.id if context.subscriber else "",
            intent=context.intent,
            churn_task_id=context.churn_task.id if context.churn_task else "",
            source=source,
        )
        channel, ts = self.poster.post_item(item, parsed, context)
        item.slack = {"channel": channel, "ts": ts}
        with self.repos.store.lock:
            inbox.create_item(item)
            inbox.record_message(
                InboxMessage(
                    parsed.message_id, item.id, MESSAGE_POSTED, now, channel, ts, uid, source
                )
            )
        log.info("inbox: posted %s from %s as item %s", parsed.message_id, item.sender, item.id)
        return self._result(POSTED, parsed, item, ts, context)

    def _post_reply(
        self,
        item: TriageItem,
        parsed: ParsedEmail,
        context: TriageContext,
        source: str,
        uid: int,
        now: datetime,
    ) -> IngestResult:
        ts = self.poster.post_reply(item, parsed, context)

        def update(current: TriageItem) -> None:
            current.message_count += 1
            current.last_message_at = max(current.last_message_at, now)
            if current.status in (ITEM_RESOLVED, ITEM_SNOOZED):
                current.status, current.snoozed_until, current.reminded_at = ITEM_OPEN, None, None
                current.claimed_by, current.claimed_at = "", None
            if context.subscriber and not current.subscriber_id:
                current.subscriber_id = context.subscriber.id
            if context.churn_task:
                current.churn_task_id = context.churn_task.id
            # A conversation's intent only sharpens: "other" takes any intent, cancel wins.
            if context.intent == CANCEL_INTENT or current.intent in ("other", ""):
                current.intent = context.intent

        with self.repos.store.lock:
            item = self.repos.inbox.mutate_item(item.id, update)[0]
            self.repos.inbox.record_message(
                InboxMessage(
                    parsed.message_id,
                    item.id,
                    MESSAGE_THREADED,
                    now,
                    item.slack.get("channel", ""),
                    ts,
                    uid,
                    source,
                )
            )
        log.info("inbox: threaded %s into item %s", parsed.message_id, item.id)
        return self._result(THREADED, parsed, item, ts, context)

    @staticmethod
    def _result(
        status: str, parsed: ParsedEmail, item: TriageItem, ts: str, context: TriageContext
    ) -> IngestResult:
        return IngestResult(
            status,
            parsed.message_id,
            item.id,
            ts,
            intent=context.intent,
            subscriber_id=context.subscriber.id if context.subscriber else "",
        )

    def _task_id_taken(self, candidate: str) -> bool:
        return self.repos.tasks.get(candidate) is not None

    def _match(self, parsed: ParsedEmail) -> Subscriber | None:
        """The subscriber who wrote: From, else Reply-To (contact forms), else a forward's From."""
        candidates = [parsed.from_address]
        reply_to = parsed.header("reply-to")
        if "@" in reply_to:
            candidates.append(parseaddr(reply_to)[1].lower())
        candidates.append(parsed.forwarded_from)
        for address in candidates:
            if address and "@" in address:
                subscriber = self.repos.subscribers.by_email(address)
                if subscriber is not None:
                    return subscriber
        return None

    def _thread_of(self, parsed: ParsedEmail, now: datetime) -> TriageItem | None:
        inbox = self.repos.inbox
        for message_id in parsed.thread_ids:
            record = inbox.message(message_id)
            item = inbox.item(record.item_id) if record else inbox.item_by_key(message_id)
            if item is not None:
                return item
        if not parsed.from_address:
            return None
        since = now - timedelta(days=self.settings.triage.thread_window_days)
        return inbox.find_thread(parsed.from_address, normalize_subject(parsed.subject), since)

    def _cancel_request(
        self, subscriber: Subscriber, parsed: ParsedEmail, now: datetime
    ) -> Task | None:
        at = min(parsed.date, now) if parsed.date else now
        event = Event(
            id=stable_id(subscriber.id, "cancel_request", parsed.message_id),
            subscriber_id=subscriber.id,
            type="cancel_request",
            at=at,
            source="inbox",
            note=f"email: {parsed.subject[:200]}",
        )
        self.repos.events.add(event)
        return self.refresh_churn(subscriber.id, self.repos, self.settings, now)

    def _count_noise(self, parsed: ParsedEmail, verdict: Classification) -> None:
        self.repos.inbox.count_noise(verdict.kind)
        if verdict.kind != BOUNCE:
            return
        now = self.clock.now()
        events = []
        for address in verdict.bounced_addresses:
            subscriber = self.repos.subscribers.by_email(address)
            if subscriber is None:
                continue
            events.append(
                Event(
                    id=stable_id(subscriber.id, "bounce", parsed.message_id, address),
                    subscriber_id=subscriber.id,
                    type="bounce",
                    at=min(parsed.date, now) if parsed.date else now,
                    source="inbox",
                    note=f"{address}: {verdict.reason}"[:300],
                )
            )
        if events:
            self.repos.events.add_many(events)
            log.info("inbox: bounce recorded on %s", ", ".join(e.subscriber_id for e in events))

    def _context(
        self,
        subscriber: Subscriber | None,
        intent: str,
        churn_task: Task | None,
        verdict: Classification,
        now: datetime,
        reopened: bool,
    ) -> TriageContext:
        if subscriber is None:
            return TriageContext(None, None, None, "", intent, churn_task, verdict, reopened)
        today = now.astimezone(self.settings.timezone).date()
        events = self.repos.events.for_subscriber(subscriber.id)
        risk = score(subscriber, events, today, self.settings.risk, tz=self.settings.timezone)
        active = [t for t in self.repos.tasks.for_subscriber(subscriber.id) if t.active]
        if churn_task is not None:
            active = [churn_task] + [t for t in active if t.id != churn_task.id]
        else:
            active.sort(key=lambda t: (t.status != TASK_CLAIMED, t.kind != "churn_risk", t.due))
        open_task = active[0] if active else None
        claimant = open_task.claimed_by if open_task else ""
        return TriageContext(
            subscriber, risk, open_task, claimant, intent, churn_task, verdict, reopened
        )
