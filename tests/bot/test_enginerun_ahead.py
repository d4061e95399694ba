"""The morning's plan before the day's engine run: the day before's run planned it ahead.

After recording its run, `run_engine` works out the next day's dry run on the data it
recorded and notes whom it would create or expire tasks for (`enginerun.note_ahead`). The
next day, before that day's run (a manager's `digest --preview`, or the daily job's own
run), `written_since` counts those and the customers written since as written, so the plan
looks at them alone. Over generated customers, writes after the run, a read-only reopen (the
preview's process) and one or two days passing, that plan must be the whole dry run's; a
record that is stale, corrupt, foreign or written by something else is not trusted, and a
note that could not be written leaves the whole dry run; a write while the next day is
planned keeps the note (the written customer is planned again).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import engine, enginerun
from bot.clock import FixedClock
from bot.engine import plan_changes, run_engine
from bot.models import Task
from bot.repos import Repos
from bot.store import Store
from tests.bot.builders import TODAY, at_noon, event, member
from tests.bot.test_enginerun import LATER, WHOLE, _changes, _config, _copy, _day, _later
from tests.bot.test_enginerun import _with_dry_run as _with_whole_dry_run
from tests.bot.test_sizing import _stored, customer

YESTERDAY = TODAY - timedelta(days=1)


def _noted(data: Path) -> dict | None:
    return json.loads((data / enginerun.RECORD).read_bytes()).get(enginerun.AHEAD)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.lists(customer, min_size=4, max_size=10),
    writes=st.lists(st.tuples(st.sampled_from(LATER), st.integers(0, 9)), max_size=3),
    during=st.lists(st.tuples(st.sampled_from(LATER), st.integers(0, 9)), max_size=2),
    gap=st.sampled_from([1, 1, 2]),
    limit=st.integers(0, 4).map(lambda n: n or None),
    must_show=st.sampled_from([0.0, 300.0]),
    holdout=st.sampled_from([0, 50]),
)
def test_a_plan_on_the_day_after_the_run_gives_the_whole_dry_run(
    customers, writes, during, gap, limit, must_show, holdout
):
    """`during`: writes made while the run plans the next day ahead, before its dry run reads."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        memory = _stored(customers)
        config = dataclasses.replace(_config(data), holdout_percent=holdout)
        ran, day = TODAY - timedelta(days=gap), TODAY
        with Store(data, shards=16) as store:
            repos = Repos.open(store)
            sids = _copy(memory, repos)
            real = engine.plan_changes

            def ahead_after_writes(day, *args, **kwargs):  # noqa: ANN202
                if day != ran:  # the next day's plan, after the run
                    for n, (kind, who) in enumerate(during):
                        _later(kind, repos, sids[who % len(sids)], 100 + n)
                return real(day, *args, **kwargs)

            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(engine, "plan_changes", ahead_after_writes)
                run_engine(ran, repos, config, FixedClock(at_noon(ran)))
            noted = _noted(data)
            assert noted is not None and noted["date"] == (ran + timedelta(days=1)).isoformat()
            for n, (kind, who) in enumerate(writes):
                _later(kind, repos, sids[who % len(sids)], n)
        # The next morning, another process opens the directory read-only (the preview).
        with Store(data, read_only=True) as store:
            repos = Repos.open(store)
            written = enginerun.written_since(store, day, config)
            whole = gap > 1 or any(kind in WHOLE for kind, _ in [*writes, *during])
            assert (written is None) == whole
            if written is not None:
                assert set(noted["subscribers"]) <= written.subscribers
            assert not enginerun.ran_today(store, day, config)
            expected = _changes(day, repos, config, None)
            assert _changes(day, repos, config, written) == expected
            got = _day(day, repos, config, limit, must_show)
            assert got == _with_whole_dry_run(day, repos, config, limit, must_show, data)
        # The day's own run plans from the same note, and creates what a whole run would.
        with Store(data, shards=16) as store:
            repos = Repos.open(store)
            result = run_engine(day, repos, config, FixedClock(at_noon(day)))
            created = sorted((t.id, t.key, t.due, t.reason) for t in result.created)
            assert created == [(i, k, d, r) for i, k, _, _, d, r, _, _ in expected[0]]
            assert sorted(t.id for t in result.expired) == expected[1]
            assert enginerun.ran_today(store, day, config)
            assert _changes(day, repos, config, None) == ([], [])


def _forty(repos: Repos) -> None:
    """40 customers, two of whom reach a milestone on TODAY (day 30) and none on YESTERDAY."""
    repos.subscribers.put_many(
        [member(f"cus_{n:02d}", tenure=120 + n, amount=30.0) for n in range(38)]
        + [member("cus_38", tenure=30, amount=30.0), member("cus_39", tenure=30, amount=300.0)]
    )


