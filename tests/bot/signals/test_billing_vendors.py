"""Shopify, Chargebee and Recharge receivers: each vendor's check, and what its events mean.

Payloads are the vendors' own from ../shared/webhooks. Where none exists (Recharge charges),
the body is built from Recharge's documented charge fields and the test says so.
"""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from bot.clock import FixedClock
from bot.repos import Repos
from bot.repos.journal import APPLIED, WAITING
from bot.signals.chargebee import ChargebeeReceiver, parse_event
from bot.signals.intake import Intake
from bot.signals.model import Refused
from bot.signals.recharge import RechargeReceiver, parse_webhook
from bot.signals.shopify import ShopifyReceiver
from tests.bot.repos.factories import subscriber
from tests.bot.signals.conftest import deliver, make_intake
from tests.hooks import (
    CHARGEBEE_PASSWORD,
    CHARGEBEE_USER,
    RECHARGE_SECRET,
    SHOPIFY_SECRET,
    chargebee_headers,
    recharge_headers,
    shared_body,
    shared_json,
    shopify_headers,
)


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


@pytest.fixture
def intake(repos: Repos, clock: FixedClock) -> Intake:
    return make_intake(
        repos,
        clock,
        {
            "shopify": ShopifyReceiver(SHOPIFY_SECRET),
            "chargebee": ChargebeeReceiver(CHARGEBEE_USER, CHARGEBEE_PASSWORD),
            "recharge": RechargeReceiver(RECHARGE_SECRET),
        },
    )


# ----- Chargebee ------------------------------------------------------------------------------


def test_chargebee_basic_auth_is_checked():
    receiver = ChargebeeReceiver(CHARGEBEE_USER, CHARGEBEE_PASSWORD)
    body = shared_body("chargebee", "payment_failed.json")
    receiver.verify(body, lower(chargebee_headers()))
    for headers in ({}, chargebee_headers(password="wrong"), {"Authorization": "Basic !!"}):
        with pytest.raises(Refused) as refused:
            receiver.verify(body, lower(headers))
        assert refused.value.status == 401


def test_chargebee_payment_failed_creates_the_customer_and_says_when_dunning_retries(
    intake: Intake, repos: Repos
):
    body = shared_body("chargebee", "payment_failed.json")
    assert deliver(intake, "chargebee", body, chargebee_headers())["status"] == 200
    sub = repos.subscribers.get("3Nl7oGgQqGFprj9")
    assert sub is not None and sub.email == "benjamin@test.com"
    (event,) = repos.events.for_subscriber(sub.id)
    assert (event.type, event.value, event.note) == ("payment_failed", 2.24, "Insufficient funds")
    (signal,) = parse_event(json.loads(body))
    assert signal.facts["next_retry"].startswith("2013-04-02")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("subscription_cancellation_scheduled.json", ["cancellation_scheduled"]),
        ("subscription_scheduled_cancellation_removed.json", ["cancellation_removed"]),
        ("subscription_cancelled.json", ["canceled"]),
        ("subscription_paused.json", ["pause"]),
        ("subscription_resumed.json", ["resume"]),
        ("subscription_trial_end_reminder.json", ["trial_ending"]),
        ("card_expiry_reminder.json", ["card_expiring"]),
        ("subscription_changed.json", []),
        ("payment_succeeded.json", []),
    ],
)
def test_chargebee_events_mean(name: str, expected: list[str]):
    (signal,) = parse_event(shared_json("chargebee", name))
    assert signal.types == expected


def test_chargebee_scheduled_cancellation_is_non_renewing_with_its_end():
    (signal,) = parse_event(shared_json("chargebee", "subscription_cancellation_scheduled.json"))
    assert signal.subscription is not None
    assert (signal.subscription.status, signal.subscription.cancel_at_period_end) == (
        "non_renewing",
        True,
    )
    assert signal.facts["ends"] == "2012-10-07"
    cancelled = parse_event(shared_json("chargebee", "subscription_cancelled.json"))[0]
    assert (
        cancelled.facts["reason"] == "No Card"
    )  # its cancel_reason_code and cancelled.subscription.status == "canceled"


