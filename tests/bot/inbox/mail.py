"""Test helpers for the inbox: email builders and the recording poster (the only fake).

The poster stands in for Slack; everything else in the inbox tests is real (parser, store,
engine, Dovecot).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from bot.inbox.context import TriageContext
from bot.inbox.delivery import PostFailed
from bot.inbox.models import TriageItem
from bot.inbox.parse import ParsedEmail

_counter = itertools.count(1)


def make_email(
    subject: str = "Question about my box",
    body: str = "Hi, when does my next box ship?",
    sender: str = "Ann Lee <ann@example.com>",
    to: str = "support@shop.example",
    message_id: str | None = None,
    date: str = "Mon, 15 Jun 2026 13:00:00 +0000",
    headers: dict[str, str] | None = None,
    html: str | None = None,
) -> bytes:
    """A well-formed message as a mail client would send it."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = message_id or make_msgid(f"t{next(_counter)}", "mail.example.com")
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is not None and body:
        msg.set_content(body)
        msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body)
    return msg.as_bytes()


def reply_to(
    original: bytes, body: str, sender: str = "Ann Lee <ann@example.com>", **kw: str
) -> bytes:
    """A reply to `original` with In-Reply-To/References set, as mail clients do."""
    from email import message_from_bytes
    from email.policy import default

    parent = message_from_bytes(original, policy=default)
    parent_id = str(parent["Message-ID"])
    subject = str(parent["Subject"])
    headers = {"In-Reply-To": parent_id, "References": parent_id}
    return make_email(
        subject=kw.pop("subject", f"Re: {subject}"), body=body, sender=sender, headers=headers, **kw
    )


class SlackDown(PostFailed):
    """What the fake poster raises to simulate a Slack outage."""


@dataclass
class Post:
    kind: str  # item | reply
    item: TriageItem
    parsed: ParsedEmail
    context: TriageContext
    ts: str


@dataclass
class RecordingPoster:
    """Records every post; `fail_next` makes the next N posts raise SlackDown."""

    channel: str = "CTRIAGE"
    fail_next: int = 0
    posts: list[Post] = field(default_factory=list)
    checked_first: list[bool] = field(default_factory=list)  # each call's check_first
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _next_ts(self) -> str:
        if self.fail_next:
            self.fail_next -= 1
            raise SlackDown("Slack answered 500")
        return f"1781000000.{next(self._ts):06d}"

    def post_item(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext, check_first: bool
    ) -> tuple[str, str]:
        self.checked_first.append(check_first)
        ts = self._next_ts()
        self.posts.append(Post("item", item, parsed, context, ts))
        return self.channel, ts

    def post_reply(
        self, item: TriageItem, parsed: ParsedEmail, context: TriageContext, check_first: bool
    ) -> str:
        self.checked_first.append(check_first)
        ts = self._next_ts()
        self.posts.append(Post("reply", item, parsed, context, ts))
        return ts

    @property
    def message_ids(self) -> list[str]:
        return [p.parsed.message_id for p in self.posts]

    @property
    def subjects(self) -> list[str]:
        return [p.parsed.subject for p in self.posts]
