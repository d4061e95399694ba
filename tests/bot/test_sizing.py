"""`plan_day`: the day sized from cheap facts posts exactly what the full plan's `choose` does.

The full plan builds an entry (today's risk score, priority) for every customer due; the
cheap one scores only the customers whose risk bound could change where they rank. Over any
mix of customers (milestones, overdue work, risk signals, failed payments, values with ties,
customers reached lately, claimed work, a customer no longer stored) and any bound and
must-show value, both must post the same entries, in the same order, with the same risk and
priority, and queue the same customers and tasks.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from bot.clock import FixedClock
from bot.digest import plan_digest
from bot.duetask import DueTask
from bot.engine import run_engine
from bot.models import Task
from bot.repos import Repos
from bot.sizing import plan_day
from bot.store import Store
from config import load_settings
from tests.bot.builders import TODAY, at_noon, days_ago, event, member, outreach_on

# Tenures that open a task today, on time or overdue (grace 7 days), or none (120).
TENURES = [7, 10, 30, 33, 38, 45, 90, 99, 120]
EVENTS = ["cancel_request", "payment_failed", "payment_failed", "nps", "support_contact", "skip"]

customer = st.fixed_dictionaries(
    {
        "tenure": st.sampled_from(TENURES),
        "amount": st.sampled_from([0.0, 10.0, 30.0, 300.0, 450.0]),
        "status": st.sampled_from(["active", "active", "past_due", "paused", "canceled"]),
        "cancels": st.booleans(),
        "events": st.lists(st.tuples(st.sampled_from(EVENTS), st.integers(0, 40)), max_size=3),
        "reached": st.none() | st.integers(0, 60),
        "claimed": st.booleans(),
    }
)


def _stored(customers: list[dict]) -> Repos:
    repos = Repos.open(Store.memory())
    for n, c in enumerate(customers):
        sid = f"cus_{n:02d}"
        ended = days_ago(20) if c["status"] == "canceled" else None
        repos.subscribers.put(
            member(
                sid,
                tenure=c["tenure"],
                amount=c["amount"],
                status=c["status"],
                cancel_at_period_end=c["cancels"],
                next_charge=TODAY + timedelta(days=10),
                ended=ended,
            )
        )
        for i, (kind, ago) in enumerate(c["events"]):
            value = 3.0 if kind == "nps" else None
            repos.events.add(event(sid, kind, days_ago(ago), value=value, n=i))
        if c["reached"] is not None:
            repos.outreach.add(outreach_on(sid, [], days_ago(c["reached"])))
    return repos


def _shape(entries, today) -> list[tuple]:
    return [
        (e.subscriber.id, e.task_ids, e.risk, e.priority, e.rank_key(today), e.kind)
        for e in entries
    ]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.lists(customer, min_size=3, max_size=24),
    limit=st.integers(0, 5).map(lambda n: n or None),
    must_show=st.sampled_from([0.0, 30.0, 300.0]),
    gone=st.booleans(),
)
def test_the_cheap_day_posts_what_the_full_plan_chooses(customers, limit, must_show, gone):
    repos = _stored(customers)
    config = load_settings({"CARE_DATA_DIR": "/nonexistent"}, dotenv=False)
    # A day-old engine run: yesterday's tasks are stored (some claimed), today's are planned.
    yesterday = TODAY - timedelta(days=1)
    created = run_engine(yesterday, repos, config, FixedClock(at_noon(yesterday))).created
    for task, c in zip(created, customers, strict=False):
        if c["claimed"]:
            repos.tasks.mutate(task.id, lambda t: setattr(t, "status", "claimed"))
    if gone and created:  # a task of a customer no longer stored
        repos.tasks.create(
            replace(created[0], id="zzgone", key="cus_gone:x", subscriber_id="cus_gone")
        )
    now = at_noon(TODAY)

    full = plan_digest(TODAY, repos, config, now)
    chosen = full.choose(limit, must_show)
    plan, choice = plan_day(TODAY, repos, config, now, limit, must_show)

    assert _shape(plan.entries, TODAY) == _shape(chosen.posted, TODAY)
    assert _shape(choice.posted, TODAY) == _shape(chosen.posted, TODAY)
    assert [e.tasks for e in choice.posted] == [e.tasks for e in chosen.posted]  # read in full
    queued = sorted((d.subscriber_id, [t.id for t in d.tasks]) for d in choice.queued)
    assert queued == sorted((e.subscriber.id, e.task_ids) for e in chosen.queued)
    assert (plan.counts, plan.deferred, choice.limit) == (full.counts, full.deferred, chosen.limit)
    assert choice.queued_tasks == chosen.queued_tasks


def _thirty_due() -> Repos:
    """30 customers with a day-30 check-in today, none at risk, worth 10..39 a month."""
    return _stored(
        [
            {
                "tenure": 30,
                "amount": 10.0 + n,
                "status": "active",
                "cancels": False,
                "events": [],
                "reached": None,
                "claimed": False,
            }
            for n in range(30)
        ]
    )


def test_only_the_customers_who_can_rank_differently_are_scored(monkeypatch):
    # 30 customers due, none at risk, a bound of 3: three entries are built, not thirty.
    repos = _thirty_due()
    plan, choice, built, config = _plan_counting_entries(monkeypatch, repos)
    assert [e.subscriber.id for e in plan.entries] == ["cus_29", "cus_28", "cus_27"]
    assert len(built) == 3
    assert len(choice.queued) == 27 and choice.queued_tasks == 27


def test_the_queue_keeps_a_stored_tasks_facts_and_a_posted_entry_the_task_itself():
    # 30 customers due on stored tasks (today's engine run), 3 posted: the 27 queued keep
    # only the facts that rank and count them, not a full Task each.
    repos = _thirty_due()
    config = load_settings({"CARE_DATA_DIR": "/nonexistent"}, dotenv=False)
    clock = FixedClock(at_noon(TODAY))
    created = run_engine(TODAY, repos, config, clock).created
    assert len(created) == 30
    for task in created[::4]:
        repos.tasks.mutate(task.id, lambda t: setattr(t, "status", "claimed"))
    plan, choice = plan_day(TODAY, repos, config, clock.now(), 3, 300.0)

    queued = [t for d in choice.queued for t in d.tasks]
    assert len(queued) == 30 - 3 - 8  # the 8 claimed ones are work in hand, posted
    assert all(type(t) is DueTask for t in queued)
    for facts in queued:
        stored = repos.tasks.require(facts.id)
        assert (facts.kind, facts.due, facts.status, facts.value) == (
            stored.kind,
            stored.due,
            stored.status,
            stored.value,
        )
    posted = [t for e in choice.posted for t in e.tasks]
    assert len(posted) == 3 + 8
    assert posted == [repos.tasks.require(t.id) for t in posted]
    assert all(type(t) is Task for t in posted)


def test_a_customer_the_must_show_rules_cannot_pin_is_not_scored_for_them(monkeypatch):
    # 30 customers worth 450 (past must_show_value 300), each an NPS detractor: a risk
    # below the high band and no payment reason, so none can be pinned; three are built.
    repos = _stored(
        [
            {
                "tenure": 30,
                "amount": 450.0 + n,
                "status": "active",
                "cancels": False,
                "events": [("nps", 5)],
                "reached": None,
                "claimed": False,
            }
            for n in range(30)
        ]
    )
    plan, choice, built, config = _plan_counting_entries(monkeypatch, repos)
    assert [e.subscriber.id for e in plan.entries] == ["cus_29", "cus_28", "cus_27"]
    assert all(0 < e.risk.score < config.risk.high for e in plan.entries)
    assert len(built) == 3
    full = plan_digest(TODAY, repos, config, at_noon(TODAY)).choose(3, 300.0)
    assert _shape(plan.entries, TODAY) == _shape(full.posted, TODAY)


def _plan_counting_entries(monkeypatch, repos):
    """plan_day with a bound of 3, noting each due customer whose full entry is built."""
    config = load_settings({"CARE_DATA_DIR": "/nonexistent"}, dotenv=False)
    from bot import digest_entries

    built = []
    real = digest_entries.Entries.entry
    monkeypatch.setattr(
        digest_entries.Entries, "entry", lambda self, due: built.append(due) or real(self, due)
    )
    plan, choice = plan_day(TODAY, repos, config, at_noon(TODAY), 3, 300.0)
    return plan, choice, built, config


@settings(max_examples=100, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.sampled_from([*EVENTS, "pay\\u006dent_failed", "downgrade", "pause", "order"]),
            st.integers(0, 200),
            st.sampled_from(["Z", "+00:00", "+05:30", ".123456Z"]),
        ),
        max_size=6,
    ),
    flags=st.integers(0, 63),
)
def test_the_risk_bound_read_from_the_events_bytes_is_the_one_their_documents_give(events, flags):
    # The plan bounds a due customer's risk from a slim decode of their events' bytes; it
    # must be the bound (and the payment possibility) their decoded documents give.
    from bot.digest_entries import Entries
    from bot.engine import EngineChanges
    from bot.risk_bound import UpperBound

    repos = Repos.open(Store.memory())
    table = repos.store.shard_table("events", "cus_1")
    for n, (kind, ago, zone) in enumerate(events):
        at = f"{days_ago(ago).isoformat()}T12:00:00{zone}"
        table.insert({"id": f"e{n}", "subscriber_id": "cus_1", "type": kind, "at": at})
    config = load_settings({"CARE_DATA_DIR": "/nonexistent"}, dotenv=False)
    changes = EngineChanges(TODAY, at_noon(TODAY), config.lifecycle)
    changes.events = repos.events.raw_by_subscriber()
    entries = Entries(TODAY, repos, config, changes)
    bound = UpperBound(TODAY, config.risk)
    docs = changes.events.get("cus_1", [])
    assert entries._points("cus_1", flags) == bound.points_of(flags, docs)
    assert config.risk.high > 1  # so may_pin asks whether a payment reason is possible
    assert entries.may_pin("cus_1", 1) == bound.payment_possible(flags, docs)
