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
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import enginerun, enginerun_kept
from bot.clock import FixedClock
from bot.digest import plan_digest
from bot.engine import plan_changes, run_engine
from bot.models import Task
from bot.repos import Repos
from bot.repos import tasks as tasks_module
from bot.reshard import reshard
from bot.sizing import plan_day
from bot.store import Store
from config import load_settings
from tests.bot.builders import TODAY, at_noon, days_ago, event, member, outreach_on
from tests.bot.metrics.histories import item
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


def _copy(memory: Repos, repos: Repos) -> list[str]:
    """The customers, events and outreach of `memory` stored in `repos` in one commit (the
    tests' time is in fsyncs); the customers' ids."""
    with repos.store.transaction():
        repos.subscribers.put_many(memory.subscribers.all())
        sids = repos.subscribers.ids()
        repos.events.add_many(e for sid in sids for e in memory.events.for_subscriber(sid))
        repos.outreach.add_many(o for sid in sids for o in memory.outreach.for_subscriber(sid))
    return sids


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
            _copy(memory, repos)
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
            kept = list(data.glob(f"{enginerun.KEPT}.*"))  # where the run's files are kept
            assert len(kept) == 1 and not list(kept[0].rglob("*.json"))  # as they are written
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            again = list(data.glob(f"{enginerun.KEPT}.*"))
            assert len(again) == 1 and again != kept  # each run keeps its own, one at a time
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
            assert not list(data.glob(f"{enginerun.KEPT}.*"))
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


# Writes after the engine's run, each on one customer: the plan's dry run looks again at the
# customers whose documents they wrote (`enginerun.written_since`), or at every customer
# after a re-shard.
LATER = [
    "claim", "release", "stale", "event", "unevent", "outreach", "inbox", "subscriber", "spread",
]  # fmt: skip
WHOLE = ("spread",)  # the whole dry run again: store.json written


def _later(kind: str, repos: Repos, sid: str, n: int) -> None:
    """One write of `kind` on `sid` after the engine's run (`n` keeps ids apart)."""
    theirs = [t for t in repos.tasks.for_subscriber(sid) if t.status in ("open", "claimed")]
    if kind == "claim" and theirs:
        repos.tasks.mutate(theirs[0].id, lambda t: setattr(t, "status", "claimed"))
    elif kind == "release" and theirs:  # back to open, its window long over: it expires
        repos.tasks.mutate(theirs[-1].id, lambda t: setattr(t, "due", days_ago(90)))
    elif kind == "stale":
        old = Task(
            id=f"old{n}", key=f"{sid}:checkin_30:old{n}", kind="checkin_30", subscriber_id=sid,
            due=days_ago(60), created_at=at_noon(days_ago(60)),
        )  # fmt: skip
        repos.tasks.create(old)
    elif kind == "event":
        repos.events.add(event(sid, "cancel_request", TODAY, n=90 + n))
    elif kind == "unevent":
        stored = repos.events.for_subscriber(sid)
        if stored:
            repos.events.remove(stored[0].id, sid)
    elif kind == "outreach":  # on their tasks: a churn_risk task handled starts a cooldown
        task_ids = [t.id for t in repos.tasks.for_subscriber(sid)]
        repos.outreach.add(outreach_on(sid, task_ids or [f"later{n}"], days_ago(0)))
        repos.outreach.all()  # noqa: B018 - read back, as the bot does
    elif kind == "inbox":
        found = item(f"later{n}", at_noon(TODAY))
        found.subscriber_id = sid
        repos.inbox.create_item(found)
    elif kind == "subscriber":
        _write("subscriber", repos, sid)
    elif kind == "spread":  # the tasks over twice the shard files (bot/reshard.py)
        store = repos.store
        reshard(store, "tasks", store.shard_count("tasks") * 2, tasks_module._subscriber_of)


def _changes(day, repos, config, since):
    planned = plan_changes(day, repos, config, at_noon(day), since=since)
    created = sorted(
        (t.id, t.key, t.kind, t.subscriber_id, t.due, t.reason, t.risk_score, t.holdout)
        for t in planned.create
    )
    return created, sorted(t.id for t in planned.expire)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.lists(customer, min_size=4, max_size=10),
    writes=st.lists(st.tuples(st.sampled_from(LATER), st.integers(0, 9)), min_size=1, max_size=4),
    limit=st.integers(0, 4).map(lambda n: n or None),
    must_show=st.sampled_from([0.0, 300.0]),
    holdout=st.sampled_from([0, 50]),
)
def test_after_writes_since_the_run_the_dry_run_of_the_written_gives_the_whole_dry_run(
    customers, writes, limit, must_show, holdout
):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        memory = _stored(customers)
        config = dataclasses.replace(_config(data), holdout_percent=holdout)
        with Store(data, shards=16) as store:
            repos = Repos.open(store)
            sids = _copy(memory, repos)
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            assert enginerun.written_since(store, TODAY, config) == enginerun.Written(frozenset())
            for n, (kind, who) in enumerate(writes):
                _later(kind, repos, sids[who % len(sids)], n)
            written = enginerun.written_since(store, TODAY, config)
            # The whole dry run again: store.json written, or more than a quarter of the
            # subscribers' documents rewritten (`enginerun_kept.MOST_CHANGED`).
            rewritten = {sids[who % len(sids)] for kind, who in writes if kind == "subscriber"}
            most = len(sids) // enginerun_kept.MOST_CHANGED + 1
            whole = any(kind in WHOLE for kind, _ in writes) or len(rewritten) > most
            assert (written is None) == whole
            assert _changes(TODAY, repos, config, written) == _changes(TODAY, repos, config, None)
            got = _day(TODAY, repos, config, limit, must_show)
            assert got == _with_dry_run(TODAY, repos, config, limit, must_show, data)
        # The same from another process's read-only open (`digest --preview`).
        with Store(data, read_only=True) as store:
            repos = Repos.open(store)
            again = enginerun.written_since(store, TODAY, config)
            assert again == written
            assert _changes(TODAY, repos, config, again) == _changes(TODAY, repos, config, None)
            assert _day(TODAY, repos, config, limit, must_show) == got


