"""Triage messages for the shared inbox: one message per email conversation, in Slack.

The inbox service fills a `TriageView` (plain data: who wrote, what, and what we know about
them) and posts `build_triage_message(view, ...)`; claims and resolves `chat.update` it with
the same builder. Email text is outside text: it is always escaped, and trimmed to fit, with
the full text one click away ("Show full email" posts `build_full_email_messages` in the
thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import ids
from bot.blocks.context import subscriber_context
from bot.blocks.entry import reached_text
from bot.blocks.labels import INTENT_EMOJI, intent_label
from bot.blocks.limits import MAX_BLOCKS_MESSAGE, MAX_SECTION_TEXT
from bot.blocks.text import (
    bullet_list,
    clip,
    duration_minutes,
    escape,
    file_size,
    local,
    one_line,
    slack_date,
    split_escaped,
    truncate,
    user_ref,
)
from bot.inbox.models import SOURCE_OUTREACH, DeadLetter
from bot.models import Outreach, Risk, Subscriber, Task

TRIAGE_OPEN, TRIAGE_CLAIMED, TRIAGE_RESOLVED = "open", "claimed", "resolved"
SNOOZE_MINUTES = ((60, "1 hour"), (240, "4 hours"), (1440, "1 day"), (4320, "3 days"))
PREVIEW_CHARS = 1500  # of the new text, in the channel message
FULL_SECTIONS_PER_MESSAGE = 40
MAX_FULL_MESSAGES = 20  # ~2.3 MB of text; beyond that the thread would drown


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


def _quote(words: str) -> str:
    return f"\u201c{clip(one_line(words), 100)}\u201d" if words.strip() else ""


def intents_text(view: TriageView) -> str:
    """Each intent the email asks for with the words that triggered it, escaped and clipped:
    ':rotating_light: *Cancel request* “please cancel my plan”  ·  :label: *Pause / skip* ...'."""
    shown = view.intents or [(view.intent or "other", "")]
    parts = []
    for name, words in shown[:6]:
        emoji = INTENT_EMOJI.get(name, ":label:")
        parts.append(f"{emoji} *{intent_label(name)}* {_quote(words)}".rstrip())
    return truncate("  ·  ".join(parts), 1900)


def _set_aside(view: TriageView) -> list[dict[str, Any]]:
    """Mentions read as negated or hedged: shown so a person can see why they do not count."""
    rows = [r for r in view.set_aside if len(r) == 3][:4]
    if not rows:
        return []
    parts = [f"{intent_label(name)} ({escape(why)}) {_quote(words)}" for name, why, words in rows]
    return [_context(truncate("Not counted: " + "  ·  ".join(parts), 1900))]


def cancel_blocks(view: TriageView, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The cancel request and its one-click Confirm / Dismiss as a churn signal."""
    cancel = view.cancel
    if not cancel.state:
        return []
    item = ids.encode_ids([view.item_id])
    sure = f"{round(cancel.confidence * 100)}% sure"
    by = f" by {user_ref(cancel.by)}" if cancel.by else ""
    when = f" at {slack_date(cancel.at, tz=tz)}" if cancel.at and cancel.by else ""
    confirm = _button("Confirm churn signal", ids.ACTION_TRIAGE_CANCEL_CONFIRM, item, "danger")
    dismiss = _button("Not a cancel request", ids.ACTION_TRIAGE_CANCEL_DISMISS, item)
    if cancel.state == "pending":
        text = (
            f":warning: *Cancel request?* Read as one ({sure}), not counted in the churn "
            "score until someone confirms it."
        )
        buttons = [confirm, dismiss]
    elif cancel.state == "dismissed":
        text = f":heavy_minus_sign: Dismissed as a cancel request{by}{when}: not in the score."
        buttons = [_button("Count it after all", ids.ACTION_TRIAGE_CANCEL_CONFIRM, item)]
    elif cancel.state == "confirmed":
        text = f":rotating_light: *Cancel request* confirmed{by}{when}: counts as a churn signal."
        buttons = [dismiss]
    else:
        text = f":rotating_light: *Cancel request* ({sure}): counts as a churn signal."
        buttons = [dismiss]
    actions = {"type": "actions", "block_id": ids.BLOCK_TRIAGE_CANCEL, "elements": buttons}
    return [_section(text), actions]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


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


