"""The Log outreach modal's submission: field errors back into the modal, else log and update.

Validation and the log itself run before the ack (they take milliseconds), because field errors
can only be shown in the ack; Slack's messages are edited after it.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App

from bot.audit import SURFACE_MODAL
from bot.blocks import ids
from bot.blocks.modal import parse_log_outreach
from bot.care import CareError, LogResult, NotAllowed
from handlers.commands import post_outreach_reply
from handlers.context import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        today = services.care.today()
        values, errors = parse_log_outreach(view["state"]["values"], today)
        if values is not None and values.follow_up is not None and values.follow_up <= today:
            errors = {ids.BLOCK_LOG_FOLLOW_UP: "Pick a day after today for the follow-up."}
        if errors or values is None:
            ack(response_action="errors", errors=errors)
            return
        try:
            task_ids = json.loads(view.get("private_metadata") or "{}").get("task_ids", [])
            result = services.care.log_outreach(
                task_ids,
                user,
                values.channel,
                values.outcome,
                values.note,
                values.follow_up,
                surface=SURFACE_MODAL,
            )
        except NotAllowed as exc:
            ack(response_action="errors", errors={ids.BLOCK_LOG_NOTE: _plain(str(exc))})
            return
        except (CareError, ValueError) as exc:
            ack(response_action="errors", errors={ids.BLOCK_LOG_OUTCOME: _plain(str(exc))})
            return
        ack()  # Slack closes the modal now; the edits below run after the answer went out
        after_log(services, result, user)

    app.view(ids.VIEW_LOG_OUTREACH)(on_submit)


def _plain(message: str) -> str:
    """A CareError's mrkdwn as a field error (plain text): "@U2" for a mention, no entities."""
    text = re.sub(r"<@([UW][A-Z0-9]+)>", r"@\1", message)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")[:150]


def after_log(services: Services, result: LogResult, user: str) -> None:
    """Show a stored outreach log in Slack: the digest thread reply and every edited view."""
    try:
        post_outreach_reply(services, result.closed, result.outreach)
        changed = result.closed + ([result.follow_up] if result.follow_up else [])
        services.publisher.refresh(changed)
        services.home.refresh_for(changed, user)
        if services.signals is not None:
            services.signals.alerts.refresh(changed)
    except Exception:
        log.exception("The outreach was logged, but updating Slack failed")
