"""Service metrics: ticket volume, first-response and resolution time, first-contact resolution, CSAT.

Tickets are the shared inbox's conversations (triage items), plus `support_contact` events that
did not come from the inbox (helpdesk tickets, from an events import or live helpdesk signals).
A helpdesk ticket's first response and resolution are its first `support_reply` and
`support_solved` events with the same ticket (source and note), after it was opened. Times are
business hours (`[triage]` hours and weekdays, team timezone). Definitions: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import local_day
from bot.inbox.models import ITEM_RESOLVED, TriageItem
from bot.inbox.triage import business_minutes
from bot.metrics.care import Period
from bot.metrics.figures import COUNT, PERCENT, Figure, durations, missing, rate
from bot.metrics.history import Book, Signal
from config.rules import TriageRules

CSAT_SATISFIED_MIN, CSAT_MAX = 4, 5


def first_response_at(item: TriageItem) -> datetime | None:
    """The first time a person acted on the item in Slack: claimed, replied to or resolved it."""
    times = [t for t in (item.claimed_at, item.responded_at, item.resolved_at) if t is not None]
    return min(times) if times else None


def _opened(item: TriageItem) -> datetime:
    return item.opened_at or item.created_at


def service_figures(
    items: Iterable[TriageItem], book: Book, period: Period, rules: TriageRules, tz: ZoneInfo
) -> dict[str, Figure]:
    """Every service number of the period, by name."""
    created = [  # an outreach counts once the customer answers it, from their answer
        i for i in items if (at := i.opened_at) and period.first <= local_day(at, tz) <= period.last
    ]
    helpdesk = [
        s
        for s in book.signals_between("support_contact", period.first, period.last)
        if s.source != "inbox"
    ]
    out: dict[str, Figure] = {
        "tickets": Figure(
            len(created) + len(helpdesk),
            COUNT,
            detail={"inbox": len(created), "helpdesk": len(helpdesk)},
        )
    }
    hours = business_hours_of(rules, tz)
    first: list[float] = []
    waiting = 0
    for item in created:
        at = first_response_at(item)
        if at is None:
            waiting += 1
        else:
            first.append(hours(_opened(item), at))
    resolved = [i for i in created if i.status == ITEM_RESOLVED and i.resolved_at is not None]
    solved = [hours(_opened(i), i.resolved_at) for i in resolved if i.resolved_at]
    tickets = helpdesk_times(helpdesk, book, hours)
    first += tickets.first_response
    solved += tickets.resolution
    none = "no inbox conversation or helpdesk ticket in the period"
    frt = durations(
        first,
        none if not created and not helpdesk else "none answered yet",
        unanswered=waiting + tickets.unanswered,
    )
    out["first_response_median"], out["first_response_p90"] = frt["median"], frt["p90"]
    res = durations(
        solved,
        none if not created and not helpdesk else "none resolved yet",
        unresolved=len(created) - len(resolved) + tickets.unresolved,
    )
    out["resolution_median"], out["resolution_p90"] = res["median"], res["p90"]
    one_touch = sum(1 for i in resolved if i.message_count <= 1)
    out["first_contact_resolution"] = rate(
        one_touch, len(resolved), "no conversation of the period is resolved yet"
    )
    out["csat"] = csat(book, period)
    return out


@dataclass
class TicketTimes:
    """Helpdesk tickets' first-response and resolution times (business hours)."""

    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    unanswered: int = 0
    unresolved: int = 0


def helpdesk_times(
    opened: Iterable[Signal], book: Book, hours: Callable[[datetime, datetime], float]
) -> TicketTimes:
    """For each helpdesk ticket opened (`support_contact`), the time to its first reply and to
    its solving, from the `support_reply` / `support_solved` events of the same ticket."""
    firsts: dict[str, dict[tuple[str, str], datetime]] = {}
    for kind in ("support_reply", "support_solved"):
        found = firsts.setdefault(kind, {})
        for s in book.signals.get(kind, ()):
            key = (s.source, s.ticket)
            if s.ticket and (key not in found or s.at < found[key]):
                found[key] = s.at
    out = TicketTimes()
    for ticket in opened:
        if not ticket.ticket:
            continue  # a contact without its ticket (an events import) cannot be timed
        key = (ticket.source, ticket.ticket)
        reply, solved = firsts["support_reply"].get(key), firsts["support_solved"].get(key)
        if reply is None or reply < ticket.at:
            out.unanswered += 1
        else:
            out.first_response.append(hours(ticket.at, reply))
        if solved is None or solved < ticket.at:
            out.unresolved += 1
        else:
            out.resolution.append(hours(ticket.at, solved))
    return out


def business_hours_of(rules: TriageRules, tz: ZoneInfo):  # noqa: ANN201
    def hours(start: datetime, end: datetime) -> float:
        return business_minutes(start, end, rules, tz) / 60

    return hours


def csat(book: Book, period: Period) -> Figure:
    """Share of CSAT answers (1-5) in the period that were 4 or 5."""
    answers = [
        s.value
        for s in book.signals_between("csat", period.first, period.last)
        if s.value is not None and 1 <= s.value <= CSAT_MAX
    ]
    if not answers:
        return missing("no CSAT answers in the period", PERCENT, 0)
    happy = sum(1 for v in answers if v >= CSAT_SATISFIED_MIN)
    return rate(happy, len(answers), "")
