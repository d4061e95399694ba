"""The inbox service: one raw email in, at most one Slack post out, exactly once.

`Ingestor.ingest` parses the email, drops duplicates by Message-ID, counts noise (recording
bounces on the subscriber they concern), matches the sender to a subscriber, detects the
intents (`bot.inbox.intent`; a cancel request sure enough becomes a `cancel_request` signal and
refreshes the churn-risk task, a less sure one waits for a person: `bot.inbox.cancel`),
threads replies onto their conversation and posts through a `TriagePoster`. The Slack side
implements the poster; this module knows nothing of Slack.

Order of effects: the cancel signal and churn task are written before posting (both are
idempotent: a retry finds them). Then the message record is written in state "posting" with
the item id it will have, THEN the poster is called, and the item is written last: for a new
conversation that one write also finishes the record (the item's key is the email and it holds
the Slack ts: `InboxRepo.message` reads such a record as posted); a reply's record is marked
threaded after its item. A failure anywhere after the first write leaves "posting" behind: the
retry asks the poster to look for the message in Slack (by its metadata) before posting, so a
failed write can never cause a second post.

A Slack outage (`PostFailed`) propagates: the connector or the webhook's sender retries later.
Any other failure is counted per email (by a digest of its bytes); after `max_attempts` the
email is parked in the dead-letter list (`InboxRepo.dead`) and the ingest answers "parked", so
the connector moves on to the next email. `/care inbox retry ID` and `drop ID` handle it.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Protocol

from bot.clock import Clock
from bot.ids import stable_id
from bot.inbox.cancel import CANCEL, DISMISSED, PENDING, CancelRequests, RefreshChurn, rescore_churn
from bot.inbox.filters import BOUNCE, Classification, classify
from bot.inbox.intent import Reading, read_intents
from bot.inbox.models import (
    ITEM_AWAITING,
    ITEM_OPEN,
    ITEM_RESOLVED,
    ITEM_SNOOZED,
    MESSAGE_POSTED,
    MESSAGE_POSTING,
    MESSAGE_THREADED,
    InboxMessage,
    TriageItem,
)
from bot.inbox.parking import Parking
from bot.inbox.parse import ParsedEmail, parse_email
from bot.inbox.text import normalize_subject
from bot.models import TASK_CLAIMED, Event, Risk, Subscriber, Task
from bot.repos import Repos
from bot.risk import score
from config.settings import Settings

log = logging.getLogger(__name__)

POSTED, THREADED, DUPLICATE, NOISE, PARKED = "posted", "threaded", "duplicate", "noise", "parked"
CANCEL_INTENT = CANCEL
MAX_ATTEMPTS = 3  # failures (not Slack's) before an email is parked


class PostFailed(Exception):
    """Slack did not take a post (outage, rate limit, channel gone): retried, never parked."""


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
    reading: Reading = Reading()  # every intent found, with its trigger, and those set aside
    cancel: str = ""  # this email's cancel request: "" | pending | counted (bot.inbox.cancel)
    changed: bool = False  # a reply changed the conversation's intents: redraw its message
    answered: bool = False  # the customer's first answer to our outreach (bot.outreach.thread)


class TriagePoster(Protocol):
    """Where triage items go (the Slack implementation lives with the handlers)."""

    def post_item(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext, check_first: bool
    ) -> tuple[str, str]:
        """Post a new conversation to the triage channel. Returns (channel, ts).

        With `check_first`, an earlier attempt may have posted it: look for it first.
        Raises `PostFailed` when Slack did not take it.
        """
        ...

    def post_reply(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext, check_first: bool
    ) -> str:
        """Post a follow-up email into the item's thread (item.slack). Returns its ts.

        With `context.answered` (the first answer to our outreach) the poster sets
        `item.snapshot` as `post_item` does: the ingestor stores it with the item.
        """
        ...


class PendingThreads(Protocol):
    """Posts an outreach's triage message that Slack did not take at send time."""

    def ensure_posted(self, item: TriageItem) -> TriageItem:
        """`item` with its Slack message. Raises `PostFailed` when Slack does not take it."""
        ...


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