def _state(view: TriageView, tz: ZoneInfo, now: datetime, trimmed: bool) -> list[dict[str, Any]]:
    item = ids.encode_ids([view.item_id])
    show_full = _button("Show full email", ids.ACTION_TRIAGE_SHOW_FULL, item)
    if view.status == TRIAGE_RESOLVED:
        who = f" by {user_ref(view.resolved_by)}" if view.resolved_by else ""
        when = f" at {slack_date(view.resolved_at, tz=tz)}" if view.resolved_at else ""
        note = f":white_check_mark: Resolved{who}{when}"
        elements = [_button("Reopen", ids.ACTION_TRIAGE_REOPEN, item)]
    elif view.status == TRIAGE_CLAIMED:
        when = f" at {slack_date(view.claimed_at, tz=tz)}" if view.claimed_at else ""
        note = f":raised_hand: Claimed by {user_ref(view.claimed_by)}{when}"
        elements = [
            _button("Resolve", ids.ACTION_TRIAGE_RESOLVE, item, "primary"),
            _button("Release", ids.ACTION_TRIAGE_RELEASE, item),
        ]
    else:
        note = "Unclaimed: claim it so the customer gets one answer."
        if view.snoozed_until and view.snoozed_until > now:
            note = f":zzz: Snoozed until {slack_date(view.snoozed_until, tz=tz)}"
        options = [
            {"text": {"type": "plain_text", "text": label}, "value": ids.encode_choice(m, [item])}
            for m, label in SNOOZE_MINUTES
        ]
        elements = [
            _button("Claim", ids.ACTION_TRIAGE_CLAIM, item, "primary"),
            _button("Resolve", ids.ACTION_TRIAGE_RESOLVE, item),
            {
                "type": "static_select",
                "action_id": ids.ACTION_TRIAGE_SNOOZE,
                "placeholder": {"type": "plain_text", "text": "Snooze…"},
                "options": options,
            },
        ]
    if view.sender_email:  # only the modal's Send reaches the customer
        elements.insert(1, _button("Reply", ids.ACTION_TRIAGE_REPLY, item))
    if trimmed:
        elements.append(show_full)
    actions = {"type": "actions", "block_id": ids.BLOCK_TRIAGE_ACTIONS, "elements": elements}
    return [_context(note), actions]


