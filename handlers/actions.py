"""Buttons and selects on digest entries and the Home tab: Claim, Log outreach, Snooze, Release, Done.

Each listener acks at once; the work (claim, edits, private notes) runs after the ack as a
Bolt lazy listener, so Slack always gets its answer within 3 seconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.audit import SURFACE_BUTTON, SURFACE_HOME
from bot.blocks import ids, replies
from bot.blocks.modal import build_log_outreach_modal
from bot.care import CareError, NotAllowed
from bot.models import Task
from handlers.context import Services

log = logging.getLogger(__name__)


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, services: Services) -> None:
    def lazy(
        work: Callable[[Services, dict[str, Any], str, list[str]], list[Task]],
    ) -> Callable[..., None]:
        def run(body: dict[str, Any]) -> None:
            user = body["user"]["id"]
            action = body["actions"][0]
            try:
                if action.get("type") == "static_select":
                    days, task_ids = ids.decode_choice(action["selected_option"]["value"])
                    task_ids = [f"{days}", *task_ids]
                else:
                    task_ids = ids.decode_ids(action.get("value", ""))
                changed = work(services, body, user, task_ids)
            except NotAllowed:
                _tell(services, body, replies.build_not_a_manager())
                return
            except CareError as exc:
                _tell(services, body, replies.build_error(str(exc), mrkdwn=True))
                return
            if changed:
                services.publisher.refresh(changed)
                services.home.refresh_for(changed, user)
                if services.signals is not None:
                    services.signals.alerts.refresh(changed)

        return run

    app.action(ids.ACTION_CLAIM)(ack=_ack, lazy=[lazy(_claim)])
    app.action(ids.ACTION_RELEASE)(ack=_ack, lazy=[lazy(_release)])
    app.action(ids.ACTION_DONE)(ack=_ack, lazy=[lazy(_done)])
    app.action(ids.ACTION_SNOOZE)(ack=_ack, lazy=[lazy(_snooze)])
    app.action(ids.ACTION_HOME_REFRESH)(
        ack=_ack, lazy=[lambda body: services.home.publish(body["user"]["id"])]
    )

    def open_log_modal(ack: Ack, body: dict[str, Any]) -> None:
        # views.open needs the trigger_id within 3 seconds: done in the ack listener itself.
        ack()
        tasks = clicked_tasks(services, body)
        if not tasks:
            return
        subscriber = services.repos.subscribers.get(tasks[0].subscriber_id)
        meta = json.dumps({"task_ids": [t.id for t in tasks], "channel": _channel(body)})
        view = build_log_outreach_modal([t.id for t in tasks], subscriber, meta)  # type: ignore[arg-type]
        services.client.views_open(trigger_id=body["trigger_id"], view=view)

    app.action(ids.ACTION_LOG)(open_log_modal)


def clicked_tasks(services: Services, body: dict[str, Any]) -> list[Task]:
    """The clicked entry's active tasks, for a manager; else [] after telling the clicker why."""
    user = body["user"]["id"]
    task_ids = ids.decode_ids(body["actions"][0].get("value", ""))
    try:
        services.care.permissions.require(user)
        tasks = [t for t in services.care.tasks(task_ids) if t.active]
        if not tasks:
            raise CareError("These tasks are already closed.")
        return tasks
    except NotAllowed:
        _tell(services, body, replies.build_not_a_manager())
    except CareError as exc:
        _tell(services, body, replies.build_error(str(exc), mrkdwn=True))
    except LookupError as exc:  # a task id from an old message, say
        _tell(services, body, replies.build_error(str(exc)))
    return []


def surface(body: dict[str, Any]) -> str:
    """Where a click came from: the App Home tab, or a message's button."""
    in_home = (body.get("view") or {}).get("type") == "home"
    return SURFACE_HOME if in_home else SURFACE_BUTTON


def _claim(services: Services, body: dict[str, Any], user: str, task_ids: list[str]) -> list[Task]:
    result = services.care.claim(task_ids, user, surface(body))
    if result.holder:
        sub = _subscriber_name(services, task_ids)
        _tell(
            services,
            body,
            replies.build_already_claimed(
                result.holder, result.holder_since, services.settings.timezone, sub
            ),
        )
        return []
    if result.already_mine:  # a stale message still showing Claim
        _tell(services, body, replies.build_info("You already have it. Reach out, then log it."))
        return []
    return result.claimed


def _release(
    services: Services, body: dict[str, Any], user: str, task_ids: list[str]
) -> list[Task]:
    return services.care.release(task_ids, user, surface(body))


def _done(services: Services, body: dict[str, Any], user: str, task_ids: list[str]) -> list[Task]:
    return services.care.done(task_ids, user, surface(body))


def _snooze(services: Services, body: dict[str, Any], user: str, _: list[str]) -> list[Task]:
    try:
        days, rest = ids.decode_choice(body["actions"][0]["selected_option"]["value"])
    except (KeyError, ValueError) as exc:
        raise CareError(
            "That snooze choice could not be read; try /care snooze TASK-ID DAYS."
        ) from exc
    tasks = services.care.snooze(rest, days, user, surface(body))
    until = tasks[0].snoozed_until
    if until is not None:
        _tell(
            services,
            body,
            replies.build_snoozed(
                rest, until, services.care.today(), _subscriber_name(services, rest)
            ),
        )
    return tasks


def _subscriber_name(services: Services, task_ids: list[str]) -> str:
    task = services.repos.tasks.get(task_ids[0]) if task_ids else None
    sub = services.repos.subscribers.get(task.subscriber_id) if task else None
    return sub.display_name if sub else ""


def _channel(body: dict[str, Any]) -> str:
    return (
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )


def _tell(services: Services, body: dict[str, Any], message: dict[str, Any]) -> None:
    """A private note to the person who clicked: ephemeral in the channel, else a DM-less Home refresh."""
    user = body["user"]["id"]
    channel = _channel(body)
    try:
        if channel:
            services.client.chat_postEphemeral(channel=channel, user=user, **message)
        else:
            services.home.publish(user)
    except Exception:
        log.exception("Could not tell %s: %s", user, message.get("text"))
