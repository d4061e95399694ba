"""Service metrics on hand-built inbox items and events, in business hours (09:00-17:00 Mon-Fri, New York)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.metrics.care import Period
from bot.metrics.history import Book
from bot.metrics.service import service_figures
from bot.repos import Repos
from config import Settings
from tests.bot.metrics.histories import customer, event, item, utc

NY = ZoneInfo("America/New_York")
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def test_response_and_resolution_in_business_hours(repos: Repos, settings: Settings) -> None:
    items = [
        # Mon Mar 2 16:00 -> claimed Tue 10:00: 1 h on Monday + 1 h on Tuesday = 2 h
        item("a", ny(2026, 3, 2, 16), claimed=ny(2026, 3, 3, 10), resolved=ny(2026, 3, 3, 12)),
        # Sat Mar 7 -> resolved (no claim) Mon 09:30: 0.5 h; the customer wrote twice
        item("b", ny(2026, 3, 7, 11), resolved=ny(2026, 3, 9, 9, 30), messages=2),
        item("c", ny(2026, 3, 10, 9)),  # not answered yet
        item("old", ny(2026, 2, 27, 9), claimed=ny(2026, 2, 27, 10)),  # February's
    ]
    repos.subscribers.put(customer("s1", date(2025, 1, 1)))
    repos.events.add_many(
        [
            event("s1", "support_contact", utc(2026, 3, 4, 15), source="zendesk"),
            event("s1", "support_contact", utc(2026, 3, 4, 16), source="inbox"),  # = an item
            event("s1", "csat", utc(2026, 3, 5, 15), 5),
            event("s1", "csat", utc(2026, 3, 6, 15), 4),
            event("s1", "csat", utc(2026, 3, 7, 15), 2),
            event("s1", "csat", utc(2026, 3, 8, 15), 9),  # not on the 1-5 scale
        ]
    )
    figures = service_figures(items, Book.load(repos, NY), MARCH, settings.triage, NY)
    assert figures["tickets"].value == 4
    assert figures["tickets"].detail == {"inbox": 3, "helpdesk": 1}
    # first responses 2 h and 0.5 h: median 1.25 h, p90 0.5 + 0.9 * 1.5 = 1.85 h
    assert figures["first_response_median"].value == 1.25
    assert figures["first_response_p90"].value == 1.85
    assert figures["first_response_median"].detail == {"unanswered": 1}
    # resolutions: a Mon 16:00 -> Tue 12:00 = 1 + 3 = 4 h; b 0.5 h
    assert figures["resolution_median"].value == 2.25
    # of the two resolved, only a was settled with the customer's first email
    assert figures["first_contact_resolution"].value == 50.0
    assert round(figures["csat"].value or 0, 1) == 66.7 and figures["csat"].n == 3


def test_no_conversations_says_why(repos: Repos, settings: Settings) -> None:
    figures = service_figures([], Book.load(repos, NY), MARCH, settings.triage, NY)
    assert figures["tickets"].value == 0  # a count of nothing is a real zero
    assert figures["first_response_median"].why == (
        "no inbox conversation or helpdesk ticket in the period"
    )
    assert figures["first_contact_resolution"].value is None
    assert figures["csat"].why == "no CSAT answers in the period"


def test_a_conversation_opened_late_at_night_belongs_to_its_local_day(
    repos: Repos, settings: Settings
) -> None:
    # 04:30 UTC on Apr 1 is 00:30 Apr 1 in New York, 03:30 UTC is still Mar 31
    items = [item("late", utc(2026, 4, 1, 3, 30)), item("next", utc(2026, 4, 1, 4, 30))]
    figures = service_figures(items, Book.load(repos, NY), MARCH, settings.triage, NY)
    assert figures["tickets"].detail["inbox"] == 1


def test_an_outreach_counts_from_the_customers_answer_and_not_before(
    repos: Repos, settings: Settings
) -> None:
    from dataclasses import replace

    sent = item("o1", ny(2026, 2, 20, 10))  # our email in February ...
    unanswered = replace(item("o2", ny(2026, 3, 2, 10)), source="outreach", message_count=0)
    answered = replace(  # ... answered on Mon Mar 2 at 10:00, claimed at 11:00
        sent, source="outreach", answered_at=ny(2026, 3, 2, 10), claimed_at=ny(2026, 3, 2, 11)
    )
    answered = replace(answered, status="claimed", claimed_by="U1")
    figures = service_figures(
        [answered, unanswered], Book.load(repos, NY), MARCH, settings.triage, NY
    )
    assert figures["tickets"].detail["inbox"] == 1  # the unanswered email is no ticket
    assert figures["first_response_median"].value == 1.0  # from the answer, not the email