def build_triage_message(view: TriageView, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """The triage channel message for one conversation (post, then `chat.update` on changes).

    Args:
        view: the conversation and its context.
        now: the current time (for snooze state).
        tz: the team's timezone.

    Returns:
        {"text", "blocks"}: sender, subject, intent, the trimmed new text, attachments, notes,
        subscriber context, and Claim / Resolve / Snooze (or the claimed/resolved state).
    """
    today = local(now, tz).date()
    head = f":envelope: *{subject_text(view)}*\nFrom {sender_text(view)}"
    if view.received_at:
        head += f"  ·  {slack_date(view.received_at, tz=tz)}"
    tags = [intents_text(view)]
    if view.reopened:
        tags.append(":leftwards_arrow_with_hook: reopened by a new reply")
    if view.messages > 1:
        tags.append(f"{view.messages} emails in this conversation")
    if view.outreach_at:
        by = f"{user_ref(view.outreach_by)}'s" if view.outreach_by else "our automatic"
        tags.append(f":outbox_tray: answers {by} email of {slack_date(view.outreach_at, tz=tz)}")
    body, trimmed = preview(view.text)
    if trimmed:
        body += (
            f"\n_Trimmed: {len(view.text or ''):,} characters in full. *Show full email* below._"
        )
    blocks: list[dict[str, Any]] = [
        _section(head),
        _context("  ·  ".join(tags)),
        *_set_aside(view),
        *cancel_blocks(view, tz),
        _section(body),
    ]
    if view.attachments:
        names = [
            f"{clip(one_line(a.name), 150) or 'unnamed'} ({file_size(a.size)})"
            for a in view.attachments
        ]
        blocks.append(
            _section(":paperclip: *Attachments* (not posted)\n" + bullet_list(names, 2500))
        )
    if view.notes:
        notes = [clip(one_line(n), 300) for n in view.notes]
        blocks.append(_context(":warning: " + truncate(" · ".join(notes), 2900)))
    who = _section(subscriber_text(view, today, tz))
    if view.subscriber is None and "@" in view.sender_email:
        item = ids.encode_ids([view.item_id])
        who["accessory"] = _button("Link to a subscriber", ids.ACTION_TRIAGE_LINK, item)
    blocks.append(who)
    blocks.extend(_state(view, tz, now, trimmed))
    fallback = f"Email from {clip(one_line(view.sender_name or view.sender_email), 100)}: {subject_text(view, 150)}"
    return {"text": fallback, "blocks": blocks}


def build_triage_reminder(view: TriageView, waited_minutes: float) -> dict[str, Any]:
    """The one reminder posted in an unclaimed item's thread."""
    text = (
        f":alarm_clock: Still unclaimed after {duration_minutes(waited_minutes)} of business "
        f"hours: *{subject_text(view, 200)}* from {sender_text(view)}. Who takes it?"
    )
    actions = {
        "type": "actions",
        "block_id": ids.BLOCK_TRIAGE_ACTIONS,
        "elements": [
            _button("Claim", ids.ACTION_TRIAGE_CLAIM, ids.encode_ids([view.item_id]), "primary")
        ],
    }
    return {
        "text": f"Still unclaimed: {subject_text(view, 150)}",
        "blocks": [_section(text), actions],
    }


def build_full_email_messages(
    view: TriageView, text: str | None = None, heading: str | None = None
) -> list[dict[str, Any]]:
    """The full text as thread replies, split to fit (for Show full email, and for replies).

    Args:
        view: the conversation (sender and subject for the heading).
        text: the text to post; `view.text` by default (a reply's own text for replies).
        heading: mrkdwn heading, escaped by the caller; default "Full text of ...".

    Returns:
        One or more {"text", "blocks"} messages, each within 50 blocks of <= 3000 chars; at
        most 20 messages, the last saying how much was left out.
    """
    raw = view.text if text is None else text
    pieces = split_escaped((raw or "").strip(), MAX_SECTION_TEXT - 100) or ["_(no text)_"]
    first = heading or f"Full text of *{subject_text(view, 200)}* from {sender_text(view)}"
    messages: list[dict[str, Any]] = []
    per = min(FULL_SECTIONS_PER_MESSAGE, MAX_BLOCKS_MESSAGE - 2)
    for start in range(0, len(pieces), per):
        if len(messages) == MAX_FULL_MESSAGES:
            left = sum(len(p) for p in pieces[start:])
            messages[-1]["blocks"].append(
                _context(
                    f":scissors: About {left:,} more characters not posted: too long for Slack."
                )
            )
            break
        blocks = [_section(p) for p in pieces[start : start + per]]
        if not messages:
            blocks.insert(0, _context(first))
        part = f" (part {len(messages) + 1})" if len(pieces) > per else ""
        messages.append({"text": f"Email text{part}: {subject_text(view, 150)}", "blocks": blocks})
    return messages


def build_triage_reply(
    view: TriageView, text: str, now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """A new email in a known conversation, for its thread: who wrote, then all of its text."""
    heading = f":leftwards_arrow_with_hook: New reply from {sender_text(view)}  ·  {slack_date(now, tz=tz)}"
    if view.reopened:
        heading += "\nThe conversation was resolved: it is open again."
    return build_full_email_messages(view, text, heading)


def build_triage_list(
    items: Sequence[TriageView],
    now: datetime,
    tz: ZoneInfo,
    parked: Sequence[DeadLetter] = (),
) -> dict[str, Any]:
    """`/care triage`: the open items in the order given (`bot.priority`), with who has
    each; then parked emails."""
    parked_blocks = build_parked_blocks(parked, tz)
    if not items:
        text = "No open inbox items. :tada:"
        return {"text": text, "blocks": [_section(text), *parked_blocks][:MAX_BLOCKS_MESSAGE]}
    ordered = list(items)
    lines = []
    for view in ordered:
        state = f"claimed by {user_ref(view.claimed_by)}" if view.claimed_by else "unclaimed"
        when = (
            slack_date(view.received_at, "{date_short} {time}", tz=tz) if view.received_at else ""
        )
        lines.append(
            f"*{subject_text(view, 120)}*  ·  {clip(one_line(view.sender_name or view.sender_email), 80)}"
            f"  ·  {intent_label(view.intent)}  ·  {when}  ·  {state}  ·  `{escape(view.item_id)}`"
        )
    blocks: list[dict[str, Any]] = [
        _section(f"*{len(ordered)} open inbox item{'s' if len(ordered) != 1 else ''}*")
    ]
    rows_per_section = 6  # a row is at most ~420 chars: 6 fit one section
    max_sections = 45 - len(parked_blocks)  # parked emails are always shown
    for start in range(0, min(len(lines), rows_per_section * max_sections), rows_per_section):
        blocks.append(
            _section(bullet_list(lines[start : start + rows_per_section], MAX_SECTION_TEXT))
        )
    if len(lines) > rows_per_section * max_sections:
        blocks.append(_context(f"and {len(lines) - rows_per_section * max_sections} more"))
    blocks += parked_blocks
    return {"text": f"{len(ordered)} open inbox items", "blocks": blocks[:MAX_BLOCKS_MESSAGE]}


def build_parked_blocks(letters: Sequence[DeadLetter], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Emails parked after repeated failures, with the commands that retry or drop them."""
    if not letters:
        return []
    count = len(letters)
    head = (
        f":warning: *{count} email{'s' if count != 1 else ''} could not be handled* and "
        f"{'are' if count != 1 else 'is'} parked. `/care inbox retry ID` runs one again, "
        "`/care inbox drop ID` forgets it."
    )
    lines = []
    for letter in letters[:30]:
        who = clip(one_line(letter.sender), 60) or "unknown sender"
        subject = clip(one_line(letter.subject), 80) or "(no subject)"
        if letter.source == SOURCE_OUTREACH:
            subject = f"triage post of our email: {subject}"
        lines.append(
            f"`{escape(letter.id)}`  ·  {subject}  ·  {who}  ·  "
            f"{slack_date(letter.parked_at, '{date_short} {time}', tz=tz)}  ·  "
            f"{letter.attempts} tries: {clip(one_line(letter.error), 120)}"
        )
    blocks = [_section(head)]
    if any(letter.source == SOURCE_OUTREACH for letter in letters):
        blocks.append(
            _context(
                "A triage post of our email: the email was sent, and the customer's answer "
                "still lands in triage (and posts it). Slack refused the post itself: retry it "
                "after the bot is updated, or drop it."
            )
        )
    for start in range(0, len(lines), 5):
        blocks.append(_section(bullet_list(lines[start : start + 5], MAX_SECTION_TEXT)))
    if count > 30:
        blocks.append(_context(f"and {count - 30} more"))
    return blocks