def test_chargebee_trial_cancelled_before_its_end_never_paid():
    event = shared_json("chargebee", "subscription_cancelled.json")
    sub = event["content"]["subscription"]
    sub["started_at"] = sub["trial_start"] = sub["cancelled_at"] - 5 * 86_400  # a trial
    sub["trial_end"] = sub["cancelled_at"] + 9 * 86_400  # cancelled before it ended
    (signal,) = parse_event(event)
    assert signal.subscription is not None and signal.subscription.never_paid
    sub["trial_end"] = sub["cancelled_at"] - 60 * 86_400  # converted, cancelled much later
    (signal,) = parse_event(event)
    assert signal.subscription is not None and not signal.subscription.never_paid


def test_chargebee_dunning_exhausted_means_retries_exhausted():
    # No Chargebee-made dunning_updated exists: its documented invoice fields on a real event.
    event = shared_json("chargebee", "payment_failed.json")
    event["event_type"], event["id"] = "dunning_updated", "ev_dunning"
    event["content"]["invoice"]["dunning_status"] = "exhausted"
    assert parse_event(event)[0].types == ["retries_exhausted"]


# ----- Recharge -------------------------------------------------------------------------------


def test_recharge_both_schemes_verify_and_stale_or_wrong_are_refused():
    receiver = RechargeReceiver(RECHARGE_SECRET)
    body = shared_body("recharge", "subscription.cancelled.json")
    receiver.verify(body, lower(recharge_headers(body, "subscription/cancelled")))
    receiver.verify(body, lower(recharge_headers(body, "subscription/cancelled", legacy=True)))
    stale = recharge_headers(body, "subscription/cancelled", t=int(time.time()) - 49 * 3600)
    for headers in (stale, {"X-Recharge-Hmac-Sha256": "0" * 64}, {}):
        with pytest.raises(Refused):
            receiver.verify(body, lower(headers))


def test_recharge_cancellation_keeps_reason_and_comments(intake: Intake, repos: Repos):
    repos.subscribers.put(subscriber("333333"))
    body = shared_body("recharge", "subscription.cancelled.json")
    assert (
        deliver(intake, "recharge", body, recharge_headers(body, "subscription/cancelled"))[
            "status"
        ]
        == 200
    )
    sub = repos.subscribers.get("333333")
    cancelled = next(s for s in sub.subscriptions if s.id == "11111")
    assert (cancelled.status, cancelled.amount, cancelled.quantity) == ("canceled", 49.0, 4)
    assert cancelled.cancellation_reason == "some reason / comments go here"
    assert (cancelled.interval, cancelled.interval_count) == ("day", 30)
    assert [e.type for e in repos.events.for_subscriber("333333")] == ["canceled"]


def test_recharge_same_resource_and_updated_at_is_a_duplicate(intake: Intake, repos: Repos):
    repos.subscribers.put(subscriber("333333"))
    body = shared_body("recharge", "subscription.updated.json")
    headers = recharge_headers(body, "subscription/updated")
    assert intake.receive("recharge", body, headers).body == {"ok": True}
    assert intake.receive("recharge", body, headers).body == {"ok": True, "duplicate": True}


def test_recharge_unknown_customer_waits_until_the_customer_webhook_arrives(
    intake: Intake, repos: Repos
):
    body = shared_body("recharge", "subscription.created.json")
    deliver(intake, "recharge", body, recharge_headers(body, "subscription/created"))
    customer_id = str(json.loads(body)["subscription"]["customer_id"])
    assert [d.status for d in intake.journal.with_status([WAITING])] == [WAITING]
    customer = shared_json("recharge", "customer.updated.json")
    customer["customer"]["id"] = int(customer_id)
    raw = json.dumps(customer).encode()
    deliver(intake, "recharge", raw, recharge_headers(raw, "customer/updated"))
    intake.retry_waiting()
    sub = repos.subscribers.get(customer_id)
    assert sub is not None and sub.email == "testtesttest5@test.dk" and sub.subscriptions


