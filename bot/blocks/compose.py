"""The email modal: an editable draft, the exact recipient, and Send.

`build_email_modal` is opened by the Email button of a digest entry (and fits any email a
manager sends from Slack): who it goes to and from, an optional quoted message, subject and
body inputs holding the draft, and, for a digest entry, whether Send closes the task or keeps
it open. `build_email_sending` and `build_email_sent` replace it while and after it is sent;
a failure re-opens the form with `error` at the top and the text as the manager left it.
`parse_email_modal` turns a submission into `EmailInput` or field errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.blocks import ids
from bot.blocks.limits import MAX_PRIVATE_METADATA, MAX_SECTION_TEXT
from bot.blocks.text import clip, escape, one_line, truncate

MAX_SUBJECT = 200
MAX_BODY = MAX_SECTION_TEXT  # Slack's plain_text_input holds at most 3000 characters
TITLE = "Email customer"
AFTER_OPTIONS = {
    ids.EMAIL_CLOSE: "Close the task: logged as reached by email",
    ids.EMAIL_KEEP: "Keep the task open: wait for the answer",
}


@dataclass(frozen=True)
class EmailInput:
    """A valid submission: the text to send and what to do with the task."""

    subject: str
    body: str
    close: bool = True


@dataclass(frozen=True)
class Recipient:
    """Whom the email goes to, exactly as it will be addressed, and from which address."""

    address: str
    name: str = ""
    sender: str = ""  # the support address it is sent from, when known


def _text(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _option(value: str) -> dict[str, Any]:
    return {"text": _text(AFTER_OPTIONS[value][:75]), "value": value}


def _recipient_block(to: Recipient) -> dict[str, Any]:
    name = clip(one_line(to.name), 200)
    address = clip(one_line(to.address), 254)
    shown = f"{name} &lt;{address}&gt;" if name else address
    text = f"*To:* {shown}"
    if to.sender:
        text += f"\n*From:* {clip(one_line(to.sender), 254)}"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def build_email_modal(
    to: Recipient,
    subject: str,
    body: str,
    private_metadata: str,
    *,
    about: str = "",
    quoted: str = "",
    ask_close: bool = True,
    close: bool = True,
    error: str = "",
    callback_id: str = ids.VIEW_EMAIL,
) -> dict[str, Any]:
    """The email modal with the draft in its inputs.

    Args:
        to: the recipient, shown exactly as addressed.
        subject, body: the draft (cut to what the inputs hold).
        private_metadata: what the submission handler needs back (ids only).
        about: one line of context (mrkdwn, already escaped), e.g. the entry's kind and tasks.
        quoted: the customer's message being answered, shown quoted (outside text).
        ask_close: offer "close the task / keep it open" (digest entries).
        close: the choice selected at first.
        error: why the last attempt was not sent (outside text), shown at the top.

    Raises:
        ValueError: when private_metadata is over Slack's 3000 characters.
    """
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError(f"private_metadata is {len(private_metadata)} chars; keep only ids")
    blocks: list[dict[str, Any]] = []
    if error:
        blocks.append(_mrkdwn(f":warning: *Not sent.* {clip(error, 2800)}"))
    blocks.append(_recipient_block(to))
    if about:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": about}]})
    if quoted.strip():
        lines = "\n".join(f"> {line}" for line in escape(quoted).splitlines()[:40])
        blocks.append(_mrkdwn(truncate(lines, MAX_SECTION_TEXT)))
    blocks.append(
        _input(ids.BLOCK_EMAIL_SUBJECT, ids.ACTION_EMAIL_SUBJECT, "Subject", subject, MAX_SUBJECT)
    )
    blocks.append(
        _input(ids.BLOCK_EMAIL_BODY, ids.ACTION_EMAIL_BODY, "Message", body, MAX_BODY, True)
    )
    if ask_close:
        chosen = ids.EMAIL_CLOSE if close else ids.EMAIL_KEEP
        blocks.append(
            {
                "type": "input",
                "block_id": ids.BLOCK_EMAIL_AFTER,
                "label": _text("After sending"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": ids.ACTION_EMAIL_AFTER,
                    "options": [_option(ids.EMAIL_CLOSE), _option(ids.EMAIL_KEEP)],
                    "initial_option": _option(chosen),
                },
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Only *Send* sends: nothing typed in a Slack thread reaches the "
                    "customer. It is logged as outreach by email.",
                }
            ],
        }
    )
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "title": _text(TITLE),
        "submit": _text("Send"),
        "close": _text("Cancel"),
        "blocks": blocks,
    }


def build_email_sending(to: Recipient, private_metadata: str) -> dict[str, Any]:
    """What the modal shows while the email is on its way (no Send button: one click, one send)."""
    return _status_view(
        f":outbox_tray: Sending to {clip(one_line(to.address), 254)}…", private_metadata
    )


def build_email_sent(
    to: Recipient, subject: str, notes: list[str], private_metadata: str
) -> dict[str, Any]:
    """What the modal shows once the email was sent: to whom, the subject, and what was logged."""
    text = (
        f":white_check_mark: *Sent* to {clip(one_line(to.address), 254)}\n"
        f"*Subject:* {clip(one_line(subject), MAX_SUBJECT)}"
    )
    extra = "\n".join(clip(one_line(n), 500) for n in notes[:5])
    return _status_view(text + ("\n" + extra if extra else ""), private_metadata)


def _status_view(text: str, private_metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.VIEW_EMAIL,
        "private_metadata": private_metadata,
        "title": _text(TITLE),
        "close": _text("Close"),
        "blocks": [_mrkdwn(truncate(text, MAX_SECTION_TEXT))],
    }


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _input(
    block_id: str, action_id: str, label: str, value: str, limit: int, multiline: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id,
        "max_length": limit,
        "multiline": multiline,
    }
    if value:
        element["initial_value"] = value[:limit]
    return {"type": "input", "block_id": block_id, "label": _text(label), "element": element}


def _value(values: Mapping[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    block = values.get(block_id) or {}
    element = block.get(action_id) if isinstance(block, Mapping) else None
    return element if isinstance(element, dict) else {}


def parse_email_modal(values: Mapping[str, Any]) -> tuple[EmailInput | None, dict[str, str]]:
    """Validate an email modal submission (`view["state"]["values"]`).

    Returns:
        `(EmailInput, {})`, or `(None, errors)` keyed by block_id for `response_action=errors`.
    """
    subject = _value(values, ids.BLOCK_EMAIL_SUBJECT, ids.ACTION_EMAIL_SUBJECT).get("value") or ""
    body = _value(values, ids.BLOCK_EMAIL_BODY, ids.ACTION_EMAIL_BODY).get("value") or ""
    after = (
        _value(values, ids.BLOCK_EMAIL_AFTER, ids.ACTION_EMAIL_AFTER).get("selected_option") or {}
    ).get("value") or ids.EMAIL_CLOSE
    errors: dict[str, str] = {}
    if not one_line(subject):
        errors[ids.BLOCK_EMAIL_SUBJECT] = "Write a subject."
    elif len(subject) > MAX_SUBJECT:
        errors[ids.BLOCK_EMAIL_SUBJECT] = f"Keep the subject under {MAX_SUBJECT} characters."
    if not body.strip():
        errors[ids.BLOCK_EMAIL_BODY] = "Write the message."
    elif len(body) > MAX_BODY:
        errors[ids.BLOCK_EMAIL_BODY] = f"Keep the message under {MAX_BODY:,} characters."
    if after not in (ids.EMAIL_CLOSE, ids.EMAIL_KEEP):
        errors[ids.BLOCK_EMAIL_AFTER] = "Choose what to do with the task."
    if errors:
        return None, errors
    return EmailInput(one_line(subject), body.strip(), after == ids.EMAIL_CLOSE), {}
