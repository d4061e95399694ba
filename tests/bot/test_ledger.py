"""`TaskLedger`: the team's numbers and each manager's tasks kept current by change reports.

The App Home reads it instead of decoding every stored task per redraw; after any change
(new and held-out tasks, claims, releases, hand-overs, closes, outreach, expiries, tasks closed
by the bot, an undone transaction, days passing, a restart) it must give exactly what
`bot.stats.team_stats` and a scan of every task give.
"""

from __future__ import annotations

import gc
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.care import CareError
from bot.ledger import TaskLedger
from bot.models import (
    ACTIVE_TASK_STATUSES,
    TASK_DONE,
    TASK_EXPIRED,
    TASK_OPEN,
    Outreach,
    Task,
)
from bot.repos import Repos
from bot.repos.tasks import SkipTask
from bot.stats import team_stats
from bot.store import Store
from bot.techtouch import BOT_USER
from tests.bot.test_worklist import CUSTOMERS, KINDS, add_task, open_repos

USERS = ("U1", "U2")


def assert_current(ledger: TaskLedger, repos: Repos, now) -> None:  # noqa: ANN001
    for days in (1, 7, 30):
        assert ledger.stats(now, days) == team_stats(repos, now, days)
    for user in USERS:
        held = sorted(
            t.id
            for t in repos.tasks.all()
            if t.claimed_by == user and t.status in ACTIVE_TASK_STATUSES
        )
        assert sorted(t.id for t in ledger.claimed_by(user)) == held


def _closer(status: str, by: str, now):  # noqa: ANN001, ANN202 - a mutate callback
    def close(task: Task) -> None:
        if task.status != TASK_OPEN:
            raise SkipTask
        task.status, task.outcome, task.closed_at, task.closed_by = status, status, now, by

    return close


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "add",
                "held",
                "claim",
                "release",
                "assign",
                "done",
                "log",
                "touch",
                "expire",
                "bot",
                "hour",
                "day",
            ]
        ),
        st.integers(0, 40),
        st.integers(-10, 3),
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_after_any_changes_and_a_restart_the_ledger_equals_a_full_recount(ops):
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data", shards=4)
        repos, care, clock = open_repos(store)
        tasks = [
            add_task(repos, clock, sid, KINDS[n % 4], -n, 10 * n).id
            for n, sid in enumerate(CUSTOMERS)
        ]
        ledger = TaskLedger(repos)
        assert_current(ledger, repos, clock.now())
        for op, pick, offset in ops:
            task_id = tasks[pick % len(tasks)]
            sid = CUSTOMERS[pick % len(CUSTOMERS)]
            user = USERS[pick % 2]
            try:
                if op in ("add", "held"):
                    task = add_task(repos, clock, sid, KINDS[pick % 4], offset, 7 * pick)
                    if op == "held":
                        repos.tasks.mutate(task.id, lambda t: setattr(t, "holdout", True))
                    tasks.append(task.id)
                elif op == "claim":
                    care.claim([task_id], user)
                elif op == "release":
                    care.release([task_id], user)
                elif op == "assign":
                    care.assign([task_id], USERS[1 - pick % 2], user)
                elif op == "done":
                    care.done([task_id], user)
                elif op == "log":
                    care.log_outreach(sid, user, "email", ("saved", "reached")[pick % 2])
                elif op == "touch":  # tech touch's email, logged by the bot: not the team's
                    repos.outreach.add(
                        Outreach(
                            id=f"o{len(tasks)}{pick}{offset}{clock.now():%j%H}",
                            subscriber_id=sid,
                            task_id=task_id,
                            by=BOT_USER,
                            channel="email",
                            outcome="reached",
                            at=clock.now(),
                        )
                    )
                elif op in ("expire", "bot"):  # the engine's bulk expiry; tech touch's close
                    status, by = (TASK_EXPIRED, "") if op == "expire" else (TASK_DONE, BOT_USER)
                    repos.tasks.mutate_many(tasks[pick % 3 :: 3], _closer(status, by, clock.now()))
                elif op == "hour":
                    clock.advance(hours=5 + pick)
                elif op == "day":
                    clock.advance(days=1 + pick % 9)
            except CareError:
                pass  # someone else's claim, a closed task: refused, nothing changed
            assert_current(ledger, repos, clock.now())
        store.close()
        reopened = Store(Path(tmp) / "data", shards=4)
        repos = Repos.open(reopened)
        assert_current(TaskLedger(repos), repos, clock.now() + timedelta(minutes=1))
        reopened.close()


