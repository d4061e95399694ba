"""The engine: once per key forever, only in window, expiry kept for stats, churn-risk cooldown."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

import bot.repos.tasks as tasks_module
from bot.clock import FixedClock
from bot.engine import apply_changes, plan_changes, run_engine
from bot.models import Event
from bot.rescore import refresh_churn_risk
from tests.bot.builders import TODAY, at_noon, days_ago, event, member, outreach_on


@pytest.fixture
def clock():
    return FixedClock(at_noon(TODAY))


def run_on(day, repos, settings, clock):
    clock.set(at_noon(day))
    return run_engine(day, repos, settings, clock)


def keys(repos) -> Counter:
    return Counter(t.key for t in repos.tasks.all())


def test_engine_is_idempotent_on_the_same_day_and_the_following_days(repos, settings, clock):
    repos.subscribers.put_many(
        [
            member("cus_a", tenure=30),
            member("cus_b", tenure=7, status="past_due"),
            member("cus_c", tenure=400, status="canceled", ended=days_ago(8)),
            member("cus_d", tenure=200, interval="year", next_charge=TODAY + timedelta(days=14)),
            member("cus_e", cancel_at_period_end=True),
        ]
    )
    first = run_on(TODAY, repos, settings, clock)
    assert len(first.created) == 5
    for _ in range(2):
        assert run_on(TODAY, repos, settings, clock).created == []
    assert repos.tasks.count() == 5
    for offset in range(1, 40):
        day = TODAY + timedelta(days=offset)
        run_on(day, repos, settings, clock)
        count = repos.tasks.count()
        assert run_on(day, repos, settings, clock).created == []
        assert repos.tasks.count() == count
    assert max(keys(repos).values()) == 1


def test_first_run_does_not_create_milestones_already_out_of_window(repos, settings, clock):
    repos.subscribers.put_many([member("cus_a", tenure=50), member("cus_b", tenure=44)])
    created = run_on(TODAY, repos, settings, clock).created
    assert [t.key for t in created] == ["cus_b:checkin_30"]


def test_new_task_carries_risk_and_value_snapshots(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30, status="past_due", amount=90, count=3))
    (task,) = run_on(TODAY, repos, settings, clock).created
    assert (task.kind, task.due, task.status) == ("checkin_30", TODAY, "open")
    assert (task.risk_score, task.risk_band) == (35, "medium")
    assert task.risk_reasons == ["Payment past due"]
    assert task.value == 30.0
    assert task.created_at == clock.now()
    assert "Day 30 check-in" in task.reason
    assert repos.tasks.by_key("cus_a:checkin_30") == task


def test_unhandled_task_expires_after_its_window_and_is_kept_for_stats(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    (task,) = run_on(TODAY, repos, settings, clock).created
    assert run_on(TODAY + timedelta(days=14), repos, settings, clock).expired == []
    result = run_on(TODAY + timedelta(days=15), repos, settings, clock)
    (expired,) = result.expired
    stored = repos.tasks.get(task.id)
    assert stored == expired
    assert (stored.status, stored.outcome) == ("expired", "expired")
    assert stored.closed_at == clock.now()
    assert repos.tasks.count() == 1
    assert run_on(TODAY + timedelta(days=16), repos, settings, clock).created == []


def test_claimed_tasks_never_expire(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    (task,) = run_on(TODAY, repos, settings, clock).created

    def claim(t):
        t.status, t.claimed_by, t.claimed_at = "claimed", "U1", clock.now()

    repos.tasks.mutate(task.id, claim)
    assert run_on(TODAY + timedelta(days=60), repos, settings, clock).expired == []
    assert repos.tasks.get(task.id).status == "claimed"


def test_snoozed_task_does_not_expire_before_its_snooze_ends(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    (task,) = run_on(TODAY, repos, settings, clock).created
    until = TODAY + timedelta(days=20)

    def snooze(t):
        t.snoozed_until = until

    repos.tasks.mutate(task.id, snooze)
    assert run_on(until, repos, settings, clock).expired == []
    assert [t.id for t in run_on(until + timedelta(days=1), repos, settings, clock).expired] == [
        task.id
    ]


def test_win_back_task_lasts_until_30_days_after_the_end(repos, settings, clock):
    end = days_ago(7)
    repos.subscribers.put(member("cus_a", status="canceled", ended=end))
    (task,) = run_on(TODAY, repos, settings, clock).created
    assert task.kind == "win_back"
    assert task.value == 30.0  # what the customer was worth, for ordering win-backs
    assert run_on(end + timedelta(days=30), repos, settings, clock).expired == []
    assert len(run_on(end + timedelta(days=31), repos, settings, clock).expired) == 1


def test_task_claimed_between_plan_and_apply_is_not_expired(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    (task,) = run_on(TODAY, repos, settings, clock).created
    later = TODAY + timedelta(days=20)
    changes = plan_changes(later, repos, settings, at_noon(later))
    assert [t.id for t in changes.expire] == [task.id]

    def claim(t):
        t.status, t.claimed_by = "claimed", "U2"

    repos.tasks.mutate(task.id, claim)
    assert apply_changes(changes, repos).expired == []
    assert repos.tasks.get(task.id).status == "claimed"


def test_planning_writes_nothing(repos, settings, clock):
    repos.subscribers.put_many([member("cus_a", tenure=30), member("cus_b", status="unpaid")])
    changes = plan_changes(TODAY, repos, settings, clock.now())
    assert len(changes.create) == 1
    assert repos.tasks.count() == 0


def test_ids_of_tasks_planned_together_never_collide(repos, settings, clock, monkeypatch):
    def always_the_same_first(key, taken, length=5):
        return next(c for c in ("aaaaa", "bbbbb", "ccccc", "ddddd") if not taken(c))

    monkeypatch.setattr(tasks_module, "short_id", always_the_same_first)
    repos.subscribers.put_many([member("cus_a", tenure=30), member("cus_b", tenure=7)])
    repos.subscribers.put(member("cus_c", tenure=90))
    created = run_on(TODAY, repos, settings, clock).created
    assert sorted(t.id for t in created) == ["aaaaa", "bbbbb", "ccccc"]


# churn risk ---------------------------------------------------------------------------------


def high_risk(repos, sid="cus_a", day=TODAY):
    repos.subscribers.put(member(sid))
    repos.events.add(event(sid, "cancel_request", day))


def churn_tasks(repos, sid="cus_a"):
    return sorted(
        (t for t in repos.tasks.for_subscriber(sid) if t.kind == "churn_risk"), key=lambda t: t.key
    )


def test_high_band_opens_one_churn_risk_task_with_its_reasons(repos, settings, clock):
    high_risk(repos, day=days_ago(1))
    (task,) = run_on(TODAY, repos, settings, clock).created
    assert (task.kind, task.key, task.due) == ("churn_risk", "cus_a:churn_risk:1", TODAY)
    assert (task.risk_score, task.risk_band) == (60, "high")
    assert task.risk_reasons == [f"Asked to cancel on {days_ago(1)}"]
    assert "Asked to cancel" in task.reason


def test_medium_band_opens_no_churn_risk_task(repos, settings, clock):
    repos.subscribers.put(member("cus_a", status="past_due"))
    assert run_on(TODAY, repos, settings, clock).created == []


def test_no_second_churn_risk_task_while_one_is_open_or_claimed(repos, settings, clock):
    high_risk(repos)
    (task,) = run_on(TODAY, repos, settings, clock).created
    assert run_on(TODAY + timedelta(days=1), repos, settings, clock).created == []

    def claim(t):
        t.status, t.claimed_by = "claimed", "U1"

    repos.tasks.mutate(task.id, claim)
    repos.events.add(event("cus_a", "cancel_request", TODAY + timedelta(days=25), n=1))
    assert run_on(TODAY + timedelta(days=25), repos, settings, clock).created == []
    assert len(churn_tasks(repos)) == 1


def close_with_outreach(repos, task, day):
    repos.outreach.add(outreach_on(task.subscriber_id, [task.id], day))

    def close(t):
        t.status, t.outcome, t.closed_at, t.closed_by = "done", "reached", at_noon(day), "U1"

    repos.tasks.mutate(task.id, close)


def test_no_new_churn_risk_task_within_14_days_after_outreach(repos, settings, clock):
    high_risk(repos)
    (task,) = run_on(TODAY, repos, settings, clock).created
    close_with_outreach(repos, task, TODAY + timedelta(days=2))
    for offset in range(2, 16):
        day = TODAY + timedelta(days=offset)
        repos.events.add(event("cus_a", "cancel_request", day, n=offset))  # still asking
        assert run_on(day, repos, settings, clock).created == [], day
    day = TODAY + timedelta(days=16)
    repos.events.add(event("cus_a", "cancel_request", day, n=16))
    (again,) = run_on(day, repos, settings, clock).created
    assert again.key == "cus_a:churn_risk:2"


def test_outreach_logged_for_several_tasks_at_once_starts_the_cooldown(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=90))
    repos.events.add(event("cus_a", "cancel_request", TODAY))
    created = run_on(TODAY, repos, settings, clock).created
    assert sorted(t.kind for t in created) == ["checkin_90", "churn_risk"]
    churn = next(t for t in created if t.kind == "churn_risk")
    other = next(t for t in created if t.kind != "churn_risk")
    repos.outreach.add(outreach_on("cus_a", [other.id, churn.id], TODAY))
    for t in created:

        def close(task):
            task.status, task.outcome, task.closed_at = "done", "reached", clock.now()

        repos.tasks.mutate(t.id, close)
    assert run_on(TODAY + timedelta(days=13), repos, settings, clock).created == []


def test_churn_risk_task_closed_as_done_also_starts_the_cooldown(repos, settings, clock):
    high_risk(repos)
    (task,) = run_on(TODAY, repos, settings, clock).created

    def done(t):
        t.status, t.outcome, t.closed_at = "done", "done", clock.now()

    repos.tasks.mutate(task.id, done)
    repos.events.add(event("cus_a", "cancel_request", TODAY + timedelta(days=5), n=1))
    assert run_on(TODAY + timedelta(days=5), repos, settings, clock).created == []


def test_expired_churn_risk_task_is_replaced_while_the_risk_stays_high(repos, settings, clock):
    repos.subscribers.put(member("cus_a"))
    repos.events.add(event("cus_a", "cancel_request", TODAY))  # high for 30 days
    (first,) = run_on(TODAY, repos, settings, clock).created
    day = TODAY + timedelta(days=15)
    result = run_on(day, repos, settings, clock)
    assert [t.id for t in result.expired] == [first.id]
    assert [t.key for t in result.created] == ["cus_a:churn_risk:2"]
    assert run_on(day, repos, settings, clock).created == []


def test_refresh_creates_a_churn_risk_task_when_the_band_turns_high(repos, settings, clock):
    repos.subscribers.put(member("cus_a"))
    assert refresh_churn_risk("cus_a", repos, settings, clock.now()) is None
    repos.events.add(event("cus_a", "cancel_request", TODAY))
    task = refresh_churn_risk("cus_a", repos, settings, clock.now())
    assert (task.key, task.risk_score, task.status) == ("cus_a:churn_risk:1", 60, "open")
    assert repos.tasks.get(task.id) == task


def test_refresh_updates_the_active_churn_risk_task_when_the_risk_rises(repos, settings, clock):
    repos.subscribers.put(member("cus_a", status="non_renewing"))
    (task,) = run_on(TODAY, repos, settings, clock).created
    assert task.risk_score == 60
    repos.events.add(event("cus_a", "payment_failed", TODAY))
    updated = refresh_churn_risk("cus_a", repos, settings, clock.now())
    assert updated.id == task.id
    assert (updated.risk_score, updated.risk_band) == (75, "high")
    assert "1 failed payment in the last 30 days" in updated.risk_reasons
    assert repos.tasks.get(task.id).risk_score == 75
    assert len(churn_tasks(repos)) == 1


def test_refresh_respects_the_cooldown_and_unknown_subscribers(repos, settings, clock):
    high_risk(repos)
    (task,) = run_on(TODAY, repos, settings, clock).created
    close_with_outreach(repos, task, TODAY)
    later = at_noon(TODAY + timedelta(days=3))
    assert refresh_churn_risk("cus_a", repos, settings, later) is None
    assert refresh_churn_risk("cus_nobody", repos, settings, later) is None


def test_event_days_are_read_in_the_team_timezone(repos, settings, clock):
    repos.subscribers.put(member("cus_a"))
    # 02:00 UTC on the 10th is still the 9th in New York.
    at = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
    repos.events.add(Event(id="e1", subscriber_id="cus_a", type="cancel_request", at=at))
    (task,) = run_on(TODAY, repos, settings, clock).created
    assert task.risk_reasons == ["Asked to cancel on 2026-06-09"]
