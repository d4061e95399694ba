"""Posting to the triage channel: new conversations, follow-ups in their threads, once each.

`SlackTriagePoster` is the `bot.inbox.delivery.TriagePoster` (and `bot.outreach.thread`'s
poster): it posts a new conversation's message, a follow-up email into its thread, our own
sent email's message, and a pointer to a customer's answer in the digest thread the outreach
came from. Every post is paced by the bot's one `Pacer` and goes through
`bot.posting.post_once` with a metadata key, so a lost answer from Slack never posts twice.
Slack being down raises `PostFailed` (the email waits); Slack refusing one message raises as is
(it counts towards parking). `email_snapshot` is what an item keeps of its email to redraw it.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.blocks.outreach_post import build_answer_note, build_outreach_post
from bot.blocks.triage_message import build_triage_message
from bot.blocks.triage_thread import build_triage_reply
from bot.inbox.context import TriageContext
from bot.inbox.delivery import PostFailed
from bot.inbox.models import TriageItem
from bot.inbox.parse import ParsedEmail
from bot.posting import UncertainPost, post_once
from handlers.context import Services
from handlers.slack_sink import SlackSink

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
