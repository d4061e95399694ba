"""The plan index finds every subscriber planning would test, and bounds risk as the document."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from bot.lifecycle import MilestoneWindows
from bot.repos import Repos
from bot.repos.subscriber_index import value_and_flags
from bot.risk_bound import LAST_ORDER, UpperBound, doc_flags, subscriber_flags
from bot.store import Store
from config.rules import LifecycleRules, RiskRules

TODAY = date(2026, 6, 15)
days = st.integers(-800, 60).map(lambda n: (TODAY + timedelta(days=n)).isoformat())
maybe_day = st.none() | days
subscription = st.fixed_dictionaries(
    {"id": st.just("sub")},
    optional={
        "status": st.sampled_from(
            ["active", "trialing", "past_due", "unpaid", "paused", "canceled", "non_renewing"]
        ),
        "started": days,
        "current_period_end": days,
        "ended_at": days,
        "canceled_at": days,
        "cancel_at_period_end": st.booleans(),
        "interval": st.sampled_from(["day", "week", "month", "year", ""]),
        "interval_count": st.integers(0, 12),
    },
)
document = st.fixed_dictionaries(
    {"subscriptions": st.lists(subscription, max_size=3)},
    optional={
        "first_started": days,
        "last_order": days,
        "history": st.lists(st.fixed_dictionaries({"at": days.map(lambda d: d + "T10:00:00Z")})),
    },
)
event = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["order", "skip", "cancel_request", "payment_failed", "nps"]),
        "at": days.map(lambda d: d + "T10:00:00Z"),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    docs=st.lists(document, min_size=1, max_size=8),
    events=st.lists(st.lists(event, max_size=3), min_size=8, max_size=8),
    shift=st.integers(0, 400),
    changed=document,
)
def test_every_subscriber_planning_would_test_is_a_candidate_and_flags_bound_risk_alike(
    docs: list[dict[str, Any]],
    events: list[list[dict[str, Any]]],
    shift: int,
    changed: dict[str, Any],
) -> None:
    store = Store.memory()
    repos = Repos.open(store)
    table = store.table("subscribers")
    for n, doc in enumerate(docs):
        table.insert({"id": f"cus_{n}", **doc})
    today = TODAY - timedelta(days=shift)
    windows = MilestoneWindows(today, LifecycleRules())
    bound = UpperBound(today, RiskRules())
    repos.subscribers.plan_candidates(windows, [])  # built now: the change below updates it
    stored = {f"cus_{n}": doc for n, doc in enumerate(docs)}
    changed_sub = repos.subscribers.load({"id": "cus_0", **changed})
    if changed_sub is not None:
        repos.subscribers.put(changed_sub)
        stored["cus_0"] = repos.subscribers.raw_doc("cus_0")
    order, dated, flags = repos.subscribers.plan_candidates(windows, [])
    for n, (sid, doc) in enumerate(stored.items()):
        if windows.may_have_milestone(doc):
            assert sid in dated and sid in order
        assert flags[sid] == doc_flags(doc)
        assert bound.points_of(flags[sid], events[n]) == bound.points(doc, events[n])
        if bound.points(doc, []) > 0:
            assert sid in order


def test_a_yearly_renewal_in_the_pre_renewal_window_is_a_candidate_and_a_monthly_is_not(
    repos: Repos,
) -> None:
    windows = MilestoneWindows(TODAY, LifecycleRules())
    renews = min(windows.charges)
    table = repos.store.table("subscribers")
    for sid, interval in (("cus_year", "year"), ("cus_month", "month")):
        sub = {"id": f"sub_{sid}", "status": "active", "interval": interval}
        table.insert({"id": sid, "subscriptions": [{**sub, "current_period_end": renews}]})
    order, dated, _ = repos.subscribers.plan_candidates(windows, [])
    assert windows.may_have_milestone(repos.subscribers.raw_doc("cus_year"))
    assert "cus_year" in dated and "cus_month" not in dated


priced = st.fixed_dictionaries(
    {"id": st.just("sub")},
    optional={
        "status": st.sampled_from(["active", "past_due", "paused", "canceled", "future", 3, None]),
        "amount": st.sampled_from([0, 9.99, 30.0, 450, 1e9, "30", None]),
        "quantity": st.sampled_from([0, 1, 3, 2.0, True, None]),
        "interval": st.sampled_from(["day", "week", "month", "year", "", None]),
        "interval_count": st.integers(0, 12) | st.sampled_from(["2", None]),
        "cancel_at_period_end": st.booleans(),
    },
)


@settings(max_examples=200, deadline=None)
@given(
    subs=st.lists(priced, max_size=3),
    last_order=st.none() | days | st.just(7),
    extra=st.sampled_from([{}, {"email": 7}, {"started": "soon"}]),
)
def test_the_slim_read_gives_the_models_value_and_the_documents_flags(
    subs: list[dict[str, Any]], last_order: Any, extra: dict[str, Any]
) -> None:
    # What ranks a due customer (bot.digest_entries.Entries.facts): the value a full read gives, or
    # None (then the document is read in full); never a value the model would not give. The
    # plan index, once built, holds the same as the slim read, or nothing.
    doc = {"id": "cus_1", "subscriptions": subs, **extra}
    if last_order is not None:
        doc["last_order"] = last_order
    repos = Repos.open(Store.memory())
    repos.store.table("subscribers").insert(doc)
    held = repos.subscribers.held("cus_1")
    assert held is not None
    slim = value_and_flags(held)
    full = repos.subscribers.get("cus_1")
    assert repos.subscribers.planned("cus_1") is None  # no plan index yet
    repos.subscribers.plan_candidates(MilestoneWindows(TODAY, LifecycleRules()), [])
    assert repos.subscribers.planned("cus_1") == slim
    if slim is None:
        return
    assert slim[1] == doc_flags(doc)
    if full is not None:  # unreadable: the entry's value comes from its tasks
        assert slim[0] == full.monthly_value


def test_the_plan_index_follows_each_write_of_a_subscribers_value_and_flags(repos: Repos) -> None:
    # Written after the index is built: the plan ranks by what is stored now, never by what
    # was.
    sub = {"id": "sub_1", "status": "active", "amount": 30.0, "interval": "month"}
    repos.store.table("subscribers").insert({"id": "cus_1", "subscriptions": [sub]})
    repos.subscribers.plan_candidates(MilestoneWindows(TODAY, LifecycleRules()), [])
    assert repos.subscribers.planned("cus_1") == (30.0, doc_flags({"subscriptions": [sub]}))
    stored = repos.subscribers.get("cus_1")
    assert stored is not None
    late = replace(stored.subscriptions[0], status="past_due", quantity=3)
    repos.subscribers.put(replace(stored, subscriptions=[late]))
    now = repos.subscribers.raw_doc("cus_1")
    assert now is not None
    assert repos.subscribers.planned("cus_1") == (90.0, doc_flags(now)) != (30.0, 3)
    repos.subscribers.put(replace(stored, subscriptions=[], last_order=TODAY))
    assert repos.subscribers.planned("cus_1") == (0.0, LAST_ORDER)


@settings(max_examples=200, deadline=None)
@given(doc=document, extra=st.sampled_from([{}, {"status": "paused"}, {"last_order": ""}]))
def test_the_engines_read_of_a_dated_subscriber_is_the_documents(
    doc: dict[str, Any], extra: dict[str, Any]
) -> None:
    """The dry run reads a subscriber holding a window date straight from its JSON
    (`SubscriberRepo.get`): the same subscriber, and the same risk-bound facts, as the
    document decoded and loaded (what it read before)."""
    store = Store.memory()
    repos = Repos.open(store)
    store.table("subscribers").insert({"id": "cus_1", **doc, **extra})
    raw = repos.subscribers.raw_doc("cus_1")
    assert raw is not None
    loaded = repos.subscribers.load(raw)
    got = repos.subscribers.get("cus_1")
    assert got == loaded
    if got is not None:
        assert subscriber_flags(got) == doc_flags(raw)


@settings(max_examples=40, deadline=None)
@given(
    docs=st.lists(document, min_size=1, max_size=8),
    asked=st.lists(st.integers(0, 10).map(lambda n: f"cus_{n}"), max_size=4),
    rewritten=st.lists(st.integers(0, 9), max_size=3),
    twice=st.booleans(),
)
def test_candidates_come_in_stored_order_with_the_doc_id_each_is_read_at(
    docs: list[dict[str, Any]], asked: list[str], rewritten: list[int], twice: bool
) -> None:
    """Before and after writes (and with an id stored twice, hand-edited), the candidates
    are in the order of the documents holding them, each with the last one's doc id, and
    the subscriber read at it is the one read by id."""
    repos = Repos.open(Store.memory())
    table = repos.store.table("subscribers")
    for n, doc in enumerate(docs):
        table.insert({"id": f"cus_{n}", **doc})
    if twice:
        table.insert({"id": "cus_0", **docs[0]})
    repos = Repos.open(repos.store)
    windows = MilestoneWindows(TODAY, LifecycleRules())
    for round_ in range(2):
        order, dated, _ = repos.subscribers.plan_candidates(windows, asked)
        held = {doc["id"]: doc_id for doc_id, doc in ((d.doc_id, d) for d in table.all())}
        assert list(order) == sorted(order, key=held.__getitem__)
        assert set(dated) | {s for s in asked if s in held} <= set(order) <= set(held)
        for sid, at in order.items():
            assert at == held[sid]
            assert repos.subscribers.get(sid, at) == repos.subscribers.get(sid)
        if round_ == 0:
            for n in rewritten:
                sub = repos.subscribers.get(f"cus_{n}")
                if sub is not None:
                    repos.subscribers.put(replace(sub, name=f"again {n}"))
