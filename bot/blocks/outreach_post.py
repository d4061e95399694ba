"""The triage channel's message for an email the team sent: where the customer's answer lands.

"@dana emailed Ann Lee: *subject*", the start of what was sent, who the customer is and when
they were last reached, and that the answer will come into this thread (`bot.outreach.thread`).
When the customer answers, the message becomes an ordinary triage message (`bot.blocks.triage_message`).
Customer text (name, address, subject, the email) is escaped; only our managers are mentioned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.text import clip, local, one_line, slack_date, user_ref
from bot.blocks.triage import TriageView, preview, subject_text, subscriber_text

PREVIEW_CHARS = 1200  # of the sent text


def build_outreach_post(view: TriageView, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """The message for an outreach email awaiting its answer.

    Args:
        view: the outreach's item (`outreach_by`, `outreach_at`, `outreach_text` set).
        now: the current time.
        tz: the team's timezone.

    Returns:
        {"text", "blocks"}, without buttons: there is nothing to claim until the customer
        answers.
    """
    name = clip(one_line(view.sender_name), 150) or clip(one_line(view.sender_email), 254)
    who = f"{user_ref(view.outreach_by)} emailed" if view.outreach_by else "Sent automatically to"
    head = f":outbox_tray: {who} {name}: *{subject_text(view)}*"
    sent = f"To {clip(one_line(view.sender_email), 254)}"
    if view.outreach_at:
        sent += f"  ·  {slack_date(view.outreach_at, tz=tz)}"
    body, _ = preview(view.outreach_text, PREVIEW_CHARS)
    first = clip(one_line(view.sender_name).split(" ")[0], 60) or "The customer"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": head}},
        _context(sent),
        {"type": "section", "text": {"type": "mrkdwn", "text": body}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": subscriber_text(view, local(now, tz).date(), tz)},
        },
        _context(f":hourglass_flowing_sand: {first}'s answer will land in this thread."),
    ]
    fallback = f"{who} {clip(one_line(view.sender_name or view.sender_email), 100)}: "
    return {"text": fallback + subject_text(view, 150), "blocks": blocks}


def build_answer_note(view: TriageView, channel: str) -> dict[str, Any]:
    """For the digest entry's thread: the customer answered the email sent from it."""
    name = clip(one_line(view.sender_name or view.sender_email), 100) or "The customer"
    text = (
        f":leftwards_arrow_with_hook: {name} answered the email *{subject_text(view, 200)}*: "
        f"see the thread in <#{channel}> (item `{view.item_id}`)."
    )
    return {
        "text": f"{name} answered the email",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
