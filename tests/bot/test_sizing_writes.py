"""The facts a plan keeps between plans follow every write: a plan after any writes, an undone
transaction or a restart is the plan a fresh read of the store gives.

`plan_day` ranks from facts kept between plans and updated by writes: the plan index's value
and risk bits (`bot.repos.subscriber_index`), events and outreach grouped by subscriber
(`bot.repos.records`), the stored tasks' facts (`bot.duetask.shown`). Over generated customers
and any sequence of writes (claims, completions, snoozes, events added and removed, subscriber
changes, outreach, the engine's run, an undone transaction, a restart), each plan on the
long-lived repositories must equal the one repositories opened afresh on the same store give,
and the full plan's `choose`.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FixedClock
from bot.engine import run_engine
from bot.models import TASK_CLAIMED, TASK_DONE, TASK_OPEN
from bot.repos import Repos
from bot.store import Store
from config import load_settings
from tests.bot.builders import TODAY, at_noon, days_ago, event, member, outreach_on
from tests.bot.test_enginerun import _day
from tests.bot.test_sizing import _stored, customer

WRITES = [
    "claim",
    "done",
    "snooze",
    "event",
    "unevent",
    "subscriber",
    "outreach",
    "engine",
    "undone",
    "restart",
]


class _Undone(Exception):
    """Raised inside a transaction to undo it."""


def _one_task(repos: Repos, sid: str, status: str):
    return next((t for t in repos.tasks.for_subscriber(sid) if t.status == status), None)


def _write(what: str, repos: Repos, sid: str, n: int, config) -> None:
    if what in ("claim", "done", "snooze"):
        task = _one_task(repos, sid, TASK_CLAIMED if what == "done" else TASK_OPEN)
        if task is None:
            return
        change = {
            "claim": lambda t: setattr(t, "status", TASK_CLAIMED),
            "done": lambda t: setattr(t, "status", TASK_DONE),
            "snooze": lambda t: setattr(t, "snoozed_until", TODAY + timedelta(days=3)),
        }[what]
        repos.tasks.mutate(task.id, change)
    elif what == "event":
        repos.events.add(event(sid, ["cancel_request", "payment_failed"][n % 2], TODAY, n=50 + n))
    elif what == "unevent":
        held = repos.events.for_subscriber(sid)
        if held:
            repos.events.remove(held[n % len(held)].id, sid)
    elif what == "subscriber":  # scheduled to cancel, late, worth more: risk and a save task
        repos.subscribers.put(
            member(
                sid,
                tenure=30,
                amount=450.0 + n,
                status="past_due",
                cancel_at_period_end=True,
                next_charge=TODAY + timedelta(days=3),
            )
        )
    elif what == "outreach":
        repos.outreach.add(outreach_on(sid, [f"after-{n}"], days_ago(n % 3)))
    elif what == "engine":
        run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
    elif what == "undone":
        try:
            with repos.store.transaction():
                repos.events.add(event(sid, "cancel_request", TODAY, n=90 + n))
                task = _one_task(repos, sid, TASK_OPEN)
                if task is not None:
                    repos.tasks.mutate(task.id, lambda t: setattr(t, "status", TASK_CLAIMED))
                raise _Undone
        except _Undone:
            pass


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.lists(customer, min_size=3, max_size=8),
    steps=st.lists(st.tuples(st.sampled_from(WRITES), st.integers(0, 7)), min_size=1, max_size=5),
    limit=st.integers(0, 4).map(lambda n: n or None),
    must_show=st.sampled_from([0.0, 30.0, 300.0]),
)
def test_a_plan_after_any_writes_or_a_restart_is_the_plan_of_a_fresh_read(
    customers, steps, limit, must_show
):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        config = load_settings({"CARE_DATA_DIR": str(data)}, dotenv=False)
        memory = _stored(customers)
        store = Store(data, shards=4)
        try:
            repos = Repos.open(store)
            with store.transaction():
                repos.subscribers.put_many(memory.subscribers.all())
                sids = repos.subscribers.ids()
                repos.events.add_many(e for sid in sids for e in memory.events.for_subscriber(sid))
                repos.outreach.add_many(
                    o for sid in sids for o in memory.outreach.for_subscriber(sid)
                )
            yesterday = TODAY - timedelta(days=1)
            run_engine(yesterday, repos, config, FixedClock(at_noon(yesterday)))
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            first = _day(TODAY, repos, config, limit, must_show)  # the facts are kept from here
            assert first[:4] == first[4:] + (first[3],)
            for what, n in steps:
                if what == "restart":
                    store.close()
                    store = Store(data, shards=4)
                    repos = Repos.open(store)
                else:
                    _write(what, repos, f"cus_{n % len(customers):02d}", n, config)
                kept = _day(TODAY, repos, config, limit, must_show)
                assert kept[:4] == kept[4:] + (kept[3],)
                assert kept == _day(TODAY, Repos.open(store), config, limit, must_show)
        finally:
            store.close()
