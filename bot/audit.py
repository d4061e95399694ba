"""The audit trail: who did what to which task or inbox item, when, and from which surface.

Every task action (claim, release, assign, snooze, done, log) and every triage action (claim,
release, resolve, reopen, snooze, reply by email) adds one `AuditEntry`, stored by `bot.repos.audit.AuditRepo`
in the same store transaction as the change itself, so the trail and the data never disagree.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from bot.mapping import Model, UTCDateTime

# Where an action came from.
SURFACE_BUTTON, SURFACE_COMMAND, SURFACE_MODAL, SURFACE_HOME = "button", "command", "modal", "home"
SURFACE_AUTO = "auto"  # the bot itself: tech touch (bot/techtouch.py)
SURFACES = (SURFACE_BUTTON, SURFACE_COMMAND, SURFACE_MODAL, SURFACE_HOME, SURFACE_AUTO)

TASK_ACTIONS = ("claim", "release", "assign", "snooze", "done", "log")
TRIAGE_ACTIONS = (
    "triage_claim",
    "triage_release",
    "triage_resolve",
    "triage_reopen",
    "triage_snooze",
    "triage_reply",
    "triage_cancel_confirm",
    "triage_cancel_dismiss",
    "triage_link",  # an unknown sender's address linked to a subscriber
)
ACTIONS = TASK_ACTIONS + TRIAGE_ACTIONS


class AuditEntry(Model):
    """One action by one person.

    `subscriber_id` files the entry with its customer; an inbox item from a sender who is not a
    subscriber is filed under `inbox:<item id>`. `holder` is who held the task or item before
    (when someone else released or reassigned it), `assignee` who was handed it, `detail` a
    short plain description ("call, reached", "until 2026-06-20").
    """

    id: str
    subscriber_id: str
    at: UTCDateTime
    by: str
    action: str
    surface: str
    task_ids: list[str] = []
    item_id: str = ""
    holder: str = ""
    assignee: str = ""
    detail: str = ""

    @classmethod
    def new(
        cls, subscriber_id: str, at: datetime, by: str, action: str, surface: str, **details: object
    ) -> AuditEntry:
        """An entry with a fresh id. Raises ValueError for an unknown action or surface."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; one of {', '.join(SURFACES)}")
        return cls(
            id=uuid.uuid4().hex,
            subscriber_id=subscriber_id,
            at=at,
            by=by,
            action=action,
            surface=surface,
            **details,  # type: ignore[arg-type]
        )


def inbox_key(item_id: str) -> str:
    """Where entries about an inbox item without a known subscriber are filed."""
    return f"inbox:{item_id}"