@dataclass(frozen=True)
class _Arrival:
    """How one email came in: its source, IMAP UID, when, and an earlier attempt's record."""

    source: str
    uid: int
    now: datetime
    seen: InboxMessage | None


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
        subscriber = self._match(parsed)
        reading = read_intents(parsed.subject, parsed.text, self.settings.triage.intents)
        request = reading.hit(CANCEL)
        cancel = self.cancels.state_for(request.confidence) if request and subscriber else ""
        churn_task = None
        if subscriber is not None and cancel and cancel != PENDING:
            churn_task = self._cancel_request(subscriber, parsed, now)
        found = _Found(reading, cancel)
        if seen is not None:  # an earlier attempt chose the item: keep to it
            item = self.repos.inbox.item(seen.item_id)
            if item is not None and item.key == parsed.message_id:  # created, not finished
                self.repos.inbox.finish_message(
                    parsed.message_id, MESSAGE_POSTED, item.slack["channel"], item.slack["ts"]
                )
                context = self._context(subscriber, found, churn_task, verdict, now, False)
                return self._result(POSTED, parsed, item, item.slack["ts"], context)
        else:
            item = self._posted(self._thread_of(parsed, now))
        reopened = item is not None and item.status in (ITEM_RESOLVED, ITEM_SNOOZED)
        context = self._context(subscriber, found, churn_task, verdict, now, reopened)
        if item is not None and item.status == ITEM_AWAITING:
            context = replace(context, answered=True)
        arrival = _Arrival(source, uid, now, seen)
        if item is None:
            return self._post_new(parsed, context, arrival)
        return self._post_reply(item, parsed, context, arrival)

    def _post_new(
        self, parsed: ParsedEmail, context: TriageContext, arrival: _Arrival
    ) -> IngestResult:
        inbox, seen, now = self.repos.inbox, arrival.seen, arrival.now
        item = TriageItem(
            id=seen.item_id if seen else inbox.new_item_id(parsed.message_id, self._task_id_taken),
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
            source=arrival.source,
        )
        _take_intents(item, context, parsed.message_id, now, self._priority())
        if seen is None:
            self._write_ahead(parsed, item, arrival)
        channel, ts = self.poster.post_item(item, parsed, context, check_first=seen is not None)
        item.slack = {"channel": channel, "ts": ts}
        inbox.create_item(item)  # also finishes the record: its key is this email (repos.inbox)
        log.info("inbox: posted %s from %s as item %s", parsed.message_id, item.sender, item.id)
        return self._result(POSTED, parsed, item, ts, context)

    def _write_ahead(self, parsed: ParsedEmail, item: TriageItem, arrival: _Arrival) -> None:
        self.repos.inbox.record_message(
            InboxMessage(
                parsed.message_id,
                item.id,
                MESSAGE_POSTING,
                arrival.now,
                uid=arrival.uid,
                source=arrival.source,
            )
        )

    def _post_reply(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext, arrival: _Arrival
    ) -> IngestResult:
        now = arrival.now
        if arrival.seen is None:
            self._write_ahead(parsed, item, arrival)
        check_first = arrival.seen is not None
        folded = copy.copy(item)  # what the conversation's message shows once this email counts
        if context.answered:  # our outreach's first answer: from now on an open conversation
            folded.status, folded.answered_at, folded.message_count = ITEM_OPEN, now, 1
        _take_intents(folded, context, parsed.message_id, now, self._priority())
        folded.churn_task_id = context.churn_task.id if context.churn_task else item.churn_task_id
        changed = (folded.intents, folded.cancel) != (item.intents, item.cancel)
        context = replace(context, changed=changed)
        ts = self.poster.post_reply(folded, parsed, context, check_first=check_first)

        def update(current: TriageItem) -> None:
            if current.status == ITEM_AWAITING:
                current.status, current.answered_at = ITEM_OPEN, now
                current.snapshot = folded.snapshot
            current.message_count += 1
            current.last_message_at = max(current.last_message_at, now)
            current.last_message_id = parsed.message_id
            if current.status in (ITEM_RESOLVED, ITEM_SNOOZED):
                current.status, current.snoozed_until, current.reminded_at = ITEM_OPEN, None, None
                current.claimed_by, current.claimed_at = "", None
            if context.subscriber and not current.subscriber_id:
                current.subscriber_id = context.subscriber.id
            if context.churn_task:
                current.churn_task_id = context.churn_task.id
            _take_intents(current, context, parsed.message_id, now, self._priority())

        with self.repos.store.lock:
            item = self.repos.inbox.mutate_item(item.id, update)[0]
            channel = item.slack.get("channel", "")
            self.repos.inbox.finish_message(parsed.message_id, MESSAGE_THREADED, channel, ts)
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

    def _priority(self) -> list[str]:
        return [intent.name for intent in self.settings.triage.intents]

    def _task_id_taken(self, candidate: str) -> bool:
        return self.repos.tasks.get(candidate) is not None

    def _match(self, parsed: ParsedEmail) -> Subscriber | None:
        """The subscriber who wrote: From, else Reply-To (contact forms), else a forward's From."""
        candidates = [parsed.from_address]
        reply_to = parsed.header("reply-to")
        if "@" in reply_to:
            candidates.append(parseaddr(reply_to)[1].lower())
        candidates.append(parsed.forwarded_from)
        addresses = [a for a in candidates if a and "@" in a]
        for address in addresses:
            subscriber = self.repos.subscribers.by_email(address)
            if subscriber is not None:
                return subscriber
        for address in addresses:  # an address someone linked by hand to a subscriber
            sid = self.repos.links.subscriber_id(address)
            subscriber = self.repos.subscribers.get(sid) if sid else None
            if subscriber is not None:
                return subscriber
        return None

    def _posted(self, item: TriageItem | None) -> TriageItem | None:
        """The conversation to thread into, in Slack: an outreach whose message Slack did not
        take at send time is posted first (`PostFailed` propagates: the email waits)."""
        if item is None or item.slack.get("ts"):
            return item
        if self.threads is None:
            return None  # cannot be posted here: the email starts its own item
        return self.threads.ensure_posted(item)

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

    def _context(
        self,
        subscriber: Subscriber | None,
        found: _Found,
        churn_task: Task | None,
        verdict: Classification,
        now: datetime,
        reopened: bool,
    ) -> TriageContext:
        intent, reading, cancel = found.reading.primary, found.reading, found.cancel
        if subscriber is None:
            return TriageContext(
                None, None, None, "", intent, churn_task, verdict, reopened, reading, cancel
            )
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
            subscriber,
            risk,
            open_task,
            claimant,
            intent,
            churn_task,
            verdict,
            reopened,
            reading,
            cancel,
        )


