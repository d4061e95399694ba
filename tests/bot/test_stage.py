"""Where a customer is in their lifecycle, in words (lookup cards, triage messages)."""

from __future__ import annotations

from datetime import date

from bot.models import Subscriber, Subscription
from bot.stage import lifecycle_stage

TODAY = date(2026, 6, 15)


def test_a_customer_whose_last_paid_subscription_ended_shows_that_day_not_a_failed_retry():
    sub = Subscriber(
        id="cus_1",
        first_started=date(2025, 1, 1),
        subscriptions=[
            Subscription(id="a", status="canceled", ended_at=date(2026, 3, 2)),
            Subscription(id="b", status="incomplete_expired", ended_at=date(2026, 5, 1)),
        ],
    )
    assert lifecycle_stage(sub, TODAY) == "Ended Mar 02, 2026"


def test_a_customer_who_never_paid_is_not_shown_as_ended_nor_onboarding():
    checkout = Subscription(id="a", status="incomplete_expired", ended_at=date(2026, 6, 1))
    trial = Subscription(
        id="b", status="canceled", ended_at=date(2026, 6, 8), trial_end=date(2026, 6, 10)
    )
    for subscriptions in ([checkout], [trial], [checkout, trial]):
        sub = Subscriber(id="cus_1", first_started=date(2026, 5, 27), subscriptions=subscriptions)
        assert lifecycle_stage(sub, TODAY) == "Never paid"
