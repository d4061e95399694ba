"""`WorkList`: today's unclaimed work kept current by change reports, equal to a fresh ranking.

The App Home and `/care queue` read it instead of ranking every stored task per view; after
any change (claims, releases, snoozes, closes, outreach, new tasks, a digest linking its
tasks, an undone transaction, a new day) it must list exactly what `bot.queue.unclaimed`
computes from the store.
"""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import priority, queue
from bot.care import CareError, CareService, Permissions
from bot.clock import FixedClock
from bot.models import Subscriber, Subscription, Task
from bot.priority import select
from bot.repos import Repos
from bot.repos.digests import DigestMessage, DigestRecord
from bot.store import Store
from bot.worklist import WorkList

TZ = ZoneInfo("America/New_York")
START = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
GRACE = 3
CUSTOMERS = [f"cus_{i}" for i in range(6)]
KINDS = ["churn_risk", "pre_renewal", "checkin_30", "anniversary"]


def shape(entries: list[queue.WorkEntry], today: date) -> list[tuple[str, list[str], tuple]]:
    return [(e.subscriber.id, [t.id for t in e.tasks], e.key(today)) for e in entries]


def assert_current(work: WorkList, repos: Repos, today: date) -> None:
    in_digest, waiting = work.lists(today)
    fresh_digest, fresh_waiting = queue.unclaimed(repos, today, GRACE, TZ)
    assert shape(in_digest, today) == shape(fresh_digest, today)
    assert shape(waiting, today) == shape(fresh_waiting, today)
    for limit in (1, 2, 4):  # the Home's rows, read without listing every entry
        pinned = lambda e: priority.must_show(e.priority, work.must_show_value)  # noqa: E731
        first_digest, first_queued, n_digest, n_queued = work.page(today, limit)
        assert (n_digest, n_queued) == (len(fresh_digest), len(fresh_waiting))
        expected = select(fresh_digest, limit, pinned)[0][:limit]
        assert shape(first_digest, today) == shape(expected, today)
        expected = select(fresh_waiting, limit, pinned)[0][:limit]
        assert shape(first_queued, today) == shape(expected, today)


def open_repos(store: Store) -> tuple[Repos, CareService, FixedClock]:
    repos = Repos.open(store)
    for n, sid in enumerate(CUSTOMERS):
        repos.subscribers.put(
            Subscriber(
                id=sid,
                email=f"{sid}@example.com",
                name=sid,
                subscriptions=[Subscription(id=f"sub_{sid}", amount=10.0 * n, status="active")],
            )
        )
    clock = FixedClock(START)
    care = CareService(repos, clock, TZ, Permissions(frozenset({"U1", "U2"})))
    return repos, care, clock


def add_task(repos: Repos, clock: FixedClock, sid: str, kind: str, due_in: int, risk: int) -> Task:
    key = f"{sid}:{kind}:{due_in}:{repos.tasks.count()}"  # a new task every time
    task = Task(
        id=repos.tasks.new_id(key),
        key=key,
        kind=kind,
        subscriber_id=sid,
        due=clock.now().date() + timedelta(days=due_in),
        created_at=clock.now(),
        reason=kind,
        risk_score=risk,
        risk_band="high" if risk >= 60 else "low",
    )
    assert repos.tasks.create(task)
    return task


def link_to_digest(repos: Repos, task_id: str, today: date, legacy: bool = False) -> None:
    """Post a digest message listing the task today (`legacy`: link it the way earlier
    versions did, by writing the link into the task)."""
    if legacy:

        def attach(task: Task) -> None:
            task.slack, task.digest_date = {"channel": "C0", "ts": f"1.{task.id}"}, today

        repos.tasks.mutate(task_id, attach)
        return
    record = repos.digests.get(today) or DigestRecord(
        date=today, channel="C0", created_at=START, parent_ts=f"2.{today:%j}"
    )
    index, record.message_count = record.message_count, record.message_count + 1
    repos.digests.save(record)
    ts = f"3.{today:%j}{index:03d}"
    repos.digests.save_message(
        DigestMessage(date=today, index=index, kind="checkin", entries=[[task_id]], ts=ts)
    )


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["add", "claim", "release", "snooze", "done", "reached", "digest", "day", "noop"]
        ),
        st.integers(0, 40),
        st.integers(-10, 3),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_after_any_changes_the_lists_equal_a_fresh_ranking(ops):
    store = Store.memory()
    repos, care, clock = open_repos(store)
    work = WorkList(repos, GRACE, tz=TZ)
    tasks: list[str] = []
    for n, sid in enumerate(CUSTOMERS):
        tasks.append(add_task(repos, clock, sid, KINDS[n % len(KINDS)], -n, 10 * n).id)
    assert_current(work, repos, care.today())
    for op, pick, offset in ops:
        today = care.today()
        task_id = tasks[pick % len(tasks)]
        sid = CUSTOMERS[pick % len(CUSTOMERS)]
        user = ("U1", "U2")[pick % 2]
        try:
            if op == "add":
                kind = KINDS[pick % len(KINDS)]
                tasks.append(add_task(repos, clock, sid, kind, offset, 7 * pick).id)
            elif op == "claim":
                care.claim([task_id], user)
            elif op == "release":
                care.release([task_id], user)
            elif op == "snooze":
                care.snooze([task_id], 1 + pick % 3, user)
            elif op == "done":
                care.done([task_id], user)
            elif op == "reached":  # outreach moves the customer down (last reached today)
                care.log_outreach(sid, user, "email", "reached", close=False)
            elif op == "digest":
                link_to_digest(repos, task_id, today, legacy=pick % 3 == 0)
            elif op == "day":
                clock.advance(days=1 + pick % 2)
        except CareError:
            pass  # someone else's claim, a closed task: refused, nothing changed
        assert_current(work, repos, care.today())
    store.close()


