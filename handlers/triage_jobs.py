"""The triage minute job: late outreach posts, snoozes that end, reminders of unclaimed items.

`schedule_reminders` runs `remind` every minute. Each turn posts the outreach messages Slack
refused at send time (`bot.outreach.thread`), wakes the items whose snooze has ended (and
redraws their message), then posts one reminder in the thread of each item left unclaimed
for longer than the team's business-hours limit (`bot.inbox.triage`). One message that fails
never stops the others; what failed is tried again the next minute, but a reminder that cannot
be made of its stored item (`bot.guard`) is logged and not tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import schedule

from bot.blocks.triage_thread import build_triage_reminder
from bot.guard import each_record
from bot.inbox.models import TriageItem
from bot.inbox.triage import business_minutes

if TYPE_CHECKING:
    from handlers.triage import TriageSlack

log = logging.getLogger(__name__)
WHAT = "inbox item's reminder"  # in the log's words (bot.guard)


def schedule_reminders(scheduler: schedule.Scheduler, triage: TriageSlack) -> None:
    """Run `remind` every minute; a turn that fails is logged and the next one runs."""
    scheduler.every(1).minutes.do(_guarded(lambda: remind(triage))).tag("triage-reminders")


def remind(triage: TriageSlack) -> int:
    """Post outreach messages Slack refused at send time, wake snoozed items, then post
    one reminder in each long-unclaimed item's thread. Returns the reminders posted."""
    triage.threads.post_pending()
    for item in triage.actions.wake_snoozed():
        try:
            triage.redraw(item)
        except Exception:  # its message (deleted in Slack?): the others are redrawn
            log.exception("triage: item %s woke but its message could not be redrawn", item.id)
    sent = 0
    items = triage.actions.due_reminders()
    due = each_record(items, lambda i: (i, _reminder(triage, i)), WHAT)
    made = {id(item) for item, _ in due.rows}
    for item in items:
        if id(item) not in made:  # not tried again every minute: the log says why
            triage.actions.mark_reminded(item.id)
    for item, message in due.rows:
        # Marked first: a failed write never posts; the metadata key makes a lost answer safe.
        triage.actions.mark_reminded(item.id)
        key = f"inbox:{item.id}:reminder:{item.last_message_at.isoformat()}"
        try:
            triage.poster.post_once(item.slack["channel"], message, key, item.slack["ts"])
        except Exception:
            log.exception("triage reminder for %s failed; retrying next minute", item.id)
            triage.actions.mark_reminded(item.id, undo=True)
            continue
        sent += 1
    return sent


def _reminder(triage: TriageSlack, item: TriageItem) -> dict[str, Any]:
    """The reminder message of an unclaimed item: how long it has waited in business hours."""
    waited = business_minutes(
        item.last_message_at,
        triage.services.clock.now(),
        triage.settings.triage,
        triage.settings.timezone,
    )
    return build_triage_reminder(triage.view(item), waited)


def _guarded(job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("triage reminders failed; retrying next minute")

    return run
