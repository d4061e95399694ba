"""Roles in the domain: leads release and reassign anyone's claim, managers only their own;
every action leaves one audit entry written with the change."""

from __future__ import annotations

from datetime import date

import pytest

from bot.care import CareError, CareService, Permissions
from bot.models import Subscriber
from bot.repos import Repos
from tests.bot.test_care import TZ, make_task

LEAD, ANN, BOB = "ULEAD", "UANN", "UBOB"


@pytest.fixture
def care(repos: Repos, clock) -> CareService:
    repos.subscribers.put(Subscriber(id="cus_1", email="ada@example.com", name="Ada"))
    return CareService(repos, clock, TZ, Permissions(frozenset({ANN, BOB}), frozenset({LEAD})))


def test_a_lead_is_a_manager_even_when_not_listed_as_one() -> None:
    permissions = Permissions(frozenset({ANN}), frozenset({LEAD}))
    assert permissions.is_manager(LEAD) and permissions.is_lead(LEAD)
    assert permissions.is_manager(ANN) and not permissions.is_lead(ANN)
    assert not permissions.is_manager(BOB)


def test_a_manager_cannot_release_or_reassign_someone_elses_claim(care, repos, clock) -> None:
    task = make_task(repos, "cus_1", "checkin_30", clock)
    care.claim([task.id], ANN)
    with pytest.raises(CareError, match=f"claimed by <@{ANN}>; only they or a care lead"):
        care.release([task.id], BOB)
    with pytest.raises(CareError, match=f"claimed by <@{ANN}>; only they or a care lead"):
        care.assign([task.id], BOB, BOB)
    assert repos.tasks.require(task.id).claimed_by == ANN
    assert [e.action for e in repos.audit.for_task(task.id, "cus_1")] == ["claim"]


def test_a_manager_hands_on_what_they_hold_or_what_is_free(care, repos, clock) -> None:
    mine = make_task(repos, "cus_1", "checkin_30", clock)
    free = make_task(repos, "cus_1", "churn_risk", clock)
    care.claim([mine.id], ANN)
    care.assign([mine.id], BOB, ANN)
    care.assign([free.id], BOB, ANN)
    assert {repos.tasks.require(t.id).claimed_by for t in (mine, free)} == {BOB}
    [handed] = [e for e in repos.audit.for_task(mine.id, "cus_1") if e.action == "assign"]
    assert (handed.by, handed.assignee, handed.holder) == (ANN, BOB, ANN)


def test_a_lead_releases_and_reassigns_anyones_claim_and_the_trail_says_whose(
    care, repos, clock
) -> None:
    task = make_task(repos, "cus_1", "checkin_30", clock)
    care.claim([task.id], ANN)
    care.assign([task.id], BOB, LEAD)
    care.release([task.id], LEAD)
    trail = repos.audit.for_task(task.id, "cus_1")[::-1]
    assert [(e.action, e.by, e.holder, e.assignee) for e in trail] == [
        ("claim", ANN, "", ""),
        ("assign", LEAD, ANN, BOB),
        ("release", LEAD, BOB, ""),
    ]
    assert repos.tasks.require(task.id).status == "open"


def test_a_log_records_its_closing_and_follow_up_in_the_trail(care, repos, clock) -> None:
    task = make_task(repos, "cus_1", "checkin_30", clock)
    result = care.log_outreach(
        [task.id], ANN, "call", "follow_up", "call back", date(2026, 6, 20), surface="modal"
    )
    [logged] = repos.audit.for_task(task.id, "cus_1")
    assert (logged.action, logged.surface, logged.by) == ("log", "modal", ANN)
    assert logged.detail == "call, follow_up, follow-up 2026-06-20"
    assert result.follow_up is not None and repos.tasks.require(result.follow_up.id).active


def test_an_unknown_surface_is_refused_before_anything_is_stored(care, repos, clock) -> None:
    task = make_task(repos, "cus_1", "checkin_30", clock)
    with pytest.raises(ValueError, match="unknown surface"):
        care.claim([task.id], ANN, surface="carrier pigeon")
    assert repos.tasks.require(task.id).status == "open"
    assert repos.audit.for_task(task.id, "cus_1") == []
