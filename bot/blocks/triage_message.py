"""The triage channel message: one per email conversation, posted once and then updated.

`build_triage_message(view, ...)` is posted for a new conversation; claims, resolves,
snoozes, releases, cancel decisions and replies `chat.update` it with the same builder. It
shows the sender, subject and intents, the escaped new text trimmed to fit (with "Show full
email" when trimmed: `bot.blocks.triage_thread` posts the rest), attachments and parse notes,
who the customer is, a cancel request's Confirm / Dismiss, and the state's buttons. The view
and the shared text pieces live in `bot.blocks.triage`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import ids
from bot.blocks.labels import INTENT_EMOJI, intent_label
from bot.blocks.text import (
    bullet_list,
    clip,
    escape,
    file_size,
    local,
    one_line,
    slack_date,
    truncate,
    user_ref,
)
from bot.blocks.triage import (
    TRIAGE_CLAIMED,
    TRIAGE_RESOLVED,
    TriageView,
    button,
    context,
    preview,
    section,
    sender_text,
    subject_text,
    subscriber_text,
)

SNOOZE_MINUTES = ((60, "1 hour"), (240, "4 hours"), (1440, "1 day"), (4320, "3 days"))


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
    return [context(truncate("Not counted: " + "  ·  ".join(parts), 1900))]


def cancel_blocks(view: TriageView, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The cancel request and its one-click Confirm / Dismiss as a churn signal."""
    cancel = view.cancel
    if not cancel.state:
        return []
    item = ids.encode_ids([view.item_id])
    sure = f"{round(cancel.confidence * 100)}% sure"
    by = f" by {user_ref(cancel.by)}" if cancel.by else ""
    when = f" at {slack_date(cancel.at, tz=tz)}" if cancel.at and cancel.by else ""
    confirm = button("Confirm churn signal", ids.ACTION_TRIAGE_CANCEL_CONFIRM, item, "danger")
    dismiss = button("Not a cancel request", ids.ACTION_TRIAGE_CANCEL_DISMISS, item)
    if cancel.state == "pending":
        text = (
            f":warning: *Cancel request?* Read as one ({sure}), not counted in the churn "
            "score until someone confirms it."
        )
        buttons = [confirm, dismiss]
    elif cancel.state == "dismissed":
        text = f":heavy_minus_sign: Dismissed as a cancel request{by}{when}: not in the score."
        buttons = [button("Count it after all", ids.ACTION_TRIAGE_CANCEL_CONFIRM, item)]
    elif cancel.state == "confirmed":
        text = f":rotating_light: *Cancel request* confirmed{by}{when}: counts as a churn signal."
        buttons = [dismiss]
    else:
        text = f":rotating_light: *Cancel request* ({sure}): counts as a churn signal."
        buttons = [dismiss]
    actions = {"type": "actions", "block_id": ids.BLOCK_TRIAGE_CANCEL, "elements": buttons}
    return [section(text), actions]


def _state(view: TriageView, tz: ZoneInfo, now: datetime, trimmed: bool) -> list[dict[str, Any]]:
    item = ids.encode_ids([view.item_id])
    show_full = button("Show full email", ids.ACTION_TRIAGE_SHOW_FULL, item)
    if view.status == TRIAGE_RESOLVED:
        who = f" by {user_ref(view.resolved_by)}" if view.resolved_by else ""
        when = f" at {slack_date(view.resolved_at, tz=tz)}" if view.resolved_at else ""
        note = f":white_check_mark: Resolved{who}{when}"
        elements = [button("Reopen", ids.ACTION_TRIAGE_REOPEN, item)]
    elif view.status == TRIAGE_CLAIMED:
        when = f" at {slack_date(view.claimed_at, tz=tz)}" if view.claimed_at else ""
        note = f":raised_hand: Claimed by {user_ref(view.claimed_by)}{when}"
        elements = [
            button("Resolve", ids.ACTION_TRIAGE_RESOLVE, item, "primary"),
            button("Release", ids.ACTION_TRIAGE_RELEASE, item),
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
            button("Claim", ids.ACTION_TRIAGE_CLAIM, item, "primary"),
            button("Resolve", ids.ACTION_TRIAGE_RESOLVE, item),
            {
                "type": "static_select",
                "action_id": ids.ACTION_TRIAGE_SNOOZE,
                "placeholder": {"type": "plain_text", "text": "Snooze…"},
                "options": options,
            },
        ]
    if view.sender_email:  # only the modal's Send reaches the customer
        elements.insert(1, button("Reply", ids.ACTION_TRIAGE_REPLY, item))
    if trimmed:
        elements.append(show_full)
    actions = {"type": "actions", "block_id": ids.BLOCK_TRIAGE_ACTIONS, "elements": elements}
    return [context(note), actions]


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
        section(head),
        context("  ·  ".join(tags)),
        *_set_aside(view),
        *cancel_blocks(view, tz),
        section(body),
    ]
    if view.attachments:
        names = [
            f"{clip(one_line(a.name), 150) or 'unnamed'} ({file_size(a.size)})"
            for a in view.attachments
        ]
        blocks.append(
            section(":paperclip: *Attachments* (not posted)\n" + bullet_list(names, 2500))
        )
    if view.notes:
        notes = [clip(one_line(n), 300) for n in view.notes]
        blocks.append(context(":warning: " + truncate(" · ".join(notes), 2900)))
    who = section(subscriber_text(view, today, tz))
    if view.subscriber is None and "@" in view.sender_email:
        item = ids.encode_ids([view.item_id])
        who["accessory"] = button("Link to a subscriber", ids.ACTION_TRIAGE_LINK, item)
    blocks.append(who)
    blocks.extend(_state(view, tz, now, trimmed))
    fallback = f"Email from {clip(one_line(view.sender_name or view.sender_email), 100)}: {subject_text(view, 150)}"
    return {"text": fallback, "blocks": blocks}
