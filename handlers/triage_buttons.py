"""The triage message's buttons: Claim, Resolve, Release, Reopen, Snooze, Show full email, and
a cancel request's Confirm / Dismiss.

Each listener acks at once; its work runs lazily: one call to `bot.inbox.triage.TriageActions`
(or `bot.inbox.cancel.CancelRequests`), then the message is redrawn in place. A refusal (not a
manager, claimed by someone else, an item gone) is told privately to whoever clicked (`tell`).
Reply and Link to a subscriber have their own modules (`handlers/reply.py`, `handlers/link.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from bot.blocks import ids, replies
from bot.blocks.triage_thread import build_full_email_messages
from bot.care import CareError, NotAllowed
from bot.inbox.models import TriageItem
from handlers.context import Services
from handlers.views import tell as tell_user

if TYPE_CHECKING:
    from handlers.triage import TriageSlack

Work = Callable[[dict[str, Any], str, str], TriageItem | None]  # (body, user, item id)


def register(app: App, services: Services) -> None:
    """Listen for the triage message's buttons (only when the inbox is configured)."""
    triage: TriageSlack = services.triage
    actions, cancels = triage.actions, triage.ingestor.cancels
    permissions = actions.permissions

    def ack(ack: Ack) -> None:
        ack()

    def on(action_id: str, work: Work) -> None:
        app.action(action_id)(ack=ack, lazy=[_lazily(triage, work)])

    on(ids.ACTION_TRIAGE_CLAIM, lambda b, u, i: _claim(triage, b, u, i))
    on(ids.ACTION_TRIAGE_RESOLVE, lambda b, u, i: actions.resolve(i, u))
    on(ids.ACTION_TRIAGE_RELEASE, lambda b, u, i: actions.release(i, u))
    on(ids.ACTION_TRIAGE_REOPEN, lambda b, u, i: actions.reopen(i, u))
    on(ids.ACTION_TRIAGE_SNOOZE, lambda b, u, i: _snooze(triage, b, u))
    on(ids.ACTION_TRIAGE_SHOW_FULL, lambda b, u, i: _show_full(triage, i))
    on(ids.ACTION_TRIAGE_CANCEL_CONFIRM, lambda b, u, i: cancels.confirm(i, u, permissions))
    on(ids.ACTION_TRIAGE_CANCEL_DISMISS, lambda b, u, i: cancels.dismiss(i, u, permissions))


def _lazily(triage: TriageSlack, work: Work) -> Callable[[dict[str, Any]], None]:
    """The lazy listener: run `work` for the clicked item, redraw it, or say why not."""

    def run(body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        action = body["actions"][0]
        value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
        item_id = value.split("|", 1)[-1].split(",")[0]
        try:
            item = work(body, user, item_id)
        except NotAllowed:
            tell(triage.services, body, replies.build_not_a_manager())
            return
        except CareError as exc:
            tell(triage.services, body, replies.build_error(str(exc), mrkdwn=True))
            return
        if item is not None:
            triage.redraw(item)

    return run


def _claim(triage: TriageSlack, body: dict[str, Any], user: str, item_id: str) -> TriageItem | None:
    result = triage.actions.claim(item_id, user)
    if not result.won:
        tell(
            triage.services,
            body,
            replies.build_already_claimed(
                result.holder, result.holder_since, triage.settings.timezone
            ),
        )
        return None
    return result.item


def _snooze(triage: TriageSlack, body: dict[str, Any], user: str) -> TriageItem:
    minutes, item_ids = ids.decode_choice(body["actions"][0]["selected_option"]["value"])
    return triage.actions.snooze(item_ids[0], minutes, user)


def _show_full(triage: TriageSlack, item_id: str) -> None:
    item = triage.actions.item(item_id)
    for message in build_full_email_messages(triage.view(item)):
        triage.services.client.chat_postMessage(
            channel=item.slack["channel"], thread_ts=item.slack["ts"], **message
        )


def tell(services: Services, body: dict[str, Any], message: dict[str, Any]) -> None:
    """A private note to whoever clicked on a triage message (in its channel); never raises."""
    channel = (body.get("channel") or {}).get("id") or services.settings.slack.triage_channel
    tell_user(services, body["user"]["id"], channel, message)
