"""The inbox service: one raw email in, at most one Slack post out, exactly once.

`Ingestor.ingest` parses the email, drops duplicates by Message-ID, counts noise (recording
bounces on the subscriber they concern), matches the sender to a subscriber and gathers what
the triage message shows beside the email (`bot.inbox.context`), detects the intents
(`bot.inbox.intent`; a cancel request sure enough becomes a `cancel_request` signal and
refreshes the churn-risk task, a less sure one waits for a person: `bot.inbox.cancel`),
threads replies onto their conversation (`bot.inbox.conversation`) and posts through a
`TriagePoster`, storing the item and its records around the post in an order that never posts
twice (`bot.inbox.delivery`). The Slack side implements the poster; this module knows nothing
of Slack.

A Slack outage (`PostFailed`) propagates: the connector or the webhook's sender retries later.
Any other failure is counted per email (by a digest of its bytes); after `max_attempts` the
email is parked in the dead-letter list (`InboxRepo.dead`) and the ingest answers "parked", so
the connector moves on to the next email. `/care inbox retry ID` and `drop ID` handle it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime

from bot.clock import Clock
from bot.ids import stable_id
from bot.inbox.cancel import CANCEL, PENDING, CancelRequests, RefreshChurn, rescore_churn
from bot.inbox.context import Found, TriageContext, build_context, match_sender
from bot.inbox.conversation import conversation_of
from bot.inbox.delivery import Arrival, Delivery, PendingThreads, PostFailed, TriagePoster
from bot.inbox.filters import BOUNCE, Classification, classify
from bot.inbox.intent import read_intents
from bot.inbox.models import (
    ITEM_AWAITING,
    ITEM_RESOLVED,
    ITEM_SNOOZED,
    MESSAGE_POSTED,
    MESSAGE_POSTING,
    InboxMessage,
    TriageItem,
)
from bot.inbox.parking import Parking
from bot.inbox.parse import ParsedEmail, parse_email
from bot.models import Event, Subscriber, Task
from bot.repos import Repos
from config.settings import Settings

log = logging.getLogger(__name__)

POSTED, THREADED, DUPLICATE, NOISE, PARKED = "posted", "threaded", "duplicate", "noise", "parked"
MAX_ATTEMPTS = 3  # failures (not Slack's) before an email is parked


@dataclass(frozen=True)
class IngestResult:
    """What happened to one email."""

    status: str  # posted | threaded | duplicate | noise | parked
    message_id: str
    item_id: str = ""
    ts: str = ""
    kind: str = "human"
    reason: str = ""
    intent: str = ""
    subscriber_id: str = ""


class Ingestor:
    """Turns raw emails into triage items. One per process; safe to share between threads.

    Args:
        repos: the repositories (subscribers, tasks, events, inbox).
        settings: triage rules (intents, thread window) and risk rules.
        clock: the time source.
        poster: where items are posted.
        refresh_churn: re-scores a subscriber after a cancel request (bot.engine's by default).
        max_attempts: failures other than Slack's before an email is parked.
        threads: posts an outreach's message late (`bot.outreach.thread`), before an answer
            to it is threaded there.
    """

    def __init__(
        self,
        repos: Repos,
        settings: Settings,
        clock: Clock,
        poster: TriagePoster,
        refresh_churn: RefreshChurn = rescore_churn,
        max_attempts: int = MAX_ATTEMPTS,
        threads: PendingThreads | None = None,
    ) -> None:
        self.repos = repos
        self.settings = settings
        self.clock = clock
        self.poster = poster
        self.refresh_churn = refresh_churn
        self.cancels = CancelRequests(repos, settings, clock, refresh_churn)
        self.max_attempts = max_attempts
        self.threads = threads
        self._lock = threading.Lock()  # one email at a time: dedupe and threading stay exact
        self._parking = Parking(repos.inbox.dead, clock, max_attempts)
        self._delivery = Delivery(repos, settings, poster)

    def ingest(self, raw: bytes, source: str, uid: int = 0, retrying: bool = False) -> IngestResult:
        """Handle one raw email.

        Args:
            raw: the message bytes.
            source: where it came from ("imap:host/INBOX", "webhook"), stored with the item.
            uid: the IMAP UID, kept on the message record for tracing (0 for the webhook).
            retrying: `/care inbox retry`: run a parked email again.

        Returns:
            posted (new item), threaded (into an existing item), duplicate, noise, or parked
            (failed `max_attempts` times for a reason other than Slack; `item_id` is then the
            dead letter's id).

        Raises:
            PostFailed: Slack did not take the post; nothing is lost, retry later.
            Exception: any other failure before the email is parked (it counts an attempt).
        """
        parsed = parse_email(raw)  # outside every lock: a big email delays nobody else
        key = hashlib.sha256(raw).hexdigest()
        with self._lock:
            parked = None if retrying else self.repos.inbox.dead.by_key(key)
            if parked is not None:
                return IngestResult(PARKED, parsed.message_id, parked.id, reason=parked.error)
            try:
                result = self._handle(parsed, source, uid)
            except PostFailed:
                raise
            except Exception as exc:
                letter = self._parking.failed(raw, key, parsed, source, uid, exc, retrying)
                return IngestResult(PARKED, parsed.message_id, letter.id, reason=letter.error)
            self._parking.succeeded(key)
            return result

    def _handle(self, parsed: ParsedEmail, source: str, uid: int) -> IngestResult:
        seen = self.repos.inbox.message(parsed.message_id)
        if seen is not None and seen.status != MESSAGE_POSTING:
            return IngestResult(DUPLICATE, parsed.message_id, seen.item_id, seen.ts)
        verdict = classify(parsed)
        if verdict.noise:
            self._count_noise(parsed, verdict)
            return IngestResult(NOISE, parsed.message_id, kind=verdict.kind, reason=verdict.reason)
        return self._human(parsed, verdict, source, uid, seen)

    def retry_parked(self, letter_id: str) -> IngestResult:
        """Run a parked email again; on success it leaves the list, else it stays parked.

        Raises:
            LookupError: no parked email with that id.
            PostFailed: Slack did not take it (it stays parked).
        """
        dead = self.repos.inbox.dead
        letter = dead.get(letter_id)
        if letter is None:
            raise LookupError(letter_id)
        result = self.ingest(dead.raw(letter), letter.source, letter.uid, retrying=True)
        if result.status != PARKED:
            dead.drop(letter)
        return result

    def _human(
        self,
        parsed: ParsedEmail,
        verdict: Classification,
        source: str,
        uid: int,
        seen: InboxMessage | None,
    ) -> IngestResult:
        now = self.clock.now()
        subscriber = match_sender(self.repos, parsed)
        reading = read_intents(parsed.subject, parsed.text, self.settings.triage.intents)
        request = reading.hit(CANCEL)
        cancel = self.cancels.state_for(request.confidence) if request and subscriber else ""
        churn_task = None
        if subscriber is not None and cancel and cancel != PENDING:
            churn_task = self._cancel_request(subscriber, parsed, now)
        found = Found(reading, cancel)
        if seen is not None:  # an earlier attempt chose the item: keep to it
            item = self.repos.inbox.item(seen.item_id)
            if item is not None and item.key == parsed.message_id:  # created, not finished
                self.repos.inbox.finish_message(
                    parsed.message_id, MESSAGE_POSTED, item.slack["channel"], item.slack["ts"]
                )
                context = build_context(
                    self.repos, self.settings, subscriber, found, churn_task, verdict, now, False
                )
                return self._result(POSTED, parsed, item, item.slack["ts"], context)
        else:
            window = self.settings.triage.thread_window_days
            item = self._posted(conversation_of(self.repos.inbox, parsed, now, window))
        reopened = item is not None and item.status in (ITEM_RESOLVED, ITEM_SNOOZED)
        context = build_context(
            self.repos, self.settings, subscriber, found, churn_task, verdict, now, reopened
        )
        if item is not None and item.status == ITEM_AWAITING:
            context = replace(context, answered=True)
        arrival = Arrival(source, uid, now, seen)
        if item is None:
            item, ts = self._delivery.post_new(parsed, context, arrival)
            return self._result(POSTED, parsed, item, ts, context)
        item, ts = self._delivery.post_reply(item, parsed, context, arrival)
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

    def _posted(self, item: TriageItem | None) -> TriageItem | None:
        """The conversation to thread into, in Slack: an outreach whose message Slack did not
        take at send time is posted first (`PostFailed` propagates: the email waits)."""
        if item is None or item.slack.get("ts"):
            return item
        if self.threads is None:
            return None  # cannot be posted here: the email starts its own item
        return self.threads.ensure_posted(item)

    def _cancel_request(
        self, subscriber: Subscriber, parsed: ParsedEmail, now: datetime
    ) -> Task | None:
        at = min(parsed.date, now) if parsed.date else now
        note = f"email: {parsed.subject[:200]}"
        return self.cancels.record(subscriber.id, parsed.message_id, note, at)

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
