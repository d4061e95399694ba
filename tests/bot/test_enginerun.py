"""A plan after the engine's run skips the engine's dry run, and gives what the dry run gives.

`run_engine` records its run (`bot/enginerun.py`); a plan for that day on the data as the run
left it (nothing written since) skips `plan_changes`. Over generated customers, after the
run and after any write since (a claim, an event, a subscriber change, an outreach), and
across a restart with the clock moved a day, `plan_day` and `plan_digest(...).choose` must
give what they give with the dry run, and the record must be trusted only when nothing the
engine reads was written since its run.
"""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import enginerun
from bot.clock import FixedClock
from bot.digest import plan_digest
from bot.engine import run_engine
from bot.repos import Repos
from bot.sizing import plan_day
from bot.store import Store
from config import load_settings
from tests.bot.builders import TODAY, at_noon, days_ago, event, member, outreach_on
from tests.bot.test_sizing import _shape, _stored, customer

WRITES = [None, "claim", "event", "subscriber", "outreach"]


def _config(data: Path):
    return load_settings({"CARE_DATA_DIR": str(data)}, dotenv=False)


def _day(day, repos, config, limit, must_show):
    """(plan_day's posted entries, queue and counts; the full plan's choice of the same)."""
    now = at_noon(day)
    plan, choice = plan_day(day, repos, config, now, limit, must_show)
    full = plan_digest(day, repos, config, now)
    chosen = full.choose(limit, must_show)
    return (
        _shape(choice.posted, day),
        sorted((d.subscriber_id, [t.id for t in d.tasks]) for d in choice.queued),
        plan.counts,
        plan.deferred,
        _shape(chosen.posted, day),
        sorted((e.subscriber.id, e.task_ids) for e in chosen.queued),
        full.counts,
    )


def _with_dry_run(day, repos, config, limit, must_show, data: Path):
    """The same, the record moved away: the plan runs the engine's dry run."""
    record, aside = data / enginerun.RECORD, data / "aside.json"
    moved = record.exists()
    if moved:
        record.rename(aside)
    try:
        assert not enginerun.ran_today(repos.store, day, config)
        return _day(day, repos, config, limit, must_show)
    finally:
        if moved:
            aside.rename(record)


def _write(kind, repos, sid):
    if kind == "claim":
        open_tasks = [t for t in repos.tasks.active() if t.status == "open"]
        if open_tasks:
            repos.tasks.mutate(open_tasks[0].id, lambda t: setattr(t, "status", "claimed"))
        else:
            repos.events.add(event(sid, "cancel_request", TODAY, n=98))
    elif kind == "event":
        repos.events.add(event(sid, "cancel_request", TODAY, n=99))
    elif kind == "subscriber":  # a subscription scheduled to cancel: risk and a save task
        repos.subscribers.put(
            member(
                sid,
                tenure=30,
                amount=450.0,
                status="past_due",
                cancel_at_period_end=True,
                next_charge=TODAY + timedelta(days=3),
            )
        )
    elif kind == "outreach":
        repos.outreach.add(outreach_on(sid, ["after-the-run"], days_ago(0)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.lists(customer, min_size=3, max_size=8),
    limit=st.integers(0, 4).map(lambda n: n or None),
    must_show=st.sampled_from([0.0, 30.0, 300.0]),
    write=st.sampled_from(WRITES),
)
def test_a_plan_after_the_engine_run_gives_what_the_dry_run_gives(
    customers, limit, must_show, write
):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        memory = _stored(customers)
        yesterday = TODAY - timedelta(days=1)
        with Store(data, shards=4) as store:
            repos = Repos.open(store)
            config = _config(data)
            with store.transaction():  # one commit: the test's time is in fsyncs
                repos.subscribers.put_many(memory.subscribers.all())
                sids = repos.subscribers.ids()
                repos.events.add_many(e for sid in sids for e in memory.events.for_subscriber(sid))
                repos.outreach.add_many(
                    o for sid in sids for o in memory.outreach.for_subscriber(sid)
                )
            run_engine(yesterday, repos, config, FixedClock(at_noon(yesterday)))
            assert not enginerun.ran_today(store, TODAY, config)
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            assert enginerun.ran_today(store, TODAY, config)

            if write is not None:
                _write(write, repos, "cus_01")
            assert enginerun.ran_today(store, TODAY, config) == (write is None)
            got = _day(TODAY, repos, config, limit, must_show)
            assert got[:4] == got[4:] + (got[3],)
            assert got == _with_dry_run(TODAY, repos, config, limit, must_show, data)

        # A restart the next day, read-only as `digest --preview`: yesterday's run is no
        # record of today's; once the engine has run today, the record is trusted again.
        tomorrow = TODAY + timedelta(days=1)
        with Store(data, read_only=True) as store:
            repos = Repos.open(store)
            assert enginerun.ran_today(store, TODAY, config) == (write is None)
            assert not enginerun.ran_today(store, tomorrow, config)
            before = _day(tomorrow, repos, config, limit, must_show)
        with Store(data) as store:
            repos = Repos.open(store)
            run_engine(tomorrow, repos, config, FixedClock(at_noon(tomorrow)))
        with Store(data, read_only=True) as store:
            repos = Repos.open(store)
            assert enginerun.ran_today(store, tomorrow, config)
            after = _day(tomorrow, repos, config, limit, must_show)
            assert after == _with_dry_run(tomorrow, repos, config, limit, must_show, data)
            assert before[2]["overdue"] == after[2]["overdue"]


def test_other_settings_or_a_write_while_the_engine_plans_leave_no_record(monkeypatch):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with Store(data) as store:
            repos = Repos.open(store)
            config = _config(data)
            repos.subscribers.put(member("cus_a", tenure=30, amount=30.0))
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            assert enginerun.ran_today(store, TODAY, config)
            lower = dataclasses.replace(config.risk, high=config.risk.high - 1)
            assert not enginerun.ran_today(store, TODAY, dataclasses.replace(config, risk=lower))
            held = dataclasses.replace(config, holdout_percent=10)
            assert not enginerun.ran_today(store, TODAY, held)
            assert enginerun.ran_today(store, TODAY, _config(data))

            from bot import engine

            real = engine.plan_changes

            def plan_then_write(*args, **kwargs):
                planned = real(*args, **kwargs)
                repos.subscribers.put(member("cus_b", tenure=30, amount=30.0))
                return planned

            monkeypatch.setattr(engine, "plan_changes", plan_then_write)
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            assert not (data / enginerun.RECORD).exists()
            assert not enginerun.ran_today(store, TODAY, config)
            # cus_b's milestone was never planned: the plan's dry run finds it.
            plan, _ = plan_day(TODAY, repos, config, at_noon(TODAY), None, 300.0)
            assert "cus_b" in {e.subscriber.id for e in plan.entries}


def test_a_store_in_memory_is_never_trusted():
    repos = Repos.open(Store.memory())
    config = load_settings({"CARE_DATA_DIR": "/nonexistent"}, dotenv=False)
    repos.subscribers.put(member("cus_a", tenure=30, amount=30.0))
    run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
    assert not enginerun.ran_today(repos.store, TODAY, config)
