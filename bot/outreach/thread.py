"""The outreach's triage thread: where the customer's answer to an email we sent will land.

An email the team sends (from a digest entry's Email modal, or automatically) becomes a triage
item keyed by its Message-ID, in status "awaiting", posted in the triage channel as
"@dana emailed Ann Lee: subject". The inbox (`bot.inbox.conversation`) finds that item when the
customer answers, by `In-Reply-To`/`References`, or by the `Re:` subject and sender within
`[triage] thread_window_days`, and threads the answer under it; the item then opens like any
new email. A reply sent from a triage item (`bot.outbox.reply`) is already in a thread: its
Message-ID is recorded on that item, nothing is posted.

An email the bot sends by itself (tech touch, `bot.techtouch`) is recorded with `post=False`:
its item and Message-ID are written, but nothing is posted until the customer answers (a
hundred automatic emails a day would bury the channel); the answer then posts the item, "Sent
automatically to Ann Lee: subject", and threads under it like an answer to a person's email.

Order of effects: the item and the Message-ID record are written first, then the post. When
Slack does not take the post the email stays sent (nothing is sent again) and the item waits
without a Slack message: `OutreachThreads.post_pending` (the triage minute job) posts it later,
and an answer arriving first posts it before threading (`OutreachThreads.ensure_posted`).
Posts carry their item's key, so a post whose answer was lost is found, not repeated.
A post Slack refuses for itself (its blocks, its length: not an outage) is tried again on
`max_attempts` minutes, then parked as the inbox parks an email it cannot handle: listed in
`/care triage` with the error, `/care inbox retry ID` posts it, `drop ID` stops the list
showing it; it is no longer tried every minute (the customer's answer still posts it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from bot.clock import Clock
from bot.inbox.delivery import PostFailed
from bot.inbox.ids import normalize_address, normalize_id
from bot.inbox.ingest import MAX_ATTEMPTS
from bot.inbox.models import (
    ITEM_AWAITING,
    MESSAGE_SENT,
    POST_ON_ANSWER,
    POST_PARKED,
    POST_REFUSALS,
    SOURCE_OUTREACH,
    DeadLetter,
    InboxMessage,
    TriageItem,
)
from bot.inbox.text import normalize_subject
from bot.outbox.models import MAIL_SENT, SentMail
from bot.repos import Repos

log = logging.getLogger(__name__)

OUTREACH_TEXT = 3000  # of the sent text, kept to draw the post (the whole email is in Sent)
PARKED_KEY = "outreach:"  # + item id: the parked list's key of a parked outreach post


class OutreachPoster(Protocol):
    """Posts an outreach item's message in the triage channel (the Slack side implements it)."""

    def post_outreach(self, item: TriageItem, check_first: bool) -> tuple[str, str]:
        """Post `item`'s "@dana emailed ..." message. Returns (channel, ts).

        With `check_first`, an earlier attempt may have posted it: look for it first.
        Raises `PostFailed` when Slack did not take it.
        """
        ...


@dataclass(frozen=True)
class OutreachThread:
    """What `record` did: the item (None when there is no triage channel) and whether its
    message is in Slack; `warning` says, for the sender, what is not done yet."""

    item: TriageItem | None
    posted: bool = False
    warning: str = ""


def remember_sent(repos: Repos, sent: SentMail, item: TriageItem) -> None:
    """Record `sent`'s Message-ID as part of `item`'s conversation (idempotent)."""
    message_id = normalize_id(sent.message_id)
    if not message_id:
        return
    repos.inbox.record_message(
        InboxMessage(
            message_id=message_id,
            item_id=item.id,
            status=MESSAGE_SENT,
            at=sent.sent_at or sent.created_at,
            channel=item.slack.get("channel", ""),
            ts=item.slack.get("ts", ""),
            source=SOURCE_OUTREACH,
        )
    )