def test_only_the_customers_written_since_the_run_are_planned_again(monkeypatch):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with Store(data, shards=4) as store:
            repos = Repos.open(store)
            config = _config(data)
            repos.subscribers.put_many(
                [member(f"cus_{n:02d}", tenure=30, amount=30.0) for n in range(40)]
            )
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            repos.events.add(event("cus_07", "cancel_request", TODAY, n=1))
            claimed = repos.tasks.for_subscriber("cus_12")[0].id
            repos.tasks.mutate(claimed, lambda t: setattr(t, "status", "claimed"))
            written = enginerun.written_since(store, TODAY, config)
            # Compared with the run's kept copy of the two files written: their customers.
            assert written == enginerun.Written(subscribers=frozenset({"cus_07", "cus_12"}))
            read: list[str] = []
            real = repos.subscribers.get
            monkeypatch.setattr(
                repos.subscribers, "get", lambda sid, at=None: read.append(sid) or real(sid, at)
            )
            changes = plan_changes(TODAY, repos, config, at_noon(TODAY), since=written)
            assert sorted(read) == ["cus_07", "cus_12"]
            assert [t.kind for t in changes.create] == ["churn_risk"]  # cus_07 asked to cancel
            monkeypatch.undo()

            # Without the kept copies: every customer of the written task shard (the events
            # shard is new since the run: all it holds is new).
            for kept in data.glob(f"{enginerun.KEPT}.*"):
                shutil.rmtree(kept)
            written = enginerun.written_since(store, TODAY, config)
            assert written is not None and written.subscribers == {"cus_07"}
            assert written.files == {store.shard_table("tasks", "cus_12").storage.path}
            touched = set(written.touching(store, repos.subscribers.ids()))
            by_file = {  # the store's own placing of each customer's records
                sid
                for sid in repos.subscribers.ids()
                for name in enginerun.BY_SUBSCRIBER
                if store.shard_table(name, sid).storage.path in written.files
            }
            assert touched == by_file | {"cus_07"} and "cus_12" in touched
            assert len(touched) < 40
            assert _changes(TODAY, repos, config, written) == _changes(TODAY, repos, config, None)

            # A subscriber written with no kept copy of the subscribers file: every customer
            # is planned again. After a run that kept one, it is compared document by document.
            repos.subscribers.put(member("cus_40", tenure=30, amount=30.0))
            assert enginerun.written_since(store, TODAY, config) is None
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            repos.subscribers.put(member("cus_41", tenure=30, amount=30.0))
            written = enginerun.written_since(store, TODAY, config)
            assert written == enginerun.Written(subscribers=frozenset({"cus_41"}))
            assert _changes(TODAY, repos, config, written) == _changes(TODAY, repos, config, None)
            plan, _ = plan_day(TODAY, repos, config, at_noon(TODAY), None, 300.0)
            assert "cus_41" in {e.subscriber.id for e in plan.entries}
            # More than a quarter of them written (an import): every customer planned again.
            repos.subscribers.put_many(
                [member(f"cus_{n:02d}", tenure=31, amount=30.0) for n in range(11)]
            )
            assert enginerun.written_since(store, TODAY, config) is None


def test_a_kept_copy_the_store_did_not_write_is_compared_by_shard_alone():
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with Store(data, shards=4) as store:
            repos = Repos.open(store)
            config = _config(data)
            repos.subscribers.put_many(
                [member(f"cus_{n:02d}", tenure=30, amount=30.0) for n in range(40)]
            )
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            claimed = repos.tasks.for_subscriber("cus_12")[0].id
            repos.tasks.mutate(claimed, lambda t: setattr(t, "status", "claimed"))
            live = store.shard_table("tasks", "cus_12").storage.path
            (kept,) = data.glob(f"{enginerun.KEPT}.*")
            copy = kept / live.relative_to(data)
            # Its first document id made a word, in place: same inode, size and time.
            st = copy.stat()
            text = copy.read_bytes()
            at = text.index(b'{"1":') + 2
            with open(copy, "r+b") as f:
                f.seek(at)
                f.write(b"x")
            os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
            written = enginerun.written_since(store, TODAY, config)
            assert written is not None and written.files == {live}
            assert "cus_12" in written.touching(store, repos.subscribers.ids())
            assert _changes(TODAY, repos, config, written) == _changes(TODAY, repos, config, None)
