"""The journal-then-apply path: nothing lost, nothing twice, nothing out of order."""

from __future__ import annotations

import json
from pathlib import Path

from bot.clock import FixedClock
from bot.repos import Repos
from bot.repos.journal import APPLIED, IGNORED, PENDING, WAITING
from bot.signals.intake import Intake
from bot.store import Store
from tests.bot.repos.factories import subscriber
from tests.bot.signals.conftest import make_intake
from tests.hooks import stripe_event, stripe_made, stripe_request, stripe_signature

T0 = 1781500000  # 2026-06-15 05:06:40 UTC


def _send(intake: Intake, event: dict) -> int:
    body, headers = stripe_request(event)
    answer = intake.receive("stripe", body, headers)
    if answer.status == 200 and not answer.body.get("duplicate"):
        intake.apply_now(f"stripe:{event['id']}")
    return answer.status


def _failed(event_id: str, created: int, customer: str = "cus_1", **obj) -> dict:
    return stripe_event(
        "invoice.payment_failed",
        event_id,
        created,
        customer=customer,
        attempt_count=1,
        next_payment_attempt=created + 3 * 86400,
        **obj,
    )


def test_refused_deliveries_store_nothing(intake: Intake, repos: Repos):
    body, headers = stripe_request(_failed("evt_1", T0))
    bad = dict(headers, **{"Stripe-Signature": stripe_signature(body, "whsec_wrong")})
    assert intake.receive("stripe", body, bad).status == 401
    assert intake.receive("stripe", body, {}).status == 401
    assert (
        intake.receive(
            "stripe", b"{" * 10, {"Stripe-Signature": stripe_signature(b"{" * 10)}
        ).status
        == 400
    )
    intake.max_body = 100
    assert intake.receive("stripe", body, headers).status == 413
    assert intake.receive("shopify", body, headers).status == 404
    assert intake.journal.counts() == {}
    assert repos.events.count() == 0


def test_a_duplicate_delivery_is_answered_and_applied_once(intake: Intake, repos: Repos):
    repos.subscribers.put(subscriber("cus_1"))
    event = _failed("evt_1", T0)
    assert _send(intake, event) == 200
    body, headers = stripe_request(event)
    answer = intake.receive("stripe", body, headers)
    assert (answer.status, answer.body["duplicate"]) == (200, True)
    assert [e.type for e in repos.events.for_subscriber("cus_1")] == ["payment_failed"]
    assert intake.journal.get("stripe:evt_1").status == APPLIED


def test_an_older_state_never_overwrites_a_newer_one(intake: Intake, repos: Repos):
    repos.subscribers.put(subscriber("cus_1"))
    newer = stripe_event(
        "customer.subscription.updated",
        "evt_new",
        T0 + 60,
        id="sub_x",
        customer="cus_1",
        status="past_due",
    )
    older = stripe_event(
        "customer.subscription.updated",
        "evt_old",
        T0,
        id="sub_x",
        customer="cus_1",
        status="active",
    )
    _send(intake, newer)
    _send(intake, older)
    sub = repos.subscribers.get("cus_1")
    assert {s.id: s.status for s in sub.subscriptions}["sub_x"] == "past_due"
    assert intake.journal.get("stripe:evt_old").status == IGNORED
    assert "older" in intake.journal.get("stripe:evt_old").note


def test_in_order_updates_move_the_state_and_keep_history(intake: Intake, repos: Repos):
    repos.subscribers.put(subscriber("cus_1"))
    for n, status in enumerate(("active", "past_due", "active")):
        _send(
            intake,
            stripe_event(
                "customer.subscription.updated",
                f"evt_{n}",
                T0 + n,
                id="sub_x",
                customer="cus_1",
                status=status,
            ),
        )
    sub = repos.subscribers.get("cus_1")
    assert [(h["from"], h["to"]) for h in sub.history if h["sub"] == "sub_x"] == [
        ("active", "past_due"),
        ("past_due", "active"),
    ]


