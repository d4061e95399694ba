"""Cancel requests found in email, and whether they count as a churn signal.

The intent reader (`bot.inbox.intent`) gives each cancel request a confidence. One at or above
`[triage] cancel_confidence` is *counted* at once: a `cancel_request` event is recorded on the
subscriber and their churn risk re-scored. One below it is *pending*: the triage card shows it
with Confirm / Dismiss, and nothing reaches the score until a person confirms it. A person may
also dismiss a counted (or confirmed) request, which removes its event and re-scores, or count
a dismissed one after all. Each click is recorded in the audit trail with the change.

States of `TriageItem.cancel`: "" (no request, or a sender who is no subscriber), "pending",
"counted" (sure enough by itself), "confirmed", "dismissed".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.audit import SURFACE_BUTTON
from bot.care import CareError, Permissions
from bot.clock import Clock
from bot.ids import stable_id
from bot.inbox.models import TriageItem
from bot.models import Event, Task
from bot.repos import Repos
from config.settings import Settings

CANCEL = "cancel"
PENDING, COUNTED, CONFIRMED, DISMISSED = "pending", "counted", "confirmed", "dismissed"
RAISING = frozenset({COUNTED, CONFIRMED})  # states whose event is in the score

RefreshChurn = Callable[[str, Repos, Settings, datetime], Task | None]


def rescore_churn(
    subscriber_id: str, repos: Repos, settings: Settings, now: datetime
) -> Task | None:
    from bot.rescore import refresh_churn_risk

    return refresh_churn_risk(subscriber_id, repos, settings, now)


def event_id(subscriber_id: str, message_id: str) -> str:
    """The id of the `cancel_request` event one email's request records (stable: retries add
    nothing)."""
    return stable_id(subscriber_id, "cancel_request", message_id)


class CancelRequests:
    """Counts, confirms and dismisses cancel requests from email.

    Args:
        repos: the repositories (events, tasks, inbox, audit).
        settings: the risk rules and `[triage] cancel_confidence`.
        clock: the time source.
        refresh_churn: re-scores a subscriber (bot.engine's by default).
    """

    def __init__(
        self,
        repos: Repos,
        settings: Settings,
        clock: Clock,
        refresh_churn: RefreshChurn = rescore_churn,
    ) -> None:
        self.repos = repos
        self.settings = settings
        self.clock = clock
        self.refresh_churn = refresh_churn

    def state_for(self, confidence: float) -> str:
        """ "counted" when a request this sure counts by itself, else "pending"."""
        return COUNTED if confidence >= self.settings.triage.cancel_confidence else PENDING

    def record(self, subscriber_id: str, message_id: str, note: str, at: datetime) -> Task | None:
        """Record the request as a churn signal and re-score; returns the churn task, if any."""
        self.repos.events.add(
            Event(
                id=event_id(subscriber_id, message_id),
                subscriber_id=subscriber_id,
                type="cancel_request",
                at=at,
                source="inbox",
                note=note[:300],
            )
        )
        return self.refresh_churn(subscriber_id, self.repos, self.settings, self.clock.now())

    def confirm(self, item_id: str, user: str, permissions: Permissions) -> TriageItem:
        """Count the item's cancel request as a churn signal (one click on the card).

        Raises:
            CareError: not a manager, no such item, no request to confirm, or already counted.
        """
        permissions.require(user)
        item = self._item(item_id)
        if item.cancel in RAISING:
            raise CareError("This cancel request already counts as a churn signal.")
        now = self.clock.now()
        with self.repos.store.transaction():
            task = self.record(
                item.subscriber_id,
                item.cancel_message_id or item.key,
                f"email: {item.subject[:200]} (confirmed by {user})",
                item.last_message_at or now,
            )

            def confirm(current: TriageItem) -> None:
                current.cancel, current.cancel_by, current.cancel_at = CONFIRMED, user, now
                if CANCEL not in current.intents:
                    current.intents = [CANCEL, *current.intents]
                current.intent = CANCEL
                if task is not None:
                    current.churn_task_id = task.id

            item = self.repos.inbox.mutate_item(item.id, confirm)[0]
            self._audit("triage_cancel_confirm", item, user, now)
        return item

    def dismiss(self, item_id: str, user: str, permissions: Permissions) -> TriageItem:
        """Not a cancel request: take it out of the score (if it was in) and the item's intents.

        Raises:
            CareError: not a manager, no such item, or no request to dismiss.
        """
        permissions.require(user)
        item = self._item(item_id)
        if item.cancel == DISMISSED:
            raise CareError(f"Already dismissed by <@{item.cancel_by}>.")
        now = self.clock.now()
        with self.repos.store.transaction():
            if item.cancel in RAISING:
                eid = event_id(item.subscriber_id, item.cancel_message_id or item.key)
                if self.repos.events.remove(eid, item.subscriber_id):
                    self.refresh_churn(item.subscriber_id, self.repos, self.settings, now)

            def dismiss(current: TriageItem) -> None:
                current.cancel, current.cancel_by, current.cancel_at = DISMISSED, user, now
                current.intents = [i for i in current.intents if i != CANCEL]
                current.intent = current.intents[0] if current.intents else "other"

            item = self.repos.inbox.mutate_item(item.id, dismiss)[0]
            self._audit("triage_cancel_dismiss", item, user, now)
        return item

    def _item(self, item_id: str) -> TriageItem:
        item = self.repos.inbox.item(item_id.strip().lower())
        if item is None:
            raise CareError("No inbox item with that id. See /care triage for the open ones.")
        if not item.cancel or not item.subscriber_id:
            raise CareError("This email has no cancel request from a known subscriber.")
        return item

    def _audit(self, action: str, item: TriageItem, user: str, now: datetime) -> None:
        self.repos.audit.record(
            item.subscriber_id, now, user, action, SURFACE_BUTTON, item_id=item.id
        )
