"""Posting one email to Slack and storing it, in an order that never posts twice.

Order of effects: the cancel signal and churn task are written before this (both are
idempotent: a retry finds them). Then the message record is written in state "posting" with
the item id it will have, THEN the poster is called, and the item is written last: for a new
conversation that one write also finishes the record (the item's key is the email and it holds
the Slack ts: `InboxRepo.message` reads such a record as posted); a reply's record is marked
threaded after its item. A failure anywhere after the first write leaves "posting" behind: the
retry asks the poster to look for the message in Slack (by its metadata) before posting, so a
failed write can never cause a second post.

`TriagePoster` is what the Slack side implements (`handlers/triage_post.py`); it raises
`PostFailed` when Slack does not take a post (outage, rate limit, channel gone): the email is
retried later, never parked. `Delivery` is used by `bot.inbox.ingest.Ingestor`, one email at a
time.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.inbox.context import TriageContext
from bot.inbox.conversation import take_intents
from bot.inbox.models import (
    ITEM_AWAITING,
    ITEM_OPEN,
    ITEM_RESOLVED,
    ITEM_SNOOZED,
    MESSAGE_POSTING,
    MESSAGE_THREADED,
    InboxMessage,
    TriageItem,
)
from bot.inbox.parse import ParsedEmail
from bot.inbox.text import normalize_subject
from bot.repos import Repos
from config.settings import Settings

log = logging.getLogger(__name__)


class PostFailed(Exception):
    """Slack did not take a post (outage, rate limit, channel gone): retried, never parked."""


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
class Arrival:
    """How one email came in: its source, IMAP UID, when, and an earlier attempt's record."""

    source: str
    uid: int
    now: datetime
    seen: InboxMessage | None


class Delivery:
    """Posts an email through the poster and stores its item and record around the post.

    Args:
        repos: the repositories (inbox, tasks for the item ids).
        settings: the triage intents, whose order ranks a conversation's intents.
        poster: where items are posted.
    """

    def __init__(self, repos: Repos, settings: Settings, poster: TriagePoster) -> None:
        self.repos = repos
        self.settings = settings
        self.poster = poster

    def post_new(
        self, parsed: ParsedEmail, context: TriageContext, arrival: Arrival
    ) -> tuple[TriageItem, str]:
        """Start a conversation: its record "posting", the post, then the item (which finishes
        the record). Returns the item and its message's ts."""
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
        take_intents(item, context, parsed.message_id, now, self._priority())
        if seen is None:
            self._write_ahead(parsed, item, arrival)
        channel, ts = self.poster.post_item(item, parsed, context, check_first=seen is not None)
        item.slack = {"channel": channel, "ts": ts}
        inbox.create_item(item)  # also finishes the record: its key is this email (repos.inbox)
        log.info("inbox: posted %s from %s as item %s", parsed.message_id, item.sender, item.id)
        return item, ts

    def _write_ahead(self, parsed: ParsedEmail, item: TriageItem, arrival: Arrival) -> None:
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

    def post_reply(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext, arrival: Arrival
    ) -> tuple[TriageItem, str]:
        """Thread an email into its conversation: its record "posting", the post in the thread,
        then the item and the record "threaded" in one locked write. Returns the item, the ts."""
        now = arrival.now
        if arrival.seen is None:
            self._write_ahead(parsed, item, arrival)
        check_first = arrival.seen is not None
        folded = copy.copy(item)  # what the conversation's message shows once this email counts
        if context.answered:  # our outreach's first answer: from now on an open conversation
            folded.status, folded.answered_at, folded.message_count = ITEM_OPEN, now, 1
        take_intents(folded, context, parsed.message_id, now, self._priority())
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
            take_intents(current, context, parsed.message_id, now, self._priority())

        with self.repos.store.lock:
            item = self.repos.inbox.mutate_item(item.id, update)[0]
            channel = item.slack.get("channel", "")
            self.repos.inbox.finish_message(parsed.message_id, MESSAGE_THREADED, channel, ts)
        log.info("inbox: threaded %s into item %s", parsed.message_id, item.id)
        return item, ts

    def _priority(self) -> list[str]:
        return [intent.name for intent in self.settings.triage.intents]

    def _task_id_taken(self, candidate: str) -> bool:
        return self.repos.tasks.get(candidate) is not None