def test_an_undone_transaction_lists_what_the_files_hold(tmp_path: Path):
    store = Store(tmp_path / "data", shards=8)
    repos, care, clock = open_repos(store)
    work = WorkList(repos, GRACE, tz=TZ)
    first = add_task(repos, clock, "cus_1", "churn_risk", 0, 70)
    add_task(repos, clock, "cus_2", "pre_renewal", -5, 0)
    assert_current(work, repos, care.today())
    with pytest.raises(RuntimeError), store.transaction({"action": "test"}):
        care.claim([first.id], "U1")
        assert "cus_1" not in [e.subscriber.id for e in work.lists(care.today())[1]]
        raise RuntimeError("killed half-way")
    assert repos.tasks.require(first.id).claimed_by == ""
    assert "cus_1" in [e.subscriber.id for e in work.lists(care.today())[1]]  # open again
    assert_current(work, repos, care.today())
    store.close()


def test_shown_rows_are_copies_the_list_keeps_bare_entries():
    store = Store.memory()
    repos, care, clock = open_repos(store)
    work = WorkList(repos, GRACE, tz=TZ)
    add_task(repos, clock, "cus_3", "checkin_30", 0, 0)
    shown = queue.with_subscribers(repos, work.lists(care.today())[1])
    assert shown[0].subscriber.email == "cus_3@example.com"
    assert work.lists(care.today())[1][0].subscriber.email == ""  # not the loaded customer
    store.close()


def test_a_full_ranking_leaves_nothing_for_the_collector_to_walk():
    """At 1M subscribers the lists hold millions of objects: full collections walking them
    stopped every thread (claims' answers) for seconds. A ranking leaves them frozen."""
    store = Store.memory()
    repos, care, clock = open_repos(store)
    work = WorkList(repos, GRACE, tz=TZ)
    for sid in CUSTOMERS[:3]:
        add_task(repos, clock, sid, "checkin_30", 0, 0)
    entries = work.lists(care.today())[1]
    assert len(entries) == 3
    walked = {id(o) for o in gc.get_objects()}
    assert not [e for e in entries if id(e) in walked or id(e.tasks) in walked]
    store.close()


def test_many_changed_customers_are_ranked_again_in_one_pass(monkeypatch):
    """A digest's engine run adds tasks for a quarter of the customers at once: one ranking of
    everything is then cheaper than a read per customer, and gives the same lists."""
    monkeypatch.setattr("bot.worklist.REBUILD_OVER", 2)
    store = Store.memory()
    repos, care, clock = open_repos(store)
    ids = [add_task(repos, clock, sid, "checkin_30", 0, 0).id for sid in CUSTOMERS]
    work = WorkList(repos, GRACE, tz=TZ)
    work.lists(care.today())
    every_task, scans = repos.tasks.raw, []
    repos.tasks.raw = lambda: scans.append(1) or every_task()  # type: ignore[method-assign]
    care.claim([ids[0]], "U1")
    care.claim([ids[1]], "U1")
    work.lists(care.today())
    assert scans == []  # two changed: ranked one by one
    for n, sid in enumerate(CUSTOMERS[2:5]):
        add_task(repos, clock, sid, KINDS[n], -n, 70)
    work.lists(care.today())
    assert scans == [1]  # three changed: one pass
    del repos.tasks.raw
    assert_current(work, repos, care.today())
    store.close()
