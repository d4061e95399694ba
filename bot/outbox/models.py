"""The stored record of one outgoing email, written before it is sent.

`key` is chosen by the caller and is the same for every attempt at one message (the Reply
modal's view, say): the record carries the Message-ID, so a retry sends the very same message
and a message already sent is never sent again.
"""

from __future__ import annotations

from bot.mapping import Model, UTCDateTime

MAIL_SENDING, MAIL_SENT, MAIL_FAILED, MAIL_UNCERTAIN = "sending", "sent", "failed", "uncertain"


class SentMail(Model):
    """One outgoing email and how far it got."""

    key: str
    message_id: str
    status: str  # sending | sent | failed | uncertain
    to: str
    subject: str
    by: str  # Slack user id of the sender
    created_at: UTCDateTime
    attempts: int = 0
    error: str = ""
    error_kind: str = ""
    sent_at: UTCDateTime | None = None
    server_reply: str = ""
    subscriber_id: str = ""
    item_id: str = ""  # the triage item replied to
    task_ids: list[str] = []
    in_reply_to: str = ""
    sent_folder: str = ""  # where the copy was saved
    copy_error: str = ""
    outreach_id: str = ""