@contextlib.contextmanager
def _forty_stored(run: bool = True):
    """(data directory, writable store, repos, settings) of `_forty`'s customers, after the
    engine's run of YESTERDAY if `run`."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with Store(data, shards=4) as store:
            repos = Repos.open(store)
            config = _config(data)
            _forty(repos)
            if run:
                run_engine(YESTERDAY, repos, config, FixedClock(at_noon(YESTERDAY)))
            yield data, store, repos, config


def test_the_next_morning_only_the_noted_and_the_written_are_planned(monkeypatch):
    with _forty_stored() as (data, store, repos, config):
        assert _noted(data) == {
            "date": TODAY.isoformat(),
            "subscribers": ["cus_38", "cus_39"],  # their day-30 check-in opens today
        }
        repos.events.add(event("cus_07", "cancel_request", TODAY, n=1))
        written = enginerun.written_since(store, TODAY, config)
        assert written == enginerun.Written(subscribers=frozenset({"cus_07", "cus_38", "cus_39"}))
        read: list[str] = []
        real = repos.subscribers.get
        monkeypatch.setattr(
            repos.subscribers, "get", lambda sid, at=None: read.append(sid) or real(sid, at)
        )
        changes = plan_changes(TODAY, repos, config, at_noon(TODAY), since=written)
        assert sorted(read) == ["cus_07", "cus_38", "cus_39"]
        assert sorted((t.subscriber_id, t.kind) for t in changes.create) == [
            ("cus_07", "churn_risk"),
            ("cus_38", "checkin_30"),
            ("cus_39", "checkin_30"),
        ]
        monkeypatch.undo()
        assert _changes(TODAY, repos, config, written) == _changes(TODAY, repos, config, None)
        # The day after next, the note is no record of it: the whole dry run.
        assert enginerun.written_since(store, TODAY + timedelta(days=1), config) is None


@pytest.mark.parametrize(
    "noted",
    [
        "not a dict",
        {"date": TODAY.isoformat(), "subscribers": "cus_38"},
        {"date": TODAY.isoformat(), "subscribers": [38, "cus_39"]},
        {"date": TODAY.isoformat()},
        {"date": (TODAY + timedelta(days=1)).isoformat(), "subscribers": []},
        {"subscribers": []},
    ],
)
def test_a_note_not_as_the_run_writes_it_is_not_trusted(noted):
    with _forty_stored() as (data, store, repos, config):
        doc = json.loads((data / enginerun.RECORD).read_bytes())
        (data / enginerun.RECORD).write_text(json.dumps({**doc, enginerun.AHEAD: noted}))
        assert enginerun.written_since(store, TODAY, config) is None
        # The plan runs the whole dry run and still finds the two check-ins.
        assert {
            t.subscriber_id
            for t in run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY))).created
        } == {"cus_38", "cus_39"}


def test_a_corrupt_or_foreign_record_is_not_trusted():
    with tempfile.TemporaryDirectory() as tmp:
        data, other = Path(tmp) / "data", Path(tmp) / "other"
        for where in (data, other):
            with Store(where, shards=4) as store:
                repos = Repos.open(store)
                _forty(repos)
                run_engine(YESTERDAY, repos, _config(where), FixedClock(at_noon(YESTERDAY)))
        config = _config(data)
        with Store(data, read_only=True) as store:
            assert enginerun.written_since(store, TODAY, config) is not None
            # Another directory's record (same customers, other files): never trusted.
            shutil.copy(other / enginerun.RECORD, data / enginerun.RECORD)
            assert enginerun.written_since(store, TODAY, config) is None
            # A record cut short (a copy killed mid-write by something else), or not JSON.
            text = (other / enginerun.RECORD).read_bytes()
            for broken in (text[: len(text) // 2], b"\x00\xff", b"[]"):
                (data / enginerun.RECORD).write_bytes(broken)
                assert enginerun.written_since(store, TODAY, config) is None


def _write_an_event(repos: Repos) -> None:
    repos.events.add(event("cus_07", "cancel_request", TODAY, n=1))


def _fail(repos: Repos) -> None:
    raise RuntimeError("boom")


@pytest.mark.parametrize("before", [True, False], ids=["seen", "unseen"])
def test_a_write_while_the_next_day_is_planned_keeps_the_note_and_is_planned_again(
    monkeypatch, before
):
    """A claim or a webhook while the bot plans the next day ahead (tens of seconds at a
    million subscribers) leaves the note: the written customer is planned again the next day
    whatever the note says of them, whether the plan ahead saw the write or not."""
    with _forty_stored(run=False) as (data, store, repos, config):
        real = engine.plan_changes

        def ahead_with_a_write(day, *args, **kwargs):
            if day == TODAY and before:  # the next day's plan, after the run of YESTERDAY
                _write_an_event(repos)
            planned = real(day, *args, **kwargs)
            if day == TODAY and not before:
                _write_an_event(repos)
            return planned

        monkeypatch.setattr(engine, "plan_changes", ahead_with_a_write)
        run_engine(YESTERDAY, repos, config, FixedClock(at_noon(YESTERDAY)))
        monkeypatch.undo()
        assert _noted(data) is not None
        written = enginerun.written_since(store, TODAY, config)
        assert written is not None and "cus_07" in written.subscribers
        whole = _changes(TODAY, repos, config, None)
        assert _changes(TODAY, repos, config, written) == whole
        result = run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
        assert {t.subscriber_id for t in result.created} == {"cus_07", "cus_38", "cus_39"}


def test_a_failure_while_the_next_day_is_planned_leaves_no_note(monkeypatch, caplog):
    with _forty_stored(run=False) as (data, store, repos, config):
        real = engine.plan_changes

        def ahead_then_fail(day, *args, **kwargs):
            planned = real(day, *args, **kwargs)
            if day == TODAY:  # the next day's plan, after the run of YESTERDAY
                _fail(repos)
            return planned

        monkeypatch.setattr(engine, "plan_changes", ahead_then_fail)
        run_engine(YESTERDAY, repos, config, FixedClock(at_noon(YESTERDAY)))
        monkeypatch.undo()
        assert _noted(data) is None  # the run is recorded, its note not
        assert enginerun.written_since(store, TODAY, config) is None
        assert enginerun.ran_today(store, YESTERDAY, config)
        assert "ahead" in caplog.text
        _write_an_event(repos)
        assert enginerun.written_since(store, YESTERDAY, config) is not None

        # The record's rewrite fails (a full disk; a kill before the rename leaves the
        # old record too): the run is recorded without a note.
        def full_disk(path, payload, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(enginerun, "atomic_write", full_disk)
        recorded = json.loads((data / enginerun.RECORD).read_bytes())["files"]
        assert not enginerun.note_ahead(store, TODAY, ["cus_38"], recorded)
        monkeypatch.undo()
        assert enginerun.written_since(store, TODAY, config) is None
        result = run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
        assert {t.subscriber_id for t in result.created} == {"cus_07", "cus_38", "cus_39"}


def test_a_task_whose_customer_is_not_stored_expires_the_next_day_as_in_the_whole_dry_run():
    with _forty_stored(run=False) as (data, store, repos, config):
        # Left by a customer no longer in the subscribers file (a hand edit): its window
        # (day 30 to 44) ended on YESTERDAY, so it expires on TODAY.
        gone = Task(
            id="gone1", key="cus_gone:checkin_30", kind="checkin_30", subscriber_id="cus_gone",
            due=TODAY - timedelta(days=15), created_at=at_noon(TODAY - timedelta(days=15)),
        )  # fmt: skip
        repos.tasks.create(gone)
        run_engine(YESTERDAY, repos, config, FixedClock(at_noon(YESTERDAY)))
        assert "cus_gone" in _noted(data)["subscribers"]
        written = enginerun.written_since(store, TODAY, config)
        whole = _changes(TODAY, repos, config, None)
        assert "gone1" in whole[1]
        assert _changes(TODAY, repos, config, written) == whole
        result = run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
        assert "gone1" in {t.id for t in result.expired}


@pytest.mark.parametrize("when", ["planning", "in-note", "never"])
def test_a_bot_killed_while_it_plans_the_next_day_leaves_a_record_the_plan_can_trust(when):
    root = Path(__file__).resolve().parents[2]
    with _forty_stored(run=False) as (data, store, repos, config):
        store.close()
        proc = subprocess.run(
            [sys.executable, "-m", "tests.bot.ahead_writer", str(data), when],
            cwd=root, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert (proc.returncode == -signal.SIGKILL) == (when != "never"), proc.stderr
        # The next morning: a preview's read-only open, then the bot's.
        with Store(data, read_only=True) as reader:
            repos = Repos.open(reader)
            written = enginerun.written_since(reader, TODAY, config)
            assert (written is None) == (when != "never")  # the run's record without its note
            assert enginerun.written_since(reader, YESTERDAY, config) is not None
            whole = _changes(TODAY, repos, config, None)
            assert _changes(TODAY, repos, config, written) == whole
        with Store(data) as writer:
            repos = Repos.open(writer)
            result = run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            assert {t.subscriber_id for t in result.created} == {"cus_38", "cus_39"}
            assert enginerun.ran_today(writer, TODAY, config)