@dataclass(frozen=True)
class _Found:
    """What the intent reader found in one email, and the state of its cancel request."""

    reading: Reading
    cancel: str


def _take_intents(
    item: TriageItem, context: TriageContext, message_id: str, now: datetime, priority: list[str]
) -> None:
    """Fold one email's intents into its conversation: intents add up, in priority order (the
    first is `item.intent`); a new cancel request replaces a dismissed one, and a counted one
    a pending one. A dismissed cancel request stays out unless a later email asks again."""
    reading = context.reading
    names = set(item.intents or ([item.intent] if item.intent not in ("", "other") else []))
    names |= {h.name for h in reading.intents}
    if item.cancel == DISMISSED and not context.cancel:
        names.discard(CANCEL)
    rank = {name: i for i, name in enumerate(priority)}
    item.intents = sorted(names, key=lambda n: (rank.get(n, len(rank)), n))
    item.intent = item.intents[0] if item.intents else "other"
    item.triggers = {**item.triggers, **{h.name: h.trigger for h in reading.intents}}
    aside = {row[0]: row for row in item.set_aside}
    aside.update({h.name: [h.name, h.why, h.trigger] for h in reading.set_aside})
    item.set_aside = list(aside.values())
    hit = reading.hit(CANCEL)
    if (
        hit
        and context.cancel
        and (
            item.cancel in ("", DISMISSED) or (item.cancel == PENDING and context.cancel != PENDING)
        )
    ):
        item.cancel, item.cancel_confidence = context.cancel, hit.confidence
        item.cancel_message_id, item.cancel_by, item.cancel_at = message_id, "", now
