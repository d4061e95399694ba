"""`plan_day` with no engine run the day before: the whole dry run keeps its new tasks as facts.

On the first day after an import (no task stored), or days after the last engine run, the
sized plan's dry run plans every customer's tasks. A customer whose risk cannot open a
churn_risk task gets their milestone tasks as `PlannedTask` facts (id reserved in the same
order), neither scored nor worded: only the posted entries build them. The plan must post
exactly what the full plan (every task created and scored) chooses, the same `Task`s.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FixedClock
from bot.digest import plan_digest
from bot.duetask import PlannedTask
from bot.engine import plan_changes, run_engine
from bot.models import Task
from bot.sizing import plan_day
from config import load_settings
from tests.bot.builders import TODAY, at_noon
from tests.bot.test_sizing import _shape, _stored, customer


def _config():
    return load_settings({"CARE_DATA_DIR": "/nonexistent"}, dotenv=False)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.lists(customer, min_size=3, max_size=24),
    limit=st.integers(0, 5).map(lambda n: n or None),
    must_show=st.sampled_from([0.0, 30.0, 300.0]),
    ran=st.sampled_from([None, 2, 6]),
    later=st.integers(0, 3),
)
def test_a_plan_with_no_run_the_day_before_posts_what_the_full_plan_chooses(
    customers, limit, must_show, ran, later
):
    repos = _stored(customers)
    config = _config()
    if ran is not None:  # the engine last ran days ago: its tasks stored, some claimed
        day = TODAY - timedelta(days=ran)
        created = run_engine(day, repos, config, FixedClock(at_noon(day))).created
        for task, c in zip(created, customers, strict=False):
            if c["claimed"]:
                repos.tasks.mutate(task.id, lambda t: setattr(t, "status", "claimed"))
    else:
        assert repos.tasks.count() == 0  # a fresh import
    today = TODAY + timedelta(days=later)  # days passing with no run
    now = at_noon(today)

    full = plan_digest(today, repos, config, now)
    chosen = full.choose(limit, must_show)
    plan, choice = plan_day(today, repos, config, now, limit, must_show)

    assert _shape(plan.entries, today) == _shape(chosen.posted, today)
    assert [e.tasks for e in choice.posted] == [e.tasks for e in chosen.posted]
    assert all(type(t) is Task for e in choice.posted for t in e.tasks)
    queued = sorted((d.subscriber_id, [t.id for t in d.tasks]) for d in choice.queued)
    assert queued == sorted((e.subscriber.id, e.task_ids) for e in chosen.queued)
    assert (plan.counts, plan.deferred) == (full.counts, full.deferred)
    assert choice.queued_tasks == chosen.queued_tasks


def test_after_an_import_only_the_posted_are_scored_and_the_queue_keeps_planned_facts(
    monkeypatch,
):
    # 30 customers with a day-30 check-in today, each an NPS detractor (a risk that cannot
    # open a churn_risk task), nothing stored but them: a bound of 3 scores 3 customers, not
    # 30, and the 27 queued keep their planned tasks as facts.
    from bot import engine

    repos = _stored(
        [
            {
                "tenure": 30,
                "amount": 10.0 + n,
                "status": "active",
                "cancels": False,
                "events": [("nps", 5)],
                "reached": None,
                "claimed": False,
            }
            for n in range(30)
        ]
    )
    config, now = _config(), at_noon(TODAY)
    whole = plan_changes(TODAY, repos, config, now).create  # what a run would create
    assert len(whole) == 30
    scored = []
    real = engine.score
    monkeypatch.setattr(
        engine, "score", lambda sub, *a, **k: scored.append(sub.id) or real(sub, *a, **k)
    )

    plan, choice = plan_day(TODAY, repos, config, now, 3, 300.0)

    assert [e.subscriber.id for e in plan.entries] == ["cus_29", "cus_28", "cus_27"]
    assert sorted(scored) == ["cus_27", "cus_28", "cus_29"]
    assert all(e.risk.score > 0 for e in plan.entries)
    by_id = {t.id: t for t in whole}
    assert [t for e in plan.entries for t in e.tasks] == [
        by_id[t.id] for e in plan.entries for t in e.tasks
    ]  # the very tasks a run creates: id, reason, risk, value
    queued = [t for d in choice.queued for t in d.tasks]
    assert len(queued) == 27 and all(type(t) is PlannedTask for t in queued)
    for facts in queued:
        task = by_id[facts.id]
        assert (facts.kind, facts.due, facts.status, facts.value) == (
            task.kind,
            task.due,
            task.status,
            task.value,
        )
