"""The Email button on a digest entry: a drafted email in a modal, sent only by its Send button.

Opening: the ack listener checks the manager, drafts from the entry's template
(`bot.outreach`) and calls views.open with the trigger id. Sending: the submission is
validated in the ack (field errors go back into the modal), then the modal is replaced by a
"Sending…" view (no Send button, so a second click cannot send twice) and the email goes out
after the ack: on success the modal says so, the outreach is logged (closing or keeping the
task as chosen) and the short log reply is posted in the digest thread; on failure the form
comes back with the reason at the top and the text as the manager left it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App

from bot.blocks import ids, replies
from bot.blocks.compose import Recipient, build_email_modal, build_email_sending, parse_email_modal
from bot.blocks.labels import kind_label
from bot.blocks.text import escape
from bot.outreach.templates import TemplateProblem
from handlers.actions import _channel, _tell, clicked_tasks
from handlers.context import Services
from handlers.email_send import recipient, send_and_show

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    app.action(ids.ACTION_EMAIL)(lambda ack, body: open_email_modal(services, ack, body))
    app.view(ids.VIEW_EMAIL)(
        ack=lambda ack, body, view: _check_submission(ack, view),
        lazy=[lambda body, view: send_from_modal(services, body, view)],
    )


def open_email_modal(services: Services, ack: Ack, body: dict[str, Any]) -> None:
    """views.open with the draft for the clicked entry (within the trigger's 3 seconds)."""
    ack()
    tasks = clicked_tasks(services, body)
    if not tasks:
        return
    try:
        drafted = services.drafts.for_tasks(tasks, services.care.today())
    except TemplateProblem as exc:
        _tell(services, body, replies.build_error(f"The email template does not work: {exc}"))
        return
    except LookupError as exc:  # a task id from an old message, a subscriber gone
        _tell(services, body, replies.build_error(str(exc)))
        return
    sub = drafted.subscriber
    if not sub.email:
        _tell(services, body, replies.build_error("We have no email address for this customer."))
        return
    meta = {
        "task_ids": [t.id for t in tasks],
        "channel": _channel(body),
        "sid": sub.id,
        "to": sub.email,
        "name": sub.name[:200],
    }
    kinds = ", ".join(dict.fromkeys(kind_label(t.kind) for t in tasks))
    about = f"{kinds} · template `{escape(drafted.draft.source.name)}` · tasks " + ", ".join(
        f"`{escape(t.id)}`" for t in tasks[:10]
    )
    view = build_email_modal(
        recipient(services, meta),
        drafted.draft.subject,
        drafted.draft.body,
        json.dumps(meta, separators=(",", ":")),
        about=about,
    )
    services.client.views_open(trigger_id=body["trigger_id"], view=view)


def _check_submission(ack: Ack, view: dict[str, Any]) -> None:
    values, errors = parse_email_modal(view["state"]["values"])
    if values is None:
        ack(response_action="errors", errors=errors)
        return
    meta = json.loads(view.get("private_metadata") or "{}")
    to = Recipient(str(meta.get("to", "")), str(meta.get("name", "")))
    ack(response_action="update", view=build_email_sending(to, view.get("private_metadata", "")))


def send_from_modal(services: Services, body: dict[str, Any], view: dict[str, Any]) -> None:
    """After the ack: send, then show the outcome in the modal and update Slack."""
    values, _ = parse_email_modal(view["state"]["values"])
    if values is None:
        return
    try:
        send_and_show(services, body["user"]["id"], view, values)
    except Exception:
        log.exception("Sending the email from view %s failed unexpectedly", view.get("id"))
        raise
