"""Link an unknown sender from the triage message: search a subscriber in a modal, link.

The button opens the modal (views.open in the ack listener); the external_select asks for
options as the manager types (answered from the store within Slack's 3 seconds); the
submission links the address (bot.inbox.link), then the triage message is redrawn with the
customer's context.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.blocks import ids, replies
from bot.blocks.link import build_link_modal, build_link_options, selected_subscriber
from bot.care import CareError, NotAllowed
from bot.inbox.link import link_sender
from handlers.actions import _tell
from handlers.context import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    app.action(ids.ACTION_TRIAGE_LINK)(lambda ack, body: open_link_modal(services, ack, body))
    app.options(ids.ACTION_LINK_SEARCH)(lambda ack, payload: search(services, ack, payload))
    app.view(ids.VIEW_TRIAGE_LINK)(lambda ack, body, view: submit_link(services, ack, body, view))


def open_link_modal(services: Services, ack: Ack, body: dict[str, Any]) -> None:
    ack()
    user = body["user"]["id"]
    try:
        services.care.permissions.require(user)
    except NotAllowed:
        _tell(services, body, replies.build_not_a_manager())
        return
    [item_id] = ids.decode_ids(body["actions"][0].get("value", ""))[:1] or [""]
    item = services.repos.inbox.item(item_id)
    if item is None:
        _tell(services, body, replies.build_error("That inbox item is gone."))
        return
    view = build_link_modal(item.id, item.sender, item.subject)
    services.client.views_open(trigger_id=body["trigger_id"], view=view)


def search(services: Services, ack: Ack, payload: dict[str, Any]) -> None:
    query = str(payload.get("value") or "")[:200]
    matches = services.repos.subscribers.search(query, limit=20) if len(query.strip()) >= 2 else []
    ack(options=build_link_options(matches))


def submit_link(services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    user = body["user"]["id"]
    sid = selected_subscriber(view["state"]["values"])
    if not sid:
        ack(response_action="errors", errors={ids.BLOCK_LINK_SUBSCRIBER: "Choose a subscriber."})
        return
    try:
        services.care.permissions.require(user)
        item = link_sender(
            services.repos, view.get("private_metadata", ""), sid, user, services.clock.now()
        )
    except NotAllowed:
        ack(
            response_action="errors",
            errors={ids.BLOCK_LINK_SUBSCRIBER: "Only the care team can link."},
        )
        return
    except CareError as exc:
        ack(response_action="errors", errors={ids.BLOCK_LINK_SUBSCRIBER: str(exc)[:150]})
        return
    ack()
    try:
        services.triage.redraw(item)
    except Exception:
        log.exception("Linked %s, but redrawing the triage message failed", item.id)
