"""Task actions: claim races, release, assign, snooze, done, outreach logs and follow-ups."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.care import CareError, CareService, NotAllowed, Permissions
from bot.models import Subscriber, Subscription, Task
from bot.repos import Repos
from bot.stats import team_stats

TZ = ZoneInfo("America/New_York")


def make_task(repos: Repos, sid: str, kind: str, clock, due: date | None = None) -> Task:
    key = f"{sid}:{kind}"
    task = Task(
        id=repos.tasks.new_id(key),
        key=key,
        kind=kind,
        subscriber_id=sid,
        due=due or clock.now().date(),
        created_at=clock.now() - timedelta(hours=1),
        reason=f"{kind} due",
    )
    assert repos.tasks.create(task)
    return task


@pytest.fixture
def care(repos: Repos, clock) -> CareService:
    repos.subscribers.put(
        Subscriber(
            id="cus_1",
            email="ada@example.com",
            name="Ada",
            subscriptions=[Subscription(id="sub_1", started=date(2026, 1, 1))],
        )
    )
    return CareService(
        repos, clock, TZ, Permissions(frozenset({"U1", "U2", "U3"} | {f"M{i}" for i in range(20)}))
    )


def test_claiming_an_entry_claims_all_of_its_tasks(care, repos, clock):
    a = make_task(repos, "cus_1", "checkin_90", clock)
    b = make_task(repos, "cus_1", "churn_risk", clock)
    result = care.claim([a.id, b.id], "U1")
    assert result.won
    assert {t.claimed_by for t in (repos.tasks.get(a.id), repos.tasks.get(b.id))} == {"U1"}


def test_second_claim_is_refused_with_claimant_name(care, repos, clock):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    assert care.claim([task.id], "U1").won
    second = care.claim([task.id], "U2")
    assert not second.won
    assert second.holder == "U1"
    assert repos.tasks.get(task.id).claimed_by == "U1"


def test_claiming_twice_by_the_same_manager_is_harmless(care, repos, clock):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    care.claim([task.id], "U1")
    again = care.claim([task.id], "U1")
    assert again.already_mine and not again.holder


def test_twenty_simultaneous_claims_produce_exactly_one_winner(care, repos, clock):
    task = make_task(repos, "cus_1", "churn_risk", clock)
    barrier = threading.Barrier(20)
    results = {}

    def click(user: str) -> None:
        barrier.wait()
        results[user] = care.claim([task.id], user)

    threads = [threading.Thread(target=click, args=(f"M{i}",)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [u for u, r in results.items() if r.won]
    assert len(winners) == 1
    assert all(r.holder == winners[0] for u, r in results.items() if u != winners[0])
    assert repos.tasks.get(task.id).claimed_by == winners[0]


def test_non_manager_is_refused_politely(care, repos, clock):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    with pytest.raises(NotAllowed, match="only the care team's managers"):
        care.claim([task.id], "U_OUTSIDER")
    assert repos.tasks.get(task.id).status == "open"


def test_only_the_claimant_can_release(care, repos, clock):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    care.claim([task.id], "U1")
    with pytest.raises(CareError, match="claimed by <@U1>"):
        care.release([task.id], "U2")
    released = care.release([task.id], "U1")
    assert released[0].status == "open" and released[0].claimed_by == ""


def test_assign_hands_a_task_to_another_manager(care, repos, clock):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    care.assign([task.id], "U3", "U1")
    assert repos.tasks.get(task.id).claimed_by == "U3"
    with pytest.raises(CareError, match="not one of the care team"):
        care.assign([task.id], "U_NOBODY", "U1")


def test_snooze_hides_until_a_later_day_and_checks_bounds(care, repos, clock):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    snoozed = care.snooze([task.id], 3, "U1")
    assert snoozed[0].snoozed_until == care.today() + timedelta(days=3)
    with pytest.raises(CareError, match="1 to 30 days"):
        care.snooze([task.id], 0, "U1")


def test_log_closes_the_tasks_and_records_who_did_what(care, repos, clock):
    a = make_task(repos, "cus_1", "checkin_90", clock)
    b = make_task(repos, "cus_1", "churn_risk", clock)
    care.claim([a.id, b.id], "U1")
    result = care.log_outreach([a.id, b.id], "U1", "Call", "left message", "Voicemail <@U9>")
    assert {t.status for t in result.closed} == {"done"}
    assert result.outreach.outcome == "left_message" and result.outreach.channel == "call"
    history = repos.outreach.for_subscriber("cus_1")
    assert [(o.by, o.note) for o in history] == [("U1", "Voicemail <@U9>")]
    with pytest.raises(CareError, match="already done by <@U1>"):
        care.claim([a.id], "U2")


def test_a_log_sent_again_with_its_key_is_stored_once_and_comes_back_as_repeated(
    care, repos, clock
):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    first = care.log_outreach([task.id], "U1", "call", "reached", "hi", key="log:V1")
    clock.advance(seconds=5)
    again = care.log_outreach([task.id], "U1", "call", "reached", "hi", key="log:V1")

    assert not first.repeated and again.repeated and again.closed == []
    assert again.outreach.id == first.outreach.id
    assert [o.id for o in repos.outreach.for_subscriber("cus_1")] == [first.outreach.id]
    other = make_task(repos, "cus_1", "churn_risk", clock)  # another modal: another log
    assert not care.log_outreach([other.id], "U1", "call", "reached", key="log:V2").repeated


def test_log_by_email_closes_that_subscribers_open_tasks(care, repos, clock):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    result = care.log_outreach("ADA@example.com", "U2", "email", "reached")
    assert [t.id for t in result.closed] == [task.id]
    assert repos.tasks.get(task.id).closed_by == "U2"


def test_follow_up_creates_a_claimed_task_on_its_date(care, repos, clock):
    task = make_task(repos, "cus_1", "pre_renewal", clock)
    on = care.today() + timedelta(days=5)
    result = care.log_outreach([task.id], "U1", "email", "follow-up", "call back", follow_up=on)
    follow = result.follow_up
    assert follow is not None and follow.kind == "pre_renewal" and follow.due == on
    assert follow.claimed_by == "U1" and follow.status == "claimed"
    with pytest.raises(CareError, match="needs a date"):
        care.log_outreach([follow.id], "U1", "email", "follow_up")


def test_unknown_channel_or_outcome_is_explained(care, repos, clock):
    task = make_task(repos, "cus_1", "checkin_30", clock)
    with pytest.raises(CareError, match="Unknown channel 'pigeon'"):
        care.log_outreach([task.id], "U1", "pigeon", "reached")
    with pytest.raises(CareError, match="Unknown outcome"):
        care.log_outreach([task.id], "U1", "call", "maybe")
    assert repos.tasks.get(task.id).active


def test_stats_count_claims_done_and_median_time_to_claim(care, repos, clock):
    a = make_task(repos, "cus_1", "checkin_30", clock)
    b = make_task(repos, "cus_1", "checkin_90", clock)
    care.claim([a.id], "U1")
    care.log_outreach([a.id], "U1", "call", "saved")
    care.done([b.id], "U2")
    stats = team_stats(repos, clock.now() + timedelta(minutes=1), 7)
    assert stats.claimed == 2 and stats.done == 2 and stats.expired == 0
    assert stats.per_manager["U1"].saved == 1
    assert stats.median_claim_minutes == pytest.approx(60.0)


def test_stats_count_only_what_happened_in_the_period_to_the_minute(care, repos, clock):
    """Claims and closes just inside and just outside a 7-day window, tasks due either side."""
    start = clock.now()
    old = make_task(repos, "cus_1", "checkin_30", clock, due=start.date() - timedelta(days=9))
    edge = make_task(repos, "cus_1", "checkin_90", clock, due=start.date() - timedelta(days=7))
    care.claim([old.id], "U1")  # at `start`
    clock.advance(minutes=2)
    care.done([edge.id], "U2")  # at start + 2 min
    week_later = start + timedelta(days=7)
    inside = team_stats(repos, week_later + timedelta(minutes=1), 7)  # window from start + 1 min
    # U1's claim at `start` is out; U2's done (which claims it too) is in
    assert (inside.claimed, inside.done, inside.due) == (1, 1, 0)
    assert inside.open_now == 1 and "U1" not in inside.per_manager
    assert inside.per_manager["U2"].claimed == inside.per_manager["U2"].done == 1
    assert team_stats(repos, week_later, 7).per_manager["U1"].claimed == 1  # its first instant
    assert team_stats(repos, start + timedelta(minutes=5), 7).due == 1  # edge due, old not
