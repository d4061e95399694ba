"""Stripe's receiver: the SDK's verification on raw bytes, and what each Stripe event means."""

from __future__ import annotations

import json
import time

import pytest

from bot.signals.model import Refused
from bot.signals.stripe import StripeReceiver, parse_event
from tests.hooks import (
    STRIPE_SECRET,
    recorded_stripe,
    stripe_event,
    stripe_made,
    stripe_request,
    stripe_signature,
)

RECORDED = (
    "customer.subscription.created.incomplete",
    "customer.subscription.deleted",
    "invoice.payment_succeeded",
)


def _headers(raw: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in raw.items()}


@pytest.mark.parametrize("name", RECORDED)
def test_localstripe_deliveries_verify_byte_for_byte(name: str):
    body, headers = recorded_stripe(name)
    receiver = StripeReceiver(STRIPE_SECRET, tolerance=None)  # their timestamps are old
    receiver.verify(body, _headers(headers))
    envelope = receiver.identify(body, _headers(headers))
    assert envelope.key == f"stripe:{json.loads(body)['id']}"
    assert envelope.type == json.loads(body)["type"]


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_delivery_is_stale_under_the_default_tolerance(name: str):
    body, headers = recorded_stripe(name)
    with pytest.raises(Refused) as refused:
        StripeReceiver(STRIPE_SECRET).verify(body, _headers(headers))
    assert refused.value.status == 401
    assert "tolerance" in str(refused.value).lower() or "timestamp" in str(refused.value).lower()


def test_one_changed_byte_or_another_secret_is_refused():
    body, headers = recorded_stripe("customer.subscription.deleted")
    receiver = StripeReceiver(STRIPE_SECRET, tolerance=None)
    with pytest.raises(Refused):
        receiver.verify(body.replace(b"canceled", b"cancelled", 1), _headers(headers))
    with pytest.raises(Refused):
        StripeReceiver("whsec_other", tolerance=None).verify(body, _headers(headers))
    with pytest.raises(Refused):
        receiver.verify(body, {})


def test_a_fresh_signature_passes_the_default_tolerance_and_a_future_one_too():
    body, headers = stripe_request(stripe_made("invoice.payment_failed"))
    StripeReceiver(STRIPE_SECRET).verify(body, _headers(headers))
    old = stripe_signature(body, t=int(time.time()) - 301)
    with pytest.raises(Refused):
        StripeReceiver(STRIPE_SECRET).verify(body, {"stripe-signature": old})


def test_malformed_bodies_are_refused_with_400():
    receiver = StripeReceiver(STRIPE_SECRET)
    for body in (b"not json", b"[]", b'{"id": "evt_1"}', b'{"id":"evt_1","type":"x","data":{}}'):
        with pytest.raises(Refused) as refused:
            receiver.identify(body, {})
        assert refused.value.status == 400


def test_subscription_updated_that_schedules_a_cancellation_carries_its_details():
    # Stripe-made event; cancellation fields set as Stripe documents them (no Stripe-made
    # example of a scheduled cancellation exists).
    event = stripe_event(
        "customer.subscription.updated",
        "evt_sched",
        1781000000,
        cancel_at_period_end=True,
        cancellation_details={
            "reason": "cancellation_requested",
            "feedback": "too_expensive",
            "comment": "Boxes pile up",
        },
    )
    event["data"]["previous_attributes"] = {"cancel_at_period_end": False}
    (signal,) = parse_event(event)
    assert signal.types == ["cancellation_scheduled"]
    assert signal.subscription is not None and signal.subscription.cancel_at_period_end
    assert "too_expensive" in signal.facts["reason"] and "Boxes pile up" in signal.facts["reason"]


def test_an_update_that_does_not_touch_cancellation_means_no_care_event():
    (signal,) = parse_event(stripe_made("customer.subscription.updated"))
    assert signal.types == [] and signal.subscription is not None


def test_payment_failed_carries_amount_attempt_next_retry_and_a_soft_decline():
    event = stripe_event(
        "invoice.payment_failed",
        "evt_pf",
        1781000000,
        attempt_count=2,
        next_payment_attempt=1781259200,
        charge={
            "id": "ch_1",
            "failure_code": "insufficient_funds",
            "outcome": {"reason": "insufficient_funds", "advice_code": "try_again_later"},
        },
    )
    (signal,) = parse_event(event)
    assert signal.types == ["payment_failed"]
    assert signal.facts["amount"] == 20.0 and signal.facts["attempt"] == 2
    assert signal.facts["next_retry"].startswith("2026-06-12")
    assert (signal.facts["decline_code"], signal.facts["hard"]) == ("insufficient_funds", False)


def test_final_failed_attempt_and_uncollectible_mean_retries_exhausted():
    final = stripe_event(
        "invoice.payment_failed", "evt_f", 1781000000, attempt_count=4, next_payment_attempt=None
    )
    assert parse_event(final)[0].types == ["payment_failed", "retries_exhausted"]
    first = stripe_event("invoice.payment_failed", "evt_1", 1781000000, attempt_count=1)
    assert parse_event(first)[0].types == ["payment_failed"]
    uncollectible = stripe_event("invoice.payment_succeeded", "evt_u", 1781000000)
    uncollectible["type"] = "invoice.marked_uncollectible"
    assert parse_event(uncollectible)[0].types == ["retries_exhausted"]


def test_payment_succeeded_is_a_recovery_only_after_a_failed_attempt():
    assert parse_event(stripe_event("invoice.payment_succeeded", "evt_a", 1, attempt_count=1)) == []
    (signal,) = parse_event(stripe_event("invoice.payment_succeeded", "evt_b", 1, attempt_count=3))
    assert signal.types == ["payment_recovered"] and signal.facts["amount"] == 20.0


def test_deleted_paused_resumed_trial_end():
    deleted = parse_event(stripe_made("customer.subscription.deleted"))[0]
    assert deleted.types == ["canceled"]
    assert deleted.subscription is not None and deleted.subscription.status == "canceled"
    for kind, expected in (
        ("paused", "pause"),
        ("resumed", "resume"),
        ("trial_will_end", "trial_ending"),
    ):
        event = stripe_made("customer.subscription.created")
        event["type"] = f"customer.subscription.{kind}"
        assert parse_event(event)[0].types == [expected]


def test_a_trial_deleted_before_it_ended_never_paid_and_a_converted_one_did():
    # Stripe's own deletion event, its subscription given a trial (Unix seconds, as sent).
    event = stripe_made("customer.subscription.deleted")
    obj = event["data"]["object"]
    ended = obj["ended_at"]
    obj["trial_start"], obj["trial_end"] = ended - 5 * 86_400, ended + 9 * 86_400
    (signal,) = parse_event(event)
    assert signal.subscription is not None and signal.subscription.never_paid
    assert signal.subscription.trial_end is not None
    obj["trial_start"], obj["trial_end"] = ended - 90 * 86_400, ended - 76 * 86_400
    (signal,) = parse_event(event)
    assert signal.subscription is not None and not signal.subscription.never_paid
