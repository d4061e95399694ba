"""Triage views for the shared inbox: the data each view shows, and the text they share.

The inbox service fills a `TriageView` (plain data: who wrote, what, and what we know about
them); one builder module per view turns it into Block Kit:

- `bot.blocks.triage_message`: the channel message, one per email conversation (posted, then
  `chat.update`d on claims, resolves, snoozes and replies with the same builder);
- `bot.blocks.triage_thread`: what goes into its thread: "Show full email", a new reply's
  text, the one reminder of an unclaimed item;
- `bot.blocks.triage_list`: `/care triage`, the open items and the parked emails.

Here: `TriageView` and its parts, the escaped pieces of text every view (and
`bot.blocks.outreach_post`) shows, and the few Block Kit elements they are built of. Email
text is outside text: it is always escaped, and trimmed to fit, with the full text one click
away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.context import subscriber_context
from bot.blocks.entry import reached_text
from bot.blocks.limits import MAX_SECTION_TEXT
from bot.blocks.text import clip, escape, one_line, truncate
from bot.models import Outreach, Risk, Subscriber, Task

TRIAGE_OPEN, TRIAGE_CLAIMED, TRIAGE_RESOLVED = "open", "claimed", "resolved"
PREVIEW_CHARS = 1500  # of the new text, in the channel message


@dataclass
class Attachment:
    """An attachment listed by name and size (never posted)."""

    name: str
    size: int | None = None
    content_type: str = ""


@dataclass(frozen=True)
class CancelState:
    """A cancel request found in the email (bot.inbox.cancel): its state and who decided."""

    state: str = ""  # "" | pending | counted | confirmed | dismissed
    confidence: float = 0.0
    by: str = ""
    at: datetime | None = None


@dataclass
class TriageView:
    """What a triage message shows. Strings are raw outside text; builders escape them.

    `item_id` must be a short id of letters/digits (it goes into button values).
    """

    item_id: str
    sender_email: str
    sender_name: str = ""
    subject: str = ""
    text: str = ""  # the new text: quoted replies and signatures already stripped
    received_at: datetime | None = None
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # malformed parts, charset guesses, ...
    intent: str = "other"
    intents: list[tuple[str, str]] = field(default_factory=list)  # (intent, trigger words)
    set_aside: list[tuple[str, ...]] = field(default_factory=list)  # (intent, why, words)
    cancel: CancelState = CancelState()
    subscriber: Subscriber | None = None
    stage: str = ""
    risk: Risk | None = None
    open_task: Task | None = None  # the subscriber's open task, with its claimant
    churn_task: Task | None = None
    churn_task_link: str = ""  # permalink to the churn task's digest message
    status: str = TRIAGE_OPEN
    claimed_by: str = ""
    claimed_at: datetime | None = None
    resolved_by: str = ""
    resolved_at: datetime | None = None
    snoozed_until: datetime | None = None
    reopened: bool = False
    messages: int = 1  # emails in the conversation so far
    contact: Outreach | None = None  # the customer's last contact, by any route
    outreach_at: datetime | None = None  # the conversation began with our email, sent then
    outreach_by: str = ""  # by this manager ("" for the bot itself)
    outreach_text: str = ""  # the start of what we sent


def sender_text(view: TriageView) -> str:
    """ "*Jane Doe* · jane@example.com", escaped."""
    name = clip(one_line(view.sender_name), 150)
    email = clip(one_line(view.sender_email), 254) or "unknown sender"
    return f"*{name}*  ·  {email}" if name else f"*{email}*"


def subject_text(view: TriageView, limit: int = 250) -> str:
    """The subject on one line, escaped and trimmed, or "(no subject)"."""
    return clip(one_line(view.subject), limit) or "(no subject)"


def preview(text: str, limit: int = PREVIEW_CHARS) -> tuple[str, bool]:
    """The escaped new text trimmed to `limit` characters, and whether it was trimmed."""
    escaped = escape((text or "").strip())
    if not escaped:
        return "_(no text)_", False
    cut = truncate(escaped, limit)
    return cut, cut != escaped


def subscriber_text(view: TriageView, today: date, tz: ZoneInfo) -> str:
    """Who the customer is (or that they are unknown) and when the team last reached them."""
    sub = view.subscriber
    if sub is None:
        return ":grey_question: *Not a known subscriber*: no subscription matches this address."
    text = subscriber_context(
        sub,
        today,
        stage=view.stage,
        risk=view.risk,
        open_task=view.open_task,
        churn_task=view.churn_task,
        churn_link=view.churn_task_link,
    )
    if view.contact is not None:
        text = truncate(text + "\n" + reached_text(view.contact, today, tz), MAX_SECTION_TEXT)
    return text


def section(text: str) -> dict[str, Any]:
    """A section of mrkdwn (escaped by the caller)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict[str, Any]:
    """A context line of mrkdwn (escaped by the caller)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    """A button whose value names the item (`ids.encode_ids`)."""
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element