def test_recharge_charge_failed_and_max_retries_from_documented_fields():
    # No real Recharge charge payload exists under a usable licence (see SOURCE.md): this body
    # uses the documented charge fields (customer, total_price, error, error_type, retry_date).
    charge = {
        "charge": {
            "id": 9,
            "customer": {"id": 333333, "email": "a@example.com"},
            "total_price": "49.00",
            "currency": "USD",
            "error": "Card declined",
            "error_type": "CLOSED_MAX_RETRIES_REACHED",
            "retry_date": None,
            "charge_attempts": 3,
            "updated_at": "2026-06-15T10:00:00+00:00",
        }
    }
    failed = parse_webhook("charge/failed", charge, None)[0]
    assert failed.types == ["payment_failed"] and failed.facts["amount"] == 49.0
    assert parse_webhook("charge/max_retries_reached", charge, None)[0].types == [
        "retries_exhausted"
    ]


# ----- Shopify --------------------------------------------------------------------------------


def test_shopify_base64_hmac_is_checked():
    receiver = ShopifyReceiver(SHOPIFY_SECRET)
    body = shared_body("shopify", "subscription_contracts.cancel.json")
    headers = shopify_headers(body, "subscription_contracts/cancel", "w1")
    receiver.verify(body, lower(headers))
    with pytest.raises(Refused):
        receiver.verify(body + b" ", lower(headers))
    with pytest.raises(Refused):
        receiver.verify(body, {})


def test_shopify_dedupes_on_webhook_id_and_on_event_id(intake: Intake):
    body = shared_body("shopify", "customers.update.json")
    first = shopify_headers(body, "customers/update", "w1", event_id="e1")
    assert intake.receive("shopify", body, first).body == {"ok": True}
    same_event = shopify_headers(body, "customers/update", "w2", event_id="e1")
    assert intake.receive("shopify", body, same_event).body["duplicate"] is True
    same_webhook = shopify_headers(body, "customers/update", "w1")
    assert intake.receive("shopify", body, same_webhook).body["duplicate"] is True


def test_shopify_contract_cancel_changes_status_and_keeps_the_imported_price(
    intake: Intake, repos: Repos
):
    body = shared_body("shopify", "subscription_contracts.cancel.json")
    contract = json.loads(body)
    sub = subscriber(str(contract["customer_id"]))
    sub.subscriptions[0].id = str(contract["id"])
    repos.subscribers.put(sub)
    headers = shopify_headers(
        body, "subscription_contracts/cancel", "w1", triggered_at="2026-06-15T12:00:00Z"
    )
    assert deliver(intake, "shopify", body, headers)["status"] == 200
    stored = repos.subscribers.get(sub.id).subscriptions[0]
    assert (stored.status, stored.amount, stored.plan) == ("canceled", 30.0, "Monthly box")
    assert (stored.interval, stored.interval_count) == ("week", 4)
    assert [e.type for e in repos.events.for_subscriber(sub.id)] == ["canceled"]


def test_shopify_skip_names_only_the_contract_and_finds_its_customer(intake: Intake, repos: Repos):
    skip = json.loads(shared_body("shopify", "subscription_billing_cycles.skip.json"))
    body = shared_body("shopify", "subscription_billing_cycles.skip.json")
    headers = shopify_headers(body, "subscription_billing_cycles/skip", "w9")
    deliver(intake, "shopify", body, headers)
    assert intake.journal.get("shopify:w9").status == WAITING
    contract = {
        "id": skip["subscription_contract_id"],
        "customer_id": 77,
        "status": "active",
        "billing_policy": {"interval": "month", "interval_count": 1},
    }
    repos.subscribers.put(subscriber("77"))
    raw = json.dumps(contract).encode()
    deliver(intake, "shopify", raw, shopify_headers(raw, "subscription_contracts/update", "w10"))
    intake.retry_waiting()
    assert intake.journal.get("shopify:w9").status == APPLIED
    assert [e.type for e in repos.events.for_subscriber("77")] == ["skip"]


def test_shopify_customer_create_makes_a_subscriber_with_its_name():
    from bot.signals.shopify import parse_webhook as shopify_parse

    body = shared_json("shopify", "customers.create.json")
    (signal,) = shopify_parse("customers/create", body, None)
    assert (signal.email, signal.name, signal.customer_fields) == (
        "bob@biller.com",
        "Bob Biller",
        True,
    )
    assert signal.at.date() == date(2022, 1, 1)
