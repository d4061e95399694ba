"""The Reply modal (an email to the customer) and the thread note after it is sent.

`build_reply_modal` shows the exact recipient and subject, the customer's message and an
editable draft; Send is the only way text reaches the customer. While it is sent the modal
shows `build_sending_view`; then `build_sent_view`, or the form again with the error on top
(`build_not_sent_view` when the form had gone before the reply could be prepared).
`parse_reply` reads a submission; `build_reply_note` is what the item's thread shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.blocks import ids
from bot.blocks.labels import kind_label
from bot.blocks.limits import MAX_SECTION_TEXT
from bot.blocks.text import clip, escape, mention, split_escaped, truncate
from bot.outbox.reply import MAX_DRAFT, ReplyDraft

TITLE = "Reply by email"
MAX_NOTE_SECTIONS = 8


@dataclass(frozen=True)
class ReplyInput:
    """A valid submission: the text to send and what to do with the item and the task."""

    text: str
    resolve: bool
    close_task: bool


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}}


def _context(text: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}],
    }


def _addressing(draft: ReplyDraft, sender: str) -> list[dict[str, Any]]:
    to = (
        f"{clip(draft.to_name, 100)} &lt;{clip(draft.to, 254)}&gt;"
        if draft.to_name
        else clip(draft.to, 254)
    )
    return [
        _section(f"*To:* {to}\n*Subject:* {clip(draft.subject, 250)}"),
        _context(f"From {clip(sender, 300)}. Only *Send* below emails the customer."),
    ]


def _quote(draft: ReplyDraft) -> list[dict[str, Any]]:
    if not draft.quoted:
        return []
    quoted = "\n".join(
        f"&gt; {line}" for line in clip(draft.quoted, MAX_SECTION_TEXT - 400).split("\n")
    )
    return [_section(f"*Their message:*\n{quoted}")]


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value}


def build_reply_modal(
    draft: ReplyDraft,
    sender: str,
    private_metadata: str,
    *,
    text: str | None = None,
    resolve: bool = True,
    close_task: bool = False,
    error: str = "",
) -> dict[str, Any]:
    """The Reply modal.

    Args:
        draft: recipient, subject, the customer's message and the first draft.
        sender: the support address mail goes out from (`SMTP_FROM`).
        private_metadata: what the submission needs back (the item id).
        text: the text to show instead of the draft (after a failed send).
        resolve, close_task: the checkboxes' state.
        error: why the last Send failed, shown on top.
    """
    blocks: list[dict[str, Any]] = []
    if error:
        blocks.append(
            _section(
                f":warning: *Not sent.* {clip(error, 2800)}\nFix it and press *Send* again: it is sent once."
            )
        )
    blocks += _addressing(draft, sender) + _quote(draft)
    blocks.append(
        {
            "type": "input",
            "block_id": ids.BLOCK_REPLY_TEXT,
            "label": {"type": "plain_text", "text": "Your reply"},
            "element": {
                "type": "plain_text_input",
                "action_id": ids.ACTION_REPLY_TEXT,
                "multiline": True,
                "max_length": MAX_DRAFT,
                "initial_value": (draft.body if text is None else text)[:MAX_DRAFT],
            },
        }
    )
    options = [_option(ids.REPLY_RESOLVE, "Resolve the conversation")]
    if draft.open_task is not None:
        label = f"Close their open task ({kind_label(draft.open_task.kind)})"
        options.append(_option(ids.REPLY_CLOSE_TASK, label))
    chosen = [
        o
        for o in options
        if (o["value"] == ids.REPLY_RESOLVE and resolve)
        or (o["value"] == ids.REPLY_CLOSE_TASK and close_task)
    ]
    checkboxes: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.ACTION_REPLY_OPTIONS,
        "options": options,
    }
    if chosen:
        checkboxes["initial_options"] = chosen
    blocks.append(
        {
            "type": "input",
            "block_id": ids.BLOCK_REPLY_OPTIONS,
            "optional": True,
            "label": {"type": "plain_text", "text": "After sending"},
            "element": checkboxes,
        }
    )
    return {
        "type": "modal",
        "callback_id": ids.VIEW_REPLY,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": TITLE},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def build_sending_view(
    draft: ReplyDraft | None, sender: str, private_metadata: str
) -> dict[str, Any]:
    """Shown while the mail server takes the message (no Send button: nothing to click twice);
    without the draft (the store was slow to give it) without the addressing."""
    addressing = _addressing(draft, sender) if draft is not None else []
    return {
        "type": "modal",
        "callback_id": ids.VIEW_REPLY,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": TITLE},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [*addressing, _section(":hourglass_flowing_sand: Sending…")],
    }


def build_not_sent_view(text: str, reason: str) -> dict[str, Any]:
    """The modal when the reply could not even be prepared after the form had gone: why
    (mrkdwn), and the text as the manager typed it (escaped), to copy into a new Reply."""
    pieces = split_escaped(text, MAX_SECTION_TEXT - 20)
    if pieces:
        pieces[0] = "*Your text:*\n" + pieces[0]
    again = "Nothing was sent. Copy your text, then click *Reply* on the triage message again."
    return {
        "type": "modal",
        "callback_id": ids.VIEW_REPLY,
        "title": {"type": "plain_text", "text": TITLE},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [
            _section(f":warning: *Not sent*: {truncate(reason, 1500)}"),
            *(_section(p) for p in pieces),
            _context(again),
        ],
    }


def build_sent_view(to: str, subject: str, warnings: list[str]) -> dict[str, Any]:
    """The modal after the email went out."""
    blocks = [_section(f":white_check_mark: *Sent* to {clip(to, 254)}: {clip(subject, 250)}")]
    blocks += [_context(f":warning: {clip(w, 2900)}") for w in warnings]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_REPLY,
        "title": {"type": "plain_text", "text": TITLE},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": blocks,
    }


def parse_reply(state_values: Mapping[str, Any]) -> tuple[ReplyInput | None, dict[str, str]]:
    """Read a submission: `(ReplyInput, {})`, or `(None, errors)` keyed by block id."""
    text_block = state_values.get(ids.BLOCK_REPLY_TEXT) or {}
    text = str((text_block.get(ids.ACTION_REPLY_TEXT) or {}).get("value") or "")
    checks = (state_values.get(ids.BLOCK_REPLY_OPTIONS) or {}).get(ids.ACTION_REPLY_OPTIONS) or {}
    chosen = {str(o.get("value")) for o in checks.get("selected_options") or []}
    if not text.strip():
        return None, {ids.BLOCK_REPLY_TEXT: "Write your reply first."}
    if len(text) > MAX_DRAFT:
        return None, {ids.BLOCK_REPLY_TEXT: f"Keep the reply under {MAX_DRAFT:,} characters."}
    return ReplyInput(text, ids.REPLY_RESOLVE in chosen, ids.REPLY_CLOSE_TASK in chosen), {}


def build_reply_note(user: str, to: str, subject: str, text: str) -> dict[str, Any]:
    """The thread message: "@dana replied by email" and what was sent (escaped)."""
    head = (
        f":outbox_tray: {mention(user)} replied by email to {clip(to, 254)}: *{clip(subject, 250)}*"
    )
    pieces = split_escaped(text, MAX_SECTION_TEXT - 10)
    blocks = [_section(head)] + [_section(p) for p in pieces[:MAX_NOTE_SECTIONS]]
    if len(pieces) > MAX_NOTE_SECTIONS:
        blocks.append(_context("The rest is in the Sent folder."))
    return {"text": f"{mention(user)} replied by email to {escape(to)}", "blocks": blocks}