def test_unknown_customer_without_email_waits_then_applies_when_the_customer_arrives(
    intake: Intake, repos: Repos
):
    _send(intake, _failed("evt_1", T0, customer="cus_new"))
    assert intake.journal.get("stripe:evt_1").status == WAITING
    assert repos.subscribers.get("cus_new") is None
    customer = stripe_made("customer.subscription.created")  # any event; made a customer.created
    customer.update(id="evt_c", type="customer.created", created=T0 + 5)
    customer["data"]["object"] = {
        "id": "cus_new",
        "object": "customer",
        "email": "New@Example.com",
        "name": "Nia New",
    }
    _send(intake, customer)
    sub = repos.subscribers.get("cus_new")
    assert (sub.email, sub.name) == ("new@example.com", "Nia New")
    assert intake.journal.get("stripe:evt_1").status == APPLIED
    assert [e.type for e in repos.events.for_subscriber("cus_new")] == ["payment_failed"]


def test_unknown_customer_with_id_and_email_is_created(intake: Intake, repos: Repos):
    _send(intake, _failed("evt_1", T0, customer="cus_9", customer_email="nine@example.com"))
    assert repos.subscribers.get("cus_9").email == "nine@example.com"


def test_known_by_email_only_joins_the_imported_subscriber(intake: Intake, repos: Repos):
    repos.subscribers.put(subscriber("ada@example.com", email="ada@example.com"))
    _send(intake, _failed("evt_1", T0, customer="cus_ada", customer_email="ADA@example.com"))
    assert repos.subscribers.get("cus_ada") is None
    assert [e.type for e in repos.events.for_subscriber("ada@example.com")] == ["payment_failed"]


def test_a_crash_after_the_answer_loses_nothing_across_a_restart(tmp_path: Path, clock: FixedClock):
    store = Store(tmp_path / "data", shards=8)
    repos = Repos.open(store)
    repos.subscribers.put(subscriber("cus_1"))
    body, headers = stripe_request(_failed("evt_1", T0))
    assert make_intake(repos, clock).receive("stripe", body, headers).status == 200
    store.close()  # the process dies before the worker applied it

    store = Store(tmp_path / "data", shards=8)
    repos = Repos.open(store)
    intake = make_intake(repos, clock)
    assert intake.journal.get("stripe:evt_1").status == PENDING
    clock.advance(days=1)
    assert intake.catch_up() == 1
    assert [e.type for e in repos.events.for_subscriber("cus_1")] == ["payment_failed"]
    assert intake.catch_up() == 0
    store.close()


def test_the_worker_applies_in_the_background(intake: Intake, repos: Repos):
    repos.subscribers.put(subscriber("cus_1"))
    intake.start()
    try:
        body, headers = stripe_request(_failed("evt_1", T0))
        assert intake.receive("stripe", body, headers).status == 200
        intake._queue.join()
    finally:
        intake.stop()
    assert json.loads(intake.journal.get("stripe:evt_1").body)["id"] == "evt_1"
    assert repos.events.count() == 1


def test_a_batch_applies_in_order_with_one_write_and_skips_a_bad_delivery(
    intake: Intake, repos: Repos
):
    repos.subscribers.put(subscriber("cus_1"))
    keys = []
    for n, status in enumerate(("past_due", "active", "past_due")):
        event = stripe_event(
            "customer.subscription.updated",
            f"evt_{n}",
            T0 + n,
            id="sub_x",
            customer="cus_1",
            status=status,
        )
        body, headers = stripe_request(event)
        intake.receive("stripe", body, headers)
        keys.append(f"stripe:evt_{n}")
    bad = stripe_event("customer.subscription.updated", "evt_bad", T0, customer="cus_1")
    del bad["data"]["object"]["id"]  # parse fails: a subscription without its id
    body, headers = stripe_request(bad)
    intake.receive("stripe", body, headers)
    results = intake.apply_many([*keys[:2], "stripe:evt_bad", keys[2]])
    assert sorted(results) == sorted(keys)
    sub = repos.subscribers.get("cus_1")
    # sub_x is new with the first update (no history entry), then changes twice, in order
    assert [(h["from"], h["to"]) for h in sub.history if h["sub"] == "sub_x"] == [
        ("past_due", "active"),
        ("active", "past_due"),
    ]
    assert intake.journal.get("stripe:evt_bad").status == "failed"
    assert all(intake.journal.get(k).status == APPLIED for k in keys)
