"""Link an unknown sender from the triage message: search a subscriber in a modal, link.

The button opens the modal (views.open in the ack listener); the external_select asks for
options as the manager types (answered from the store within Slack's 3 seconds); the
submission links the address (bot.inbox.link) under `handlers.in_time.InTime`, as the Log
outreach modal logs (`handlers.views`): stored in time, the ack closes the modal or shows why
not; not stored by the deadline, the modal closes and a private note in the triage channel says
how it went. Then the triage message is redrawn with the customer's context.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.blocks import ids, replies
from bot.blocks.link import (
    build_link_modal,
    build_link_not_saved,
    build_link_options,
    build_linked,
    selected_label,
    selected_subscriber,
)
from bot.care import CareError, NotAllowed
from bot.inbox.link import link_sender
from handlers.actions import _tell
from handlers.context import Services
from handlers.in_time import InTime
from handlers.views import NOT_STORED, tell

log = logging.getLogger(__name__)
NOT_A_MANAGER = "Only the care team can link."


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
    """Link within Slack's 3 s; a link not stored by then follows as a private note."""
    user = body["user"]["id"]
    values = view["state"]["values"]
    sid, label = selected_subscriber(values), selected_label(values)
    if not sid:
        ack(response_action="errors", errors={ids.BLOCK_LINK_SUBSCRIBER: "Choose a subscriber."})
        return
    if not services.care.permissions.is_manager(user):
        ack(response_action="errors", errors={ids.BLOCK_LINK_SUBSCRIBER: NOT_A_MANAGER})
        return
    channel = services.settings.slack.triage_channel  # where the email's message is

    def later(**message: Any) -> None:
        tell(services, user, channel, message)

    lost = build_link_not_saved(label, NOT_STORED)
    with InTime(ack, later, holding={}, failed=lost) as answer:  # {}: the modal closes
        try:
            result = link_sender(
                services.repos, view.get("private_metadata", ""), sid, user, services.clock.now()
            )
        except CareError as exc:
            refused = build_link_not_saved(label, str(exc))
            answer(
                response_action="errors",
                errors={ids.BLOCK_LINK_SUBSCRIBER: str(exc)[:150]},
                later=refused,
            )
            return
        answer(later={} if result.repeated else build_linked(result.item.sender, label))
    if result.repeated:  # the first submission redrew the message
        return
    try:
        services.triage.redraw(result.item)
    except Exception:
        log.exception("Linked %s, but redrawing the triage message failed", result.item.id)
