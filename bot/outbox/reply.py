"""Reply to a triage conversation by email, from Slack.

`ReplyService.draft` gathers what the Reply modal shows: the exact recipient and subject, the
customer's message, and a first draft (greeting, room to write, the message quoted below).
`ReplyService.send` sends what the manager wrote through the `Outbox`, threaded for the
customer's mail client (`In-Reply-To` the customer's latest email, `References` the thread,
`Re:` subject), logs it as outreach on the customer's open task, and records on the item the
first response (and the resolution, when the manager asked for it), with an audit entry. The
reply's Message-ID is recorded on the item, so the customer's answer threads there even when
their mail client keeps only `In-Reply-To`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.audit import SURFACE_MODAL, inbox_key
from bot.clock import Clock
from bot.inbox.models import ITEM_CLAIMED, ITEM_OPEN, ITEM_RESOLVED, ITEM_SNOOZED, TriageItem
from bot.models import Subscriber, Task
from bot.outbox.message import Draft, reply_subject
from bot.outbox.service import Outbox, OutreachLog, SendRequest, SendResult
from bot.outreach.thread import remember_sent
from bot.repos import Repos
from bot.roles import CareError, Permissions

MAX_DRAFT = 3000  # a plain_text_input holds at most 3,000 characters
QUOTE_CHARS = 1500  # of the customer's message, quoted below the draft
GENERATED_ID = "proactive-care>"  # ids the inbox made up for mail without one


@dataclass(frozen=True)
class ReplyDraft:
    """What the Reply modal shows and sends."""

    item_id: str
    to: str
    to_name: str
    subject: str
    quoted: str  # the customer's message, trimmed
    body: str  # the initial text of the draft
    received_at: datetime | None
    open_task: Task | None


@dataclass(frozen=True)
class ReplyResult:
    item: TriageItem
    sent: SendResult


class ReplyService:
    """Drafts and sends replies to inbox conversations. Share one instance.

    Args:
        repos: the store's repositories.
        outbox: sends the email (exactly once per modal).
        clock: the time source.
        tz: the team's timezone, for "On Jun 15, Ann wrote:".
        permissions: who may reply (the care managers).
    """

    def __init__(
        self, repos: Repos, outbox: Outbox, clock: Clock, tz: ZoneInfo, permissions: Permissions
    ) -> None:
        self.repos = repos
        self.outbox = outbox
        self.clock = clock
        self.tz = tz
        self.permissions = permissions

    def check(self, user: str) -> None:
        """What `draft` checks without the store: who asks, and whether sending is set up.

        Raises:
            NotAllowed: the user is not a manager.
            CareError: sending is off.
        """
        self.permissions.require(user)
        if not self.outbox.enabled:
            raise CareError(
                "Replying by email is not set up: set SMTP_HOST, SMTP_USER, SMTP_PASSWORD and "
                "SMTP_FROM (docs/inbox.md)."
            )

    def draft(self, item_id: str, user: str) -> ReplyDraft:
        """The Reply modal's content for this conversation.

        Raises:
            NotAllowed: the user is not a manager.
            CareError: no such conversation, no address to reply to, or sending is off.
        """
        self.check(user)
        item = self._item(item_id)
        snap = item.snapshot or {}
        sub = self.repos.subscribers.get(item.subscriber_id) if item.subscriber_id else None
        name = (sub.name if sub else "") or item.sender_name or str(snap.get("sender_name", ""))
        text = str(snap.get("text", "")).strip()
        quoted = text[:QUOTE_CHARS] + ("\n[…]" if len(text) > QUOTE_CHARS else "")
        received = _parse_time(str(snap.get("received_at", ""))) or item.created_at
        return ReplyDraft(
            item_id=item.id,
            to=item.sender,
            to_name=name,
            subject=reply_subject(item.subject),
            quoted=quoted,
            body=self._body(name, item.sender, quoted, received),
            received_at=received,
            open_task=self._open_task(sub),
        )

    def send(
        self,
        item_id: str,
        user: str,
        key: str,
        text: str,
        *,
        resolve: bool = True,
        close_task: bool = False,
    ) -> ReplyResult:
        """Send `text` as the reply; log it; record the response on the item.

        Args:
            key: the same for every attempt from one modal (its view id): a retry or double
                click never sends twice.
            resolve: mark the conversation resolved.
            close_task: close the customer's open tasks with the outreach log.

        Raises:
            NotAllowed: the user is not a manager.
            CareError: no such conversation or no address to reply to.
            SendError: the email was not sent; its message says why.
        """
        self.permissions.require(user)
        item = self._item(item_id)
        references = tuple(
            i for i in (item.key, item.last_message_id) if i and not i.endswith(GENERATED_ID)
        )
        draft = Draft(
            to=item.sender,
            to_name=item.sender_name,
            subject=reply_subject(item.subject),
            text=text,
            in_reply_to=references[-1] if references else "",
            references=references[:-1],
        )
        target = item.subscriber_id
        request = SendRequest(
            key=key,
            user=user,
            draft=draft,
            subscriber_id=item.subscriber_id,
            item_id=item.id,
            log=OutreachLog(target=target, close=close_task) if target else None,
        )
        sent = self.outbox.send(request)
        remember_sent(self.repos, sent.record, item)  # an answer to it threads here too
        return ReplyResult(self._responded(item.id, user, resolve), sent)

    def _responded(self, item_id: str, user: str, resolve: bool) -> TriageItem:
        now = self.clock.now()

        def respond(item: TriageItem) -> None:
            if item.responded_at is None:
                item.responded_at, item.responded_by = now, user
            if item.status in (ITEM_OPEN, ITEM_SNOOZED) or not item.claimed_by:
                item.status, item.claimed_by, item.claimed_at = ITEM_CLAIMED, user, now
                item.snoozed_until = None
            if resolve and item.status != ITEM_RESOLVED:
                item.status, item.resolved_by, item.resolved_at = ITEM_RESOLVED, user, now

        with self.repos.store.transaction():
            item = self.repos.inbox.mutate_item(item_id, respond)[0]
            where = item.subscriber_id or inbox_key(item.id)
            detail = "resolved" if resolve else ""
            self.repos.audit.record(
                where, now, user, "triage_reply", SURFACE_MODAL, item_id=item.id, detail=detail
            )
        return item

    def _item(self, item_id: str) -> TriageItem:
        item = self.repos.inbox.item(item_id)
        if item is None:
            raise CareError("No inbox item with that id. See /care triage for the open ones.")
        if not item.sender:
            raise CareError("This email has no sender address to reply to.")
        return item

    def _open_task(self, sub: Subscriber | None) -> Task | None:
        if sub is None:
            return None
        active = [t for t in self.repos.tasks.for_subscriber(sub.id) if t.active]
        return min(active, key=lambda t: (t.kind != "churn_risk", t.due), default=None)

    def _body(self, name: str, address: str, quoted: str, received: datetime | None) -> str:
        first = name.split()[0] if name.split() else ""
        greeting = f"Hi {first}," if first else "Hello,"
        if not quoted:
            return f"{greeting}\n\n"
        when = f"On {received.astimezone(self.tz):%b %d, %Y}, " if received else ""
        who = name or address
        lines = "\n".join(f"> {line}" if line else ">" for line in quoted.splitlines())
        body = f"{greeting}\n\n\n\n{when}{who} wrote:\n{lines}"
        return body[:MAX_DRAFT]


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None
