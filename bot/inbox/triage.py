"""What people do with triage items: claim, release, resolve, reopen, snooze; and reminders.

Claiming works as for digest tasks: under the store's lock, one winner, the loser told who
has it. An unclaimed item gets one reminder in its thread once it has waited
`triage.remind_after_minutes` of business time (configured hours and weekdays, team timezone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.audit import SURFACE_BUTTON, inbox_key
from bot.care import CareError, Permissions
from bot.clock import Clock
from bot.inbox.models import ITEM_CLAIMED, ITEM_OPEN, ITEM_RESOLVED, ITEM_SNOOZED, TriageItem
from bot.repos import Repos
from bot.repos.inbox import ItemNotFound, ItemUnavailable
from config.rules import WEEKDAYS, TriageRules


@dataclass
class TriageClaim:
    item: TriageItem
    won: bool
    holder: str = ""
    holder_since: datetime | None = None


# A longer wait counts as its last five years: a stored time older than that is a hand edit's
# (year 1 has no day in New York), and the walk below goes day by day.
MAX_SPAN = timedelta(days=5 * 366)


def business_minutes(start: datetime, end: datetime, rules: TriageRules, tz: ZoneInfo) -> float:
    """Minutes between `start` and `end` that fall within business hours on business days
    (of the last `MAX_SPAN` at most)."""
    if end <= start:
        return 0.0
    if end - start > MAX_SPAN:
        start = end - MAX_SPAN
    total = 0.0
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date()
    while day <= local_end.date():
        if WEEKDAYS[day.weekday()] in rules.business_days:
            open_at = datetime.combine(day, rules.business_start, tz)
            close_at = datetime.combine(day, rules.business_end, tz)
            lo, hi = max(open_at, local_start), min(close_at, local_end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return total


class TriageActions:
    def __init__(
        self, repos: Repos, clock: Clock, tz: ZoneInfo, rules: TriageRules, permissions: Permissions
    ) -> None:
        self.repos = repos
        self.clock = clock
        self.tz = tz
        self.rules = rules
        self.permissions = permissions

    def item(self, item_id: str) -> TriageItem:
        try:
            return self.repos.inbox.require_item(item_id.strip().lower())
        except ItemNotFound as exc:
            raise CareError(
                "No inbox item with that id. See /care triage for the open ones."
            ) from exc

    def claim(self, item_id: str, user: str) -> TriageClaim:
        self.permissions.require(user)
        self.item(item_id)
        try:
            with self.repos.store.transaction():
                item = self.repos.inbox.claim_item(item_id.strip().lower(), user, self.clock.now())
                self._audit("triage_claim", item, user)
        except ItemUnavailable as exc:
            if exc.item.status == ITEM_RESOLVED:
                raise CareError("This conversation is already resolved.") from exc
            return TriageClaim(exc.item, False, exc.item.claimed_by, exc.item.claimed_at)
        return TriageClaim(item, True)

    def release(self, item_id: str, user: str) -> TriageItem:
        self.permissions.require(user)

        def release(item: TriageItem) -> None:
            if item.status != ITEM_CLAIMED:
                raise CareError("This conversation is not claimed.")
            if item.claimed_by != user:
                raise CareError(f"Only <@{item.claimed_by}> can release this conversation.")
            item.status, item.claimed_by, item.claimed_at = ITEM_OPEN, "", None

        return self._change(item_id, release, "triage_release", user)

    def resolve(self, item_id: str, user: str) -> TriageItem:
        self.permissions.require(user)
        now = self.clock.now()

        def resolve(item: TriageItem) -> None:
            if item.status == ITEM_RESOLVED:
                raise CareError(f"Already resolved by <@{item.resolved_by}>.")
            if item.status == ITEM_CLAIMED and item.claimed_by != user:
                raise CareError(f"<@{item.claimed_by}> has this conversation; ask them first.")
            item.status, item.resolved_by, item.resolved_at = ITEM_RESOLVED, user, now
            if not item.claimed_by:
                item.claimed_by, item.claimed_at = user, now

        return self._change(item_id, resolve, "triage_resolve", user)

    def reopen(self, item_id: str, user: str) -> TriageItem:
        self.permissions.require(user)

        def reopen(item: TriageItem) -> None:
            if item.status != ITEM_RESOLVED:
                raise CareError("This conversation is not resolved.")
            item.status, item.resolved_by, item.resolved_at = ITEM_OPEN, "", None
            item.claimed_by, item.claimed_at = "", None

        return self._change(item_id, reopen, "triage_reopen", user)

    def snooze(self, item_id: str, minutes: int, user: str) -> TriageItem:
        self.permissions.require(user)
        if not 1 <= minutes <= 14 * 24 * 60:
            raise CareError("Snooze for between a minute and 14 days.")
        until = self.clock.now() + timedelta(minutes=minutes)

        def snooze(item: TriageItem) -> None:
            if item.status == ITEM_RESOLVED:
                raise CareError("This conversation is already resolved.")
            if item.status == ITEM_CLAIMED and item.claimed_by != user:
                raise CareError(f"<@{item.claimed_by}> has this conversation.")
            item.status, item.snoozed_until = ITEM_SNOOZED, until
            item.claimed_by, item.claimed_at = "", None

        return self._change(item_id, snooze, "triage_snooze", user)

    def wake_snoozed(self) -> list[TriageItem]:
        """Snoozed items whose time has come are open again (and may be reminded)."""
        now = self.clock.now()
        woken = []
        for item in self.repos.inbox.active_items():
            if item.status == ITEM_SNOOZED and item.snoozed_until and item.snoozed_until <= now:

                def wake(current: TriageItem) -> None:
                    if current.status == ITEM_SNOOZED:
                        current.status, current.snoozed_until, current.reminded_at = (
                            ITEM_OPEN,
                            None,
                            None,
                        )

                woken.append(self.repos.inbox.mutate_item(item.id, wake)[0])
        return woken

    def waited_too_long(self, item: TriageItem) -> bool:
        """An unclaimed item past its reminder time (in business hours): overdue."""
        if item.status != ITEM_OPEN:
            return False
        start = item.last_message_at or item.created_at
        waited = business_minutes(start, self.clock.now(), self.rules, self.tz)
        return waited >= self.rules.remind_after_minutes

    def due_reminders(self) -> list[TriageItem]:
        """Unclaimed items that waited long enough in business hours and were never reminded."""
        now = self.clock.now()
        due = []
        for item in self.repos.inbox.active_items():
            if item.status != ITEM_OPEN or item.reminded_at is not None or not item.slack.get("ts"):
                continue
            waited = business_minutes(
                item.last_message_at or item.created_at, now, self.rules, self.tz
            )
            if waited >= self.rules.remind_after_minutes:
                due.append(item)
        return due

    def mark_reminded(self, item_id: str, undo: bool = False) -> TriageItem:
        """Record that the item's reminder is sent (`undo`: it could not be, try again)."""
        now = None if undo else self.clock.now()

        def mark(item: TriageItem) -> None:
            item.reminded_at = now

        return self.repos.inbox.mutate_item(item_id, mark)[0]

    def _change(self, item_id: str, change, action: str, user: str) -> TriageItem:  # noqa: ANN001
        self.item(item_id)
        with self.repos.store.transaction():
            item = self.repos.inbox.mutate_item(item_id.strip().lower(), change)[0]
            self._audit(action, item, user)
        return item

    # ----- audit trail (bot/audit.py): one entry per action, in the action's transaction ------

    def _audit(self, action: str, item: TriageItem, user: str) -> None:
        where = item.subscriber_id or inbox_key(item.id)
        detail = (
            f"until {item.snoozed_until:%Y-%m-%d %H:%M} UTC" if action == "triage_snooze" else ""
        )
        self.repos.audit.record(
            where, self.clock.now(), user, action, SURFACE_BUTTON, item_id=item.id, detail=detail
        )


def business_hours_text(rules: TriageRules) -> str:
    start: time = rules.business_start
    return f"{start:%H:%M}-{rules.business_end:%H:%M} {', '.join(rules.business_days)}"