class OutreachThreads:
    """Opens the triage thread of each sent email. Share one instance.

    Args:
        repos: the store's repositories.
        clock: the time source.
        poster: posts to the triage channel; None when no triage channel is configured
            (then nothing is recorded, and an answer becomes an ordinary triage item).
        max_attempts: refusals of one item's post (not outages) before it is parked.
    """

    def __init__(
        self,
        repos: Repos,
        clock: Clock,
        poster: OutreachPoster | None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.repos = repos
        self.clock = clock
        self.poster = poster
        self.max_attempts = max_attempts

    def record(
        self,
        sent: SentMail,
        text: str = "",
        name: str = "",
        task_ids: list[str] | None = None,
        post: bool = True,
    ) -> OutreachThread:
        """Give a sent email its triage thread (safe to call again for the same email).

        Args:
            sent: the outbox's record, status "sent" (others are left alone).
            text: what was sent (the post shows the start of it).
            name: the customer's name as addressed.
            task_ids: the digest tasks the email was about.
            post: False for an email the bot sent by itself: the item has no sender
                ("Sent automatically") and is posted only when the customer answers.

        Returns:
            The item, whether it is posted, and a warning when the post must wait.
        """
        if self.poster is None or sent.status != MAIL_SENT:
            return OutreachThread(None)
        if sent.item_id:  # a reply from a triage item: already in its thread
            item = self.repos.inbox.item(sent.item_id)
            if item is not None:
                remember_sent(self.repos, sent, item)
            return OutreachThread(item, posted=bool(item and item.slack.get("ts")))
        item = self._item(sent, text, name, task_ids or [], post)
        if item is None or not post:
            return OutreachThread(item)
        try:
            item = self.ensure_posted(item)
        except PostFailed as exc:
            log.warning("outreach %s: triage post failed (%s); posting it later", item.id, exc)
            return OutreachThread(
                item,
                warning="Sent. Slack did not take the note in the triage channel; it is posted "
                "within minutes, and the customer's answer lands under it.",
            )
        return OutreachThread(item, posted=True)

    def ensure_posted(self, item: TriageItem) -> TriageItem:
        """`item` with its Slack message, posting it first when an earlier post failed.

        Raises:
            PostFailed: Slack did not take it (nothing recorded; try again later).
        """
        if item.slack.get("ts") or self.poster is None:
            return item
        check_first = bool(item.snapshot.get("post_tried"))
        if not check_first:  # a later attempt looks in Slack before posting again
            item = self.repos.inbox.mutate_item(item.id, _tried)[0]
        channel, ts = self.poster.post_outreach(item, check_first)

        def posted(current: TriageItem) -> None:
            current.slack = {"channel": channel, "ts": ts}

        item = self.repos.inbox.mutate_item(item.id, posted)[0]
        log.info("outreach %s posted in the triage channel as item %s", item.key, item.id)
        if item.snapshot.get(POST_REFUSALS):  # posted at last (the answer, a retry): unpark
            letter = self.repos.inbox.dead.by_key(PARKED_KEY + item.id)
            if letter is not None:
                self.repos.inbox.dead.drop(letter)
            item = self.repos.inbox.mutate_item(item.id, _unparked)[0]
        return item

    def post_pending(self, limit: int = 20) -> int:
        """Post outreach items whose post failed earlier (the triage minute job); automatic
        emails' items wait for the customer's answer. Slack down stops the turn; a refusal of
        one item's post (its blocks, say) is counted, parked at `max_attempts`, and the next
        item is tried. Reads only the items awaiting their post (`InboxRepo.awaiting_post`)."""
        done = 0
        for item in self.repos.inbox.awaiting_post()[:limit]:
            try:
                self.ensure_posted(item)
            except PostFailed as exc:
                log.warning("outreach %s: triage post still failing: %s", item.id, exc)
                break  # Slack is down: the next minute tries again
            except Exception as exc:  # about this item's message: the others still go
                self._refused(item, exc)
                continue
            done += 1
        return done

    def _refused(self, item: TriageItem, exc: Exception) -> None:
        """Count a refusal of `item`'s post; at `max_attempts` park it (the parked list first,
        then the item's flag: a kill between the two parks it again, once, the next minute)."""
        error = refusal(exc)

        def count(current: TriageItem) -> int:
            refusals = int(current.snapshot.get(POST_REFUSALS, 0)) + 1
            current.snapshot = {**current.snapshot, POST_REFUSALS: refusals}
            return refusals

        item, refusals = self.repos.inbox.mutate_item(item.id, count)
        if refusals < self.max_attempts:
            log.warning(
                "outreach %s: %s (%d of %d); trying again next minute",
                item.id,
                error,
                refusals,
                self.max_attempts,
                exc_info=exc,
            )
            return
        letter = DeadLetter(
            id="",
            key=PARKED_KEY + item.id,
            parked_at=self.clock.now(),
            attempts=refusals,
            error=error,
            message_id=item.key,
            subject=item.subject[:200],
            sender=item.sender,
            source=SOURCE_OUTREACH,
        )
        letter = self.repos.inbox.dead.park(letter, b"")
        self.repos.inbox.mutate_item(item.id, _parked)
        log.error(
            "outreach %s: %s, %d times; parked as %s (see /care triage)",
            item.id,
            error,
            refusals,
            letter.id,
        )

    def retry_parked(self, letter: DeadLetter) -> TriageItem:
        """`/care inbox retry ID` of a parked outreach post: post it now; it leaves the
        parked list once Slack takes it (see `ensure_posted`), else it stays there.

        Raises:
            LookupError: its item is gone.
            PostFailed, or Slack's refusal: not posted (still parked).
        """
        item = self.repos.inbox.require_item(letter.key.removeprefix(PARKED_KEY))
        if item.slack.get("ts"):  # posted meanwhile
            self.repos.inbox.dead.drop(letter)
            return item
        return self.ensure_posted(item)

    def _item(
        self, sent: SentMail, text: str, name: str, task_ids: list[str], post: bool
    ) -> TriageItem | None:
        key, sender = normalize_id(sent.message_id), normalize_address(sent.to)
        if not key or not sender:
            return None
        inbox = self.repos.inbox
        with self.repos.store.lock:
            item = inbox.item_by_key(key)
            if item is not None:
                return item
            at = sent.sent_at or sent.created_at
            item = TriageItem(
                id=inbox.new_item_id(key, lambda c: self.repos.tasks.get(c) is not None),
                key=key,
                subject=sent.subject,
                normalized_subject=normalize_subject(sent.subject),
                sender=sender,
                sender_name=name,
                created_at=at,
                last_message_at=at,
                subscriber_id=sent.subscriber_id,
                status=ITEM_AWAITING,
                message_count=0,
                source=SOURCE_OUTREACH,
                snapshot={
                    "outreach_text": text[:OUTREACH_TEXT],
                    **({} if post else {POST_ON_ANSWER: True}),
                },
                outreach_by=sent.by if post else "",
                outreach_tasks=list(task_ids),
            )
            inbox.create_item(item)
            remember_sent(self.repos, sent, item)
        return item


def _tried(item: TriageItem) -> None:
    item.snapshot = {**item.snapshot, "post_tried": True}


def _parked(item: TriageItem) -> None:
    item.snapshot = {**item.snapshot, POST_PARKED: True}


def _unparked(item: TriageItem) -> None:
    gone = (POST_PARKED, POST_REFUSALS)
    item.snapshot = {k: v for k, v in item.snapshot.items() if k not in gone}


def refusal(exc: Exception) -> str:
    """What Slack said of a post it refused ("invalid_blocks"), else the exception."""
    response: Any = getattr(exc, "response", None)
    error = response.get("error", "") if hasattr(response, "get") else ""
    return f"Slack refused the post: {error}" if error else f"{type(exc).__name__}: {exc}"[:300]
