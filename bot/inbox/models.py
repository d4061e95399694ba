"""Stored records of the shared inbox: triage items, handled messages, sync and connector state.

A `TriageItem` is one email conversation in the triage channel (one Slack message with a
thread). An `InboxMessage` records that one Message-ID was handled (posted as a new item or
into an item's thread), which is what makes re-fetching a message harmless. Datetimes are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.mapping import Finite, Model, UTCDateTime

ITEM_OPEN, ITEM_CLAIMED, ITEM_RESOLVED, ITEM_SNOOZED = "open", "claimed", "resolved", "snoozed"
# An outreach email we sent, waiting for the customer's answer (bot.outreach.thread): not work
# for anyone until the customer writes back, when it becomes open like any new email.
ITEM_AWAITING = "awaiting"
ITEM_STATUSES = (ITEM_OPEN, ITEM_CLAIMED, ITEM_RESOLVED, ITEM_SNOOZED, ITEM_AWAITING)
ACTIVE_ITEM_STATUSES = frozenset({ITEM_OPEN, ITEM_CLAIMED, ITEM_SNOOZED})
SOURCE_OUTREACH = "outreach"  # an item that began with an email the team sent
# Snapshot flags of an outreach item (bot.outreach.thread): an automatic email's item, posted
# only when the customer answers; the refusals of its triage post counted so far; parked after
# too many (listed in `/care triage` with the parked emails, no longer tried every minute).
POST_ON_ANSWER, POST_REFUSALS, POST_PARKED = "post_on_answer", "post_refusals", "post_parked"

# A message record is written "posting" (with its item id) BEFORE the Slack post, then
# "posted"/"threaded" with the ts: a failure between the two never posts it twice, because a
# retry that finds "posting" looks for the message in Slack (by its metadata) first.
MESSAGE_POSTING, MESSAGE_POSTED, MESSAGE_THREADED = "posting", "posted", "threaded"
# An email the team SENT in the conversation: a customer's answer to it (In-Reply-To) threads
# there, and the email itself, should it come back into the inbox (Bcc, a list), is a duplicate.
MESSAGE_SENT = "sent"


class TriageItem(Model):
    """One email conversation awaiting (or done with) a person in the triage channel."""

    id: str  # short and typeable, e.g. "q4m7x"
    key: str  # the Message-ID of the conversation's first email
    subject: str  # "" for an email without a Subject
    normalized_subject: str
    sender: str  # normalised address (bot.inbox.ids); "" without a From address
    created_at: UTCDateTime
    last_message_at: UTCDateTime
    sender_name: str = ""
    subscriber_id: str = ""
    intent: str = "other"  # the highest-priority intent that counts (the list's first)
    intents: list[str] = []  # every intent the conversation asks for, in priority order
    triggers: dict[str, str] = {}  # intent -> the words that triggered it (raw outside text)
    set_aside: list[list[str]] = []  # [intent, "negated"|"hedged", words]: mentioned, not counted
    cancel: str = ""  # "" | pending | counted | confirmed | dismissed (see bot.inbox.cancel)
    cancel_confidence: Finite = 0.0
    cancel_message_id: str = ""  # the email whose cancel request it is
    cancel_by: str = ""  # who confirmed or dismissed it
    cancel_at: UTCDateTime | None = None
    status: str = ITEM_OPEN
    claimed_by: str = ""
    claimed_at: UTCDateTime | None = None
    snoozed_until: UTCDateTime | None = None
    resolved_by: str = ""
    resolved_at: UTCDateTime | None = None
    reminded_at: UTCDateTime | None = None
    slack: dict[str, str] = {}  # {"channel", "ts"}
    churn_task_id: str = ""
    message_count: int = 1  # the customer's emails (0 for an outreach not answered yet)
    source: str = ""  # "imap:<host>/<folder>", "webhook" or "outreach"
    # What the Slack message shows of the first email (sender, subject, trimmed text,
    # attachments, notes), so the message can be redrawn after a claim without the email.
    snapshot: dict[str, Any] = {}
    last_message_id: str = ""  # the customer's latest email in the conversation (threading)
    responded_at: UTCDateTime | None = None  # first reply sent by email from Slack
    responded_by: str = ""
    # An item that began with our outreach email (source "outreach"): who sent it ("" for the
    # bot itself), the digest tasks it was about, and when the customer first answered.
    outreach_by: str = ""
    outreach_tasks: list[str] = []
    answered_at: UTCDateTime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_ITEM_STATUSES

    @property
    def awaits_post(self) -> bool:
        """An outreach item whose triage post the minute job still has to make: not posted,
        not an automatic email's (posted on the answer), not parked."""
        snap = self.snapshot
        return (
            self.source == SOURCE_OUTREACH
            and not self.slack.get("ts")
            and not snap.get(POST_ON_ANSWER)
            and not snap.get(POST_PARKED)
        )

    @property
    def opened_at(self) -> datetime | None:
        """When the customer's side of the conversation began: their first email (None for an
        outreach not answered yet). Response and resolution times count from here."""
        if self.source == SOURCE_OUTREACH:
            return self.answered_at
        return self.created_at


class InboxMessage(Model):
    """One handled email, by Message-ID: where it went in Slack."""

    message_id: str
    item_id: str
    status: str  # posting | posted | threaded
    at: UTCDateTime
    channel: str = ""
    ts: str = ""
    uid: int = 0
    source: str = ""


class SyncState(Model):
    """IMAP progress for one mailbox folder: the UIDVALIDITY and the last handled UID.

    `since` is fixed at the first sync: mail that arrived in the mailbox before that day is
    left alone, so connecting a mailbox with years of history does not flood Slack.
    """

    host: str
    user: str
    folder: str
    uidvalidity: int = 0
    last_uid: int = 0
    since: date | None = None

    @property
    def key(self) -> str:
        return f"{self.user}@{self.host}/{self.folder}"


class ConnectorStatus(Model):
    """What `/care stats` and the log say about the inbox connector."""

    key: str  # user@host/folder
    state: str = "starting"  # starting | connected | retrying | stopped
    connected: bool = False
    last_poll_at: UTCDateTime | None = None
    last_success_at: UTCDateTime | None = None
    consecutive_failures: int = 0
    last_error: str = ""
    handled: int = 0  # messages handled since the connector started counting
    updated_at: UTCDateTime | None = None


class DeadLetter(Model):
    """An email that kept failing for a reason other than Slack: parked, not retried by itself.

    `key` is a digest of the raw bytes (the Message-ID may be what is broken); the raw email is
    kept beside it so `/care inbox retry ID` can run it again, `/care inbox drop ID` forgets it.
    """

    id: str  # short and typeable, e.g. "d7k2m"
    key: str
    parked_at: UTCDateTime
    attempts: int = 0
    error: str = ""
    message_id: str = ""
    subject: str = ""
    sender: str = ""
    source: str = ""
    uid: int = 0
    size: int = 0
