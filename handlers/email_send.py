"""Sending the Email modal's draft through the outbox, once; then the modal says how it went.

The outbox (bot.outbox) records the Message-ID before anything leaves, sends by SMTP, files a
copy in Sent and logs the outreach (channel email), closing the entry's tasks or keeping them
open as the manager chose. With a triage channel, the sent email gets its triage thread
(bot.outreach.thread), where the customer's answer will land. A failure brings the form back with the reason and the text as the
manager left it; Send again retries with the same Message-ID (the modal's view id is the key),
so the customer never gets it twice.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.blocks.compose import EmailInput, Recipient, build_email_modal, build_email_sent
from bot.outbox.message import Draft
from bot.outbox.service import OutreachLog, SendRequest
from bot.outbox.smtp import SendError
from bot.outreach.templates import TemplateProblem
from handlers.commands import post_outreach_reply
from handlers.context import Services

log = logging.getLogger(__name__)

NOT_SET_UP = "Sending email is not set up: set SMTP_HOST and SMTP_FROM (docs/inbox.md)."


def recipient(services: Services, meta: dict[str, Any]) -> Recipient:
    """Whom the modal's email goes to (from its metadata) and the support address it is from."""
    outbox = getattr(services, "outbox", None)
    sender = str(outbox.smtp.from_address()) if outbox is not None and outbox.enabled else ""
    return Recipient(str(meta.get("to", "")), str(meta.get("name", "")), sender)


def send_and_show(services: Services, user: str, view: dict[str, Any], values: EmailInput) -> None:
    """Send `values` as the modal `view` describes, then update the modal and Slack."""
    meta = json.loads(view.get("private_metadata") or "{}")
    outbox = getattr(services, "outbox", None)
    if outbox is None or not outbox.enabled:
        _show_error(services, view, meta, values, NOT_SET_UP)
        return
    task_ids = [str(t) for t in meta.get("task_ids", [])]
    request = SendRequest(
        key=f"email:{view['id']}",
        user=user,
        draft=Draft(
            to=str(meta.get("to", "")),
            subject=values.subject,
            text=values.body,
            to_name=str(meta.get("name", "")),
            html=_html(services, values.body),
        ),
        subscriber_id=str(meta.get("sid", "")),
        log=OutreachLog(target=task_ids, outcome="reached", close=values.close),
    )
    try:
        result = outbox.send(request)
    except SendError as exc:
        _show_error(services, view, meta, values, str(exc))
        return
    tasks = [t for t in (services.repos.tasks.get(i) for i in task_ids) if t is not None]
    notes = list(result.warnings)
    threads = services.triage.threads if services.triage is not None else None
    if threads is not None:  # where the customer's answer will land
        thread = threads.record(result.record, values.body, str(meta.get("name", "")), task_ids)
        notes += [thread.warning] if thread.warning else []
    if result.record.outreach_id:
        notes.append(
            "Logged as outreach; the task is " + ("closed." if values.close else "still open.")
        )
    services.client.views_update(
        view_id=view["id"],
        view=build_email_sent(
            recipient(services, meta), values.subject, notes, view.get("private_metadata", "")
        ),
    )
    outreach = _outreach(services, str(meta.get("sid", "")), result.record.outreach_id)
    if outreach is not None and not result.already_sent:
        post_outreach_reply(services, tasks, outreach)
    services.publisher.refresh(tasks)
    services.home.refresh_for(tasks, user)
    if services.signals is not None:
        services.signals.alerts.refresh(tasks)


def _html(services: Services, body: str) -> str:
    try:
        return services.drafts.templates.html(body) or ""
    except TemplateProblem:
        log.exception("The HTML layout does not render; sending plain text only")
        return ""


def _outreach(services: Services, sid: str, outreach_id: str) -> Any:
    if not outreach_id or not sid:
        return None
    return next(
        (o for o in services.repos.outreach.for_subscriber(sid) if o.id == outreach_id), None
    )


def _show_error(
    services: Services, view: dict[str, Any], meta: dict[str, Any], values: EmailInput, error: str
) -> None:
    form = build_email_modal(
        recipient(services, meta),
        values.subject,
        values.body,
        view.get("private_metadata", ""),
        close=values.close,
        error=error,
    )
    services.client.views_update(view_id=view["id"], view=form)