def test_an_undone_transaction_counts_what_the_files_hold(tmp_path: Path):
    store = Store(tmp_path / "data", shards=8)
    repos, care, clock = open_repos(store)
    ledger = TaskLedger(repos)
    first = add_task(repos, clock, "cus_1", "churn_risk", 0, 70)
    assert_current(ledger, repos, clock.now())
    with pytest.raises(RuntimeError), store.transaction({"action": "test"}):
        care.claim([first.id], "U1")
        raise RuntimeError("killed half-way")
    assert ledger.claimed_by("U1") == [] and ledger.stats(clock.now(), 7).claimed == 0
    assert_current(ledger, repos, clock.now())
    store.close()


def test_after_it_is_built_a_view_reads_only_the_changed_customers_tasks():
    """Reading every task per view was seconds of CPU at 1M subscribers (271k tasks)."""
    store = Store.memory()
    repos, care, clock = open_repos(store)
    ids = [add_task(repos, clock, sid, "checkin_30", 0, 0).id for sid in CUSTOMERS]
    ledger = TaskLedger(repos)
    ledger.stats(clock.now(), 7)
    every_task, scans = repos.tasks.raw, []
    repos.tasks.raw = lambda: scans.append(1) or every_task()  # type: ignore[method-assign]
    every_touch = repos.outreach.all
    repos.outreach.all = lambda: scans.append(2) or every_touch()  # type: ignore[method-assign]
    care.claim([ids[2]], "U2")
    care.log_outreach(CUSTOMERS[2], "U2", "email", "saved", close=False)
    assert [t.id for t in ledger.claimed_by("U2")] == [ids[2]]
    week = ledger.stats(clock.now(), 7).per_manager["U2"]
    assert (week.claimed, week.outreach, week.saved) == (1, 1, 1)
    assert scans == []
    del repos.tasks.raw, repos.outreach.all
    assert_current(ledger, repos, clock.now())
    store.close()


def test_many_changed_customers_are_read_again_in_one_pass(monkeypatch):
    """A digest's engine run adds tasks for a quarter of the customers at once: one pass over
    every task is then cheaper than a read per customer, and counts the same."""
    monkeypatch.setattr("bot.ledger.REBUILD_OVER", 2)
    store = Store.memory()
    repos, care, clock = open_repos(store)
    ids = [add_task(repos, clock, sid, "checkin_30", 0, 0).id for sid in CUSTOMERS]
    ledger = TaskLedger(repos)
    ledger.refresh()
    every_task, scans = repos.tasks.raw, []
    repos.tasks.raw = lambda: scans.append(1) or every_task()  # type: ignore[method-assign]
    care.claim([ids[0]], "U1")
    care.claim([ids[1]], "U1")
    ledger.refresh()
    assert scans == []  # two changed: read one by one
    for n, sid in enumerate(CUSTOMERS[2:5]):
        add_task(repos, clock, sid, KINDS[n], -n, 70)
    care.claim([ids[2]], "U2")
    ledger.refresh()
    assert scans == [1]  # three changed: one pass
    del repos.tasks.raw
    assert_current(ledger, repos, clock.now())
    store.close()


def test_a_built_ledger_leaves_nothing_for_the_collector_to_walk():
    """Built over 271k tasks at 1M subscribers, its objects were walked by the collector's
    next passes with every thread stopped (a claim's answer among them)."""
    store = Store.memory()
    repos, care, clock = open_repos(store)
    ids = [add_task(repos, clock, sid, "checkin_30", 0, 0).id for sid in CUSTOMERS]
    care.claim([ids[0]], "U1")
    ledger = TaskLedger(repos)
    ledger.refresh()
    walked = {id(o) for o in gc.get_objects()}
    kept = [ledger._shares, *ledger._shares.values(), *ledger._worked.values()]
    assert len(kept) > 2 and not [o for o in kept if id(o) in walked]
    store.close()
