"""The digest plan: one entry per customer, digest order, counts, and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from msgspec.structs import replace

from bot.clock import FixedClock
from bot.digest import plan_digest
from bot.digest_plan import KIND_ORDER
from bot.engine import run_engine
from tests.bot.builders import TODAY, at_noon, days_ago, event, member


@pytest.fixture
def clock():
    return FixedClock(at_noon(TODAY))


def digest(repos, settings, day=TODAY):
    return plan_digest(day, repos, settings, at_noon(day))


def test_checkin_and_churn_risk_of_one_customer_make_one_entry(repos, settings):
    repos.subscribers.put(member("cus_a", tenure=90, name="Ann Lee"))
    repos.events.add(event("cus_a", "cancel_request", days_ago(1)))
    plan = digest(repos, settings)
    (entry,) = plan.entries
    assert entry.subscriber.name == "Ann Lee"
    assert [t.kind for t in entry.tasks] == ["churn_risk", "checkin_90"]
    assert entry.kind == "churn_risk"
    assert (entry.risk.score, entry.risk.band) == (60, "high")
    assert any("Day 90 check-in" in r for r in entry.reasons)
    assert f"Asked to cancel on {days_ago(1)}" in entry.reasons
    items = plan.to_json()["tasks"]
    assert [i["kind"] for i in items] == ["churn_risk", "checkin_90"]
    assert {i["subscriber"]["id"] for i in items} == {"cus_a"}


def test_json_has_exactly_the_issue_shape(repos, settings):
    repos.subscribers.put(member("cus_a", tenure=30, name="Ann Lee", email="ann@example.com"))
    plan = digest(repos, settings).to_json()
    assert plan["date"] == TODAY.isoformat()
    (item,) = plan["tasks"]
    assert {"id", "kind", "subscriber", "due", "overdue", "risk"} <= set(item)
    assert item["kind"] == "checkin_30"
    assert item["subscriber"] == {"id": "cus_a", "email": "ann@example.com", "name": "Ann Lee"}
    assert item["due"] == TODAY.isoformat()
    assert item["overdue"] is False
    assert item["risk"] == {"score": 0, "band": "low", "reasons": []}


@pytest.mark.parametrize(("days_late", "overdue"), [(7, False), (8, True)])
def test_task_is_overdue_after_the_grace_period(repos, settings, days_late, overdue):
    repos.subscribers.put(member("cus_a", tenure=30 + days_late))
    plan = digest(repos, settings)
    assert plan.to_json()["tasks"][0]["overdue"] is overdue
    assert plan.entries[0].overdue is overdue
    assert plan.counts["overdue"] == int(overdue)


def test_entries_are_ordered_by_kind_then_overdue_then_risk_then_value(repos, settings):
    repos.subscribers.put_many(
        [
            member("cus_anniv", started=days_ago(365)),
            member("cus_onboard", tenure=7),
            member("cus_winback", status="canceled", ended=days_ago(10)),
            member(
                "cus_renew", tenure=300, interval="year", next_charge=TODAY + timedelta(days=10)
            ),
            member("cus_churn", cancel_at_period_end=True),
            member("cus_c30_cheap", tenure=30, amount=10),
            member("cus_c30_rich", tenure=30, amount=99),
            member("cus_c30_risky", tenure=30, amount=5, status="past_due"),
            member("cus_c30_late", tenure=40, amount=1),
            member("cus_c90", tenure=90),
            member("cus_c180", tenure=180),
        ]
    )
    plan = digest(repos, settings)
    assert [e.subscriber.id for e in plan.entries] == [
        "cus_churn",
        "cus_winback",
        "cus_renew",
        "cus_onboard",
        "cus_c30_late",
        "cus_c30_risky",
        "cus_c30_rich",
        "cus_c30_cheap",
        "cus_c90",
        "cus_c180",
        "cus_anniv",
    ]
    kinds = [k for k, _ in plan.groups()]
    assert kinds == [k for k in KIND_ORDER if k in kinds]
    assert plan.counts == {
        "churn_risk": 1,
        "win_back": 1,
        "pre_renewal": 1,
        "onboarding": 1,
        "checkin_30": 4,
        "checkin_90": 1,
        "checkin_180": 1,
        "anniversary": 1,
        "overdue": 1,
    }


def test_plan_changes_no_data_and_matches_what_the_engine_then_creates(repos, settings, clock):
    repos.subscribers.put_many(
        [member("cus_a", tenure=30), member("cus_b", cancel_at_period_end=True)]
    )
    plan = digest(repos, settings)
    assert repos.tasks.count() == 0
    created = run_engine(TODAY, repos, settings, clock).created
    assert sorted(t.key for t in plan.tasks) == sorted(t.key for t in created)
    after = digest(repos, settings)
    assert sorted(t.id for t in after.tasks) == sorted(t.id for t in created)


def test_snoozed_tasks_are_hidden_until_the_snooze_ends(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    (task,) = run_engine(TODAY, repos, settings, clock).created

    def snooze(t):
        t.snoozed_until = TODAY + timedelta(days=3)

    repos.tasks.mutate(task.id, snooze)
    assert digest(repos, settings, TODAY + timedelta(days=2)).tasks == []
    assert [t.id for t in digest(repos, settings, TODAY + timedelta(days=3)).tasks] == [task.id]


def test_claimed_tasks_stay_listed_with_their_claimant(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    (task,) = run_engine(TODAY, repos, settings, clock).created

    def claim(t):
        t.status, t.claimed_by = "claimed", "U42"

    repos.tasks.mutate(task.id, claim)
    (item,) = digest(repos, settings, TODAY + timedelta(days=1)).to_json()["tasks"]
    assert (item["id"], item["status"], item["claimed_by"]) == (task.id, "claimed", "U42")


def test_tasks_due_later_and_tasks_that_would_expire_are_left_out(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    (task,) = run_engine(TODAY, repos, settings, clock).created
    assert digest(repos, settings, TODAY + timedelta(days=14)).tasks != []
    assert digest(repos, settings, TODAY + timedelta(days=15)).tasks == []
    assert repos.tasks.get(task.id).status == "open"  # the preview expired nothing


def test_current_risk_is_shown_not_the_snapshot(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    run_engine(TODAY, repos, settings, clock)
    repos.events.add(event("cus_a", "payment_failed", TODAY))
    (item,) = digest(repos, settings).to_json()["tasks"]
    assert item["risk"]["score"] == 15
    assert item["risk"]["reasons"] == ["1 failed payment in the last 30 days"]


def test_task_of_a_subscriber_no_longer_stored_is_still_listed(repos, settings, clock):
    repos.subscribers.put(member("cus_a", tenure=30))
    (task,) = run_engine(TODAY, repos, settings, clock).created
    other = replace(task, id="zzzzz", key="cus_gone:checkin_30", subscriber_id="cus_gone")
    repos.tasks.create(other)
    plan = digest(repos, settings)
    assert {e.subscriber.id for e in plan.entries} == {"cus_a", "cus_gone"}
