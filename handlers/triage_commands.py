"""The inbox in `/care` commands: `/care triage`, `/care inbox retry|drop ID`, `/care stats`.

`handlers/commands.py` parses the command and calls here: `list_open` ranks the open items
(`bot.priority`: overdue first, then risk, value and when the customer was last reached) and
lists the parked emails after them; `parked_command` retries or drops a parked email (the
retry runs after the ack); `inbox_figures` gives the inbox's figures for `/care stats`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.blocks import replies
from bot.blocks.triage import TriageView
from bot.blocks.triage_list import WHAT, build_triage_list
from bot.care import CareError
from bot.guard import each_record
from bot.inbox.delivery import PostFailed
from bot.inbox.models import SOURCE_OUTREACH, TriageItem
from bot.priority import Priority

if TYPE_CHECKING:
    from handlers.triage import TriageSlack

log = logging.getLogger(__name__)


def list_open(triage: TriageSlack) -> dict[str, Any]:
    """`/care triage`: open items in `bot.priority` order (overdue = past its reminder
    time), then oldest first; then parked emails. An item that cannot be ranked or viewed
    is named in the list (`bot.guard`), never its end."""
    repos = triage.services.repos
    now, tz = triage.services.clock.now(), triage.settings.timezone
    today = now.astimezone(tz).date()
    ranked = each_record(
        repos.inbox.active_items(), lambda item: _ranked(triage, item, today), WHAT
    )
    views = [view for _, view in sorted(ranked.rows, key=lambda pair: pair[0])]
    return build_triage_list(views, now, tz, parked=repos.inbox.dead.all(), unshown=ranked.failed)


def _ranked(
    triage: TriageSlack, item: TriageItem, today: date
) -> tuple[tuple[Any, ...], TriageView]:
    """The item's place in the list (its priority, then oldest first) and its view."""
    view = triage.view(item)
    sub, risk = view.subscriber, view.risk
    tz = triage.settings.timezone
    rank = Priority(
        overdue=triage.actions.waited_too_long(item),
        risk=risk.score if risk else 0,
        band=risk.band if risk else "low",
        value=sub.monthly_value if sub else 0.0,
        last_reached=triage.services.repos.outreach.last_reached(sub.id, tz) if sub else None,
    )
    return (*rank.key(today), item.created_at, item.id), view


def parked_command(
    triage: TriageSlack, user: str, verb: str, letter_id: str
) -> tuple[dict[str, Any], Callable[[], None] | None]:
    """`/care inbox retry ID` / `drop ID`: the answer now, and the retry to run after the ack.

    Raises:
        CareError: not a manager, or no parked email with that id.
    """
    triage.actions.permissions.require(user)
    dead = triage.services.repos.inbox.dead
    letter = dead.get(letter_id)
    if letter is None:
        raise CareError("No parked email with that id. `/care triage` lists them.")
    if verb == "drop":
        dead.drop(letter)
        log.info("inbox: %s dropped parked email %s (%s)", user, letter.id, letter.message_id)
        return replies.build_info(f"Dropped the parked email `{letter.id}`."), None

    def retry() -> None:
        if letter.source == SOURCE_OUTREACH:  # a sent email's triage post Slack refused
            try:
                triage.threads.retry_parked(letter)
            except Exception as exc:  # noqa: BLE001 - the answer is: it stays parked
                log.warning("inbox: retry of %s by %s: %s; it stays parked", letter.id, user, exc)
            return
        try:
            result = triage.ingestor.retry_parked(letter.id)
        except PostFailed as exc:
            log.warning("inbox: retry of %s by %s: %s; it stays parked", letter.id, user, exc)
            return
        log.info("inbox: retry of %s by %s: %s", letter.id, user, result.status)

    answer = replies.build_info(
        f"Retrying `{letter.id}`: it appears in the triage channel if it goes through, "
        "and stays in `/care triage` if it fails again."
    )
    return answer, retry


def inbox_figures(triage: TriageSlack) -> dict[str, Any]:
    """The inbox's figures for `/care stats`: open items, parked emails, noise, IMAP state."""
    inbox = triage.services.repos.inbox
    figures: dict[str, Any] = {"open items": len(inbox.active_items())}
    parked = inbox.dead.count()
    if parked:
        figures["parked emails (see /care triage)"] = parked
    for kind, count in sorted(inbox.noise_counts().items()):
        figures[f"filtered {kind.replace('_', ' ')}"] = count
    for status in inbox.connector_statuses():
        figures[f"IMAP {status.key}"] = status.state + (
            f" ({status.consecutive_failures} failures)" if status.consecutive_failures else ""
        )
        if status.last_error:
            figures["IMAP last error"] = status.last_error
    return figures
