"""Reply to a triage email from Slack: the Reply button, its modal, and Send.

The button opens the modal at once (views.open needs the trigger within 3 s). Send is checked
in the ack (empty text comes back as a field error); the modal then shows "Sending…" while the
mail server takes the message (a slow server cannot miss Slack's 3-second ack), and is updated
to "Sent", or back to the form with the error on top. The draft is read from the store before
the ack, under `handlers.in_time.InTime`: a store held up by another write gets "Sending…" at the
deadline all the same. The modal's view id is the send's key,
so pressing Send again after a failure, or twice, never sends two emails.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App

from bot.blocks import ids, replies
from bot.blocks.reply import (
    build_not_sent_view,
    build_reply_modal,
    build_reply_note,
    build_sending_view,
    build_sent_view,
    parse_reply,
)
from bot.care import CareError, NotAllowed, Permissions
from bot.outbox.reply import ReplyResult, ReplyService
from bot.outbox.smtp import SendError
from handlers.context import Services
from handlers.in_time import InTime
from handlers.triage_buttons import tell
from handlers.views import after_log

log = logging.getLogger(__name__)
NOT_PREPARED = "something went wrong on our side while preparing it."


def register(app: App, services: Services) -> None:
    settings = services.settings
    service = ReplyService(
        services.repos,
        services.outbox,
        services.clock,
        settings.timezone,
        Permissions(settings.slack.managers, settings.slack.leads),
    )
    sender = settings.smtp.sender

    def open_reply(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        item_id = ids.decode_ids(body["actions"][0].get("value", ""))[0]
        try:
            draft = service.draft(item_id, user)
        except NotAllowed:
            tell(services, body, replies.build_not_a_manager())
            return
        except CareError as exc:
            tell(services, body, replies.build_error(str(exc), mrkdwn=True))
            return
        meta = json.dumps({"item": draft.item_id})
        services.client.views_open(
            trigger_id=body["trigger_id"], view=build_reply_modal(draft, sender, meta)
        )

    def on_send(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values, errors = parse_reply(view["state"]["values"])
        meta = view.get("private_metadata") or "{}"
        item_id = str(json.loads(meta).get("item", ""))
        try:
            service.check(user)
        except CareError as exc:
            errors = {ids.BLOCK_REPLY_TEXT: str(exc)[:150]}
        if errors or values is None:
            ack(response_action="errors", errors=errors)
            return
        holding = {"response_action": "update", "view": build_sending_view(None, sender, meta)}
        lost = {"view": build_not_sent_view(values.text, NOT_PREPARED)}

        def later(**answer: Any) -> None:  # the modal shows "Sending…": it is updated
            _update(services, view["id"], answer["view"])

        with InTime(ack, later, holding=holding, failed=lost) as answer:  # the store reads
            try:
                draft = service.draft(item_id, user)
            except CareError as exc:
                gone = {"view": build_not_sent_view(values.text, str(exc))}
                answer(
                    response_action="errors",
                    errors={ids.BLOCK_REPLY_TEXT: str(exc)[:150]},
                    later=gone,
                )
                return
            answer(response_action="update", view=build_sending_view(draft, sender, meta), later={})
        chosen = {"resolve": values.resolve, "close_task": values.close_task}
        try:
            result = service.send(item_id, user, f"reply:{view['id']}", values.text, **chosen)
        except (SendError, CareError, NotAllowed) as exc:
            again = build_reply_modal(
                draft, sender, meta, text=values.text, error=str(exc), **chosen
            )
            _update(services, view["id"], again)
            return
        if not result.sent.already_sent:
            _show(services, result, user, values.text)
        record = result.sent.record
        _update(
            services, view["id"], build_sent_view(record.to, record.subject, result.sent.warnings)
        )

    app.action(ids.ACTION_TRIAGE_REPLY)(open_reply)
    app.view(ids.VIEW_REPLY)(on_send)


def _show(services: Services, result: ReplyResult, user: str, text: str) -> None:
    """The note in the item's thread, the redrawn triage message, the outreach log's views."""
    item, record = result.item, result.sent.record
    try:
        if item.slack.get("ts"):
            note = build_reply_note(user, record.to, record.subject, text)
            key = f"inbox:{item.id}:reply:{record.message_id}"
            services.triage.poster.post_once(item.slack["channel"], note, key, item.slack["ts"])
        services.triage.redraw(item)
    except Exception:
        log.exception("Reply %s was sent, but updating the triage thread failed", record.message_id)
    if result.sent.logged is not None:
        after_log(services, result.sent.logged, user)


def _update(services: Services, view_id: str, view: dict[str, Any]) -> None:
    """Update the modal; the manager may have closed it meanwhile (Slack: not_found)."""
    try:
        services.client.views_update(view_id=view_id, view=view)
    except Exception:
        log.warning("Could not update the Reply modal %s (closed?)", view_id, exc_info=True)
