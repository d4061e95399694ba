"""The Log outreach modal's submission: field errors back into the modal, else log and update.

Validation runs before the ack and needs no store: field errors can only be shown in the ack.
The log itself waits for the store (one journal fdatasync, which a disk busy with another
process's writeback has held for 1.6-3 s), so it runs under `handlers.in_time.InTime`: stored
in time, the ack closes the modal (or shows the store's refusal under a field) as always;
not stored by `ANSWER_WITHIN`, the modal is closed then and the outcome follows as a private
message in the channel the modal came from: logged, or not saved with why and what was
entered. The modal's view id keys the log, so a submission Slack sends again (or a second
click) is logged once.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App

from bot.audit import SURFACE_MODAL
from bot.blocks import ids, replies
from bot.blocks.modal import OutreachInput, build_log_not_saved, parse_log_outreach
from bot.care import CareError, LogResult, NotAllowed
from handlers.commands import post_outreach_reply
from handlers.context import Services
from handlers.in_time import InTime

log = logging.getLogger(__name__)
NOT_STORED = "something went wrong on our side while storing it."


def register(app: App, services: Services) -> None:
    app.view(ids.VIEW_LOG_OUTREACH)(
        lambda ack, body, view: on_submit(services, ack, body["user"]["id"], view)
    )


def on_submit(services: Services, ack: Ack, user: str, view: dict[str, Any]) -> None:
    """Answer a Log outreach submission within Slack's 3 s, then update Slack."""
    values, errors = _checked(services, user, view)
    if values is None:
        ack(response_action="errors", errors=errors)
        return
    meta = json.loads(view.get("private_metadata") or "{}")
    task_ids = [str(t) for t in meta.get("task_ids", [])]
    channel = str(meta.get("channel") or "") or services.settings.slack.digest_channel

    def later(**message: Any) -> None:
        tell(services, user, channel, message)

    lost = build_log_not_saved(values, task_ids, NOT_STORED)
    with InTime(ack, later, holding={}, failed=lost) as answer:  # {}: the modal closes
        try:
            result = services.care.log_outreach(
                task_ids,
                user,
                values.channel,
                values.outcome,
                values.note,
                values.follow_up,
                surface=SURFACE_MODAL,
                key=f"log:{view['id']}",
            )
        except (CareError, ValueError) as exc:  # NotAllowed too: someone else's claim
            block = ids.BLOCK_LOG_NOTE if isinstance(exc, NotAllowed) else ids.BLOCK_LOG_OUTCOME
            refused = build_log_not_saved(values, task_ids, str(exc))
            answer(response_action="errors", errors={block: _plain(str(exc))}, later=refused)
            return
        answer(later={} if result.repeated else _logged(result, values))
    if not result.repeated:  # a repeat: the first submission updated Slack
        after_log(services, result, user)


def _checked(
    services: Services, user: str, view: dict[str, Any]
) -> tuple[OutreachInput | None, dict[str, str]]:
    """The submission's values, or the field errors that need no store."""
    today = services.care.today()
    values, errors = parse_log_outreach(view["state"]["values"], today)
    if values is not None and values.follow_up is not None and values.follow_up <= today:
        return None, {ids.BLOCK_LOG_FOLLOW_UP: "Pick a day after today for the follow-up."}
    try:
        services.care.permissions.require(user)
    except NotAllowed as exc:
        return None, {**errors, ids.BLOCK_LOG_NOTE: _plain(str(exc))}
    return values, errors


def _logged(result: LogResult, values: OutreachInput) -> dict[str, Any]:
    follow = result.follow_up.id if result.follow_up else None
    done = [t.id for t in result.closed]
    return replies.build_logged(done, values.channel, values.outcome, values.follow_up, follow)


def tell(services: Services, user: str, channel: str, message: dict[str, Any]) -> None:
    """A private message to `user` in `channel` (where the modal was opened from)."""
    try:
        services.client.chat_postEphemeral(channel=channel, user=user, **message)
    except Exception:
        log.exception("Could not tell %s in %s: %s", user, channel, message.get("text"))


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
