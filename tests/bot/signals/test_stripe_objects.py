"""What a Stripe subscription object says, in the current and the 2017 API shapes."""

from __future__ import annotations

import json
from datetime import date

from bot.signals.stripe_objects import subscription_of
from tests.hooks import recorded_stripe, stripe_made


def test_subscription_of_reads_the_current_and_the_2017_shapes():
    current = subscription_of(stripe_made("customer.subscription.updated")["data"]["object"])
    assert (current.amount, current.currency, current.interval) == (15.0, "USD", "month")
    body, _ = recorded_stripe("customer.subscription.deleted")
    old = subscription_of(json.loads(body)["data"]["object"])
    assert (old.plan, old.amount, old.status) == ("Coffee box", 25.0, "canceled")
    assert old.ended_at is not None


def test_paused_collection_counts_as_paused():
    sub = subscription_of(
        {
            "id": "sub_1",
            "status": "active",
            "pause_collection": {"behavior": "void", "resumes_at": None},
        }
    )
    assert sub.status == "paused"
    assert subscription_of({"id": "sub_1", "status": "active"}).started is None
    assert subscription_of({"id": "s", "start_date": 1781000000}).started == date(2026, 6, 9)
