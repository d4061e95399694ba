"""Zendesk, Gorgias and Front: each sender's check, contacts and CSAT on known customers only.

No vendor-made ticket or rating delivery exists (../shared/webhooks says so): Zendesk and
Gorgias bodies are the trigger template built from their documented placeholders; Gorgias's
own SatisfactionSurvey example object is used as relayed with the customer's email; Front's
event is built from the EventResponse fields of its OpenAPI spec, and its sync body is Front's.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock
from bot.repos import Repos
from bot.repos.journal import IGNORED, WAITING
from bot.signals.front import FrontReceiver
from bot.signals.gorgias import GorgiasReceiver
from bot.signals.helpdesk import csat_value
from bot.signals.intake import Intake
from bot.signals.model import Refused
from bot.signals.zendesk import ZendeskReceiver
from tests.bot.repos.factories import subscriber
from tests.bot.signals.conftest import deliver, make_intake
from tests.hooks import (
    FRONT_SECRET,
    GORGIAS_TOKEN,
    ZENDESK_SECRET,
    front_headers,
    gorgias_headers,
    helpdesk_body,
    shared_body,
    shared_json,
    zendesk_headers,
)


@pytest.fixture
def intake(repos: Repos, clock: FixedClock) -> Intake:
    repos.subscribers.put(subscriber("cus_ann", email="ann@example.com"))
    return make_intake(
        repos,
        clock,
        {
            "zendesk": ZendeskReceiver(ZENDESK_SECRET),
            "gorgias": GorgiasReceiver(GORGIAS_TOKEN),
            "front": FrontReceiver(FRONT_SECRET),
        },
    )


def types(repos: Repos) -> list[tuple[str, float | None]]:
    return sorted((e.type, e.value) for e in repos.events.for_subscriber("cus_ann"))


def test_csat_scales():
    assert [csat_value(v) for v in ("good", "Bad", 5, "1", 2, "Good, I'm satisfied", "meh", 9)] == [
        100.0,
        0.0,
        100.0,
        0.0,
        25.0,
        100.0,
        None,
        None,
    ]


def test_zendesk_signature_over_timestamp_and_body(intake: Intake, repos: Repos, clock: FixedClock):
    body = helpdesk_body(
        "ticket_created", "881", "Ann@Example.com", updated_at="2026-06-15T13:00:00Z"
    )
    bad = zendesk_headers(body)
    bad["X-Zendesk-Webhook-Signature-Timestamp"] = "2026-06-15T13:31:00Z"
    assert deliver(intake, "zendesk", body, bad)["status"] == 401
    assert deliver(intake, "zendesk", body, {})["status"] == 401
    assert deliver(intake, "zendesk", body, zendesk_headers(body))["status"] == 200
    assert deliver(intake, "zendesk", body, zendesk_headers(body))["duplicate"] is True
    rating = helpdesk_body(
        "satisfaction_rated",
        "881",
        "ann@example.com",
        rating="bad",
        comment="Nobody answered",
        updated_at="2026-06-16T09:00:00Z",
    )
    clock.set(datetime(2026, 6, 16, 9, 0, tzinfo=UTC))  # rated the next morning
    deliver(intake, "zendesk", rating, zendesk_headers(rating))
    assert types(repos) == [("csat", 0.0), ("support_contact", None)]


def test_zendesk_event_envelope_is_kept_but_ignored(intake: Intake):
    body = shared_body("zendesk", "event_schema_example.user.active_changed.json")
    assert deliver(intake, "zendesk", body, zendesk_headers(body))["status"] == 200
    assert intake.journal.with_status([IGNORED])[0].type == "zen:event-type:user.active_changed"


def test_unknown_address_waits_and_never_creates_a_subscriber(intake: Intake, repos: Repos):
    body = helpdesk_body(
        "ticket_created", "9", "stranger@example.com", updated_at="2026-06-15T13:00:00Z"
    )
    deliver(intake, "zendesk", body, zendesk_headers(body))
    assert intake.journal.with_status([WAITING])[0].wait_for == "stranger@example.com"
    assert repos.subscribers.by_email("stranger@example.com") is None


def test_gorgias_bearer_token_and_its_satisfaction_survey_object(intake: Intake, repos: Repos):
    survey = shared_json("gorgias", "satisfaction_survey.object.json")
    survey["email"] = "ann@example.com"  # the customer's address, added by the relaying rule
    body = json.dumps(survey).encode()
    assert deliver(intake, "gorgias", body, gorgias_headers("wrong"))["status"] == 401
    assert deliver(intake, "gorgias", body, {})["status"] == 401
    assert deliver(intake, "gorgias", body, gorgias_headers())["status"] == 200
    (event,) = repos.events.for_subscriber("cus_ann")
    assert (event.type, event.value, event.note) == ("csat", 25.0, "Such speed, much pertinent.")


def test_front_sync_is_answered_with_the_challenge_and_stores_nothing(intake: Intake):
    body = shared_body("front", "application_webhook.sync_validation.json")
    answer = deliver(intake, "front", body, front_headers(body, challenge="ch-123"))
    assert answer == {"status": 200, "challenge": "ch-123"}
    assert intake.journal.counts() == {}


def test_front_inbound_is_a_support_contact_and_stale_or_wrong_is_refused(
    intake: Intake, repos: Repos
):
    event = {
        "type": "inbound",
        "authorization": {"id": "cmp_abc"},
        "payload": {
            "id": "evt_55",
            "type": "inbound",
            "emitted_at": 1781530000,
            "conversation": {
                "id": "cnv_1",
                "recipient": {"handle": "ann@example.com", "role": "from"},
            },
        },
    }
    body = json.dumps(event).encode()
    old = front_headers(body, ms=int((time.time() - 600) * 1000))
    assert deliver(intake, "front", body, old)["status"] == 401
    assert deliver(intake, "front", body + b" ", front_headers(body))["status"] == 401
    assert deliver(intake, "front", body, front_headers(body))["status"] == 200
    assert types(repos) == [("support_contact", None)]
    with pytest.raises(Refused):
        FrontReceiver(FRONT_SECRET).identify(b'{"type": "inbound"}', {})


def test_helpdesk_first_response_and_solve_times_reach_the_service_metrics(
    intake: Intake, repos: Repos, settings, clock: FixedClock
):
    from datetime import date
    from zoneinfo import ZoneInfo

    from bot.metrics.care import Period
    from bot.metrics.history import Book
    from bot.metrics.service import service_figures

    def zendesk(event: str, ticket: str, at: str) -> None:
        clock.set(datetime.fromisoformat(at))  # the day passes: each arrives as it happens
        body = helpdesk_body(event, ticket, "ann@example.com", updated_at=at)
        assert deliver(intake, "zendesk", body, zendesk_headers(body))["status"] == 200

    # Mon 15 June 2026, New York business hours 09:00-17:00 (13:00-21:00 UTC)
    zendesk("ticket_created", "701", "2026-06-15T14:00:00Z")
    zendesk("agent_replied", "701", "2026-06-15T16:00:00Z")  # first reply: 2 h
    zendesk("agent_replied", "701", "2026-06-15T17:00:00Z")  # a later reply changes nothing
    zendesk("ticket_solved", "701", "2026-06-15T20:00:00Z")  # solved: 6 h
    zendesk("ticket_created", "702", "2026-06-15T15:00:00Z")  # not answered yet

    def front(kind: str, event_id: str, at: int) -> None:
        event = {
            "type": kind,
            "payload": {
                "id": event_id,
                "type": kind,
                "emitted_at": at,
                "conversation": {"id": "cnv_9", "recipient": {"handle": "ann@example.com"}},
            },
        }
        body = json.dumps(event).encode()
        clock.set(datetime.fromtimestamp(at, UTC))
        assert deliver(intake, "front", body, front_headers(body))["status"] == 200

    front("inbound", "evt_f1", 1781532000)  # 2026-06-15 14:00 UTC
    front("outbound", "evt_f2", 1781533800)  # 30 minutes later
    front("archive", "evt_f3", 1781535600)  # an hour after it came in

    tz = ZoneInfo("America/New_York")
    june = Period(date(2026, 6, 1), date(2026, 6, 30))
    figures = service_figures([], Book.load(repos, tz), june, settings.triage, tz)
    assert figures["tickets"].detail == {"inbox": 0, "helpdesk": 3}
    assert figures["first_response_median"].value == 1.25  # 2 h and 0.5 h
    assert figures["first_response_median"].detail == {"unanswered": 1}
    assert figures["resolution_median"].value == 3.5  # 6 h and 1 h
    assert figures["resolution_median"].detail == {"unresolved": 1}


def test_a_helpdesk_event_dated_ahead_of_the_clock_waits_for_its_time(
    intake: Intake, repos: Repos, clock: FixedClock
):
    """Helpdesks order nothing by date, but a contact dated tomorrow would sit ahead of every
    real one in the customer's timeline: it is held like a billing event, then recorded."""
    body = helpdesk_body(
        "ticket_created", "990", "ann@example.com", updated_at="2026-06-16T14:00:00Z"
    )
    assert deliver(intake, "zendesk", body, zendesk_headers(body)) == {"status": 200, "ok": True}
    (held,) = intake.journal.with_status(["held"])
    assert held.note.startswith("held: dated in the future, 2026-06-16 14:00 UTC, 1 day ahead")
    assert types(repos) == []
    clock.set(datetime(2026, 6, 16, 13, 56, tzinfo=UTC))  # within five minutes of it
    assert intake.release_held() == 1
    assert types(repos) == [("support_contact", None)]
