"""The risk bound planning reads cheaply: never below the score the rules give."""

from __future__ import annotations

import random

import pytest

from bot.risk_bound import UpperBound
from tests.bot.builders import TODAY, days_ago, event, member, risk_of


@pytest.fixture
def rules(settings):
    return settings.risk


def test_upper_bound_is_never_below_the_score(rules):
    """Planning skips subscribers whose bound is below the high band: it must never underestimate."""
    rnd = random.Random(11)
    types = ["payment_failed", "payment_recovered", "skip", "pause", "resume", "nps",
             "support_contact", "cancel_request", "downgrade", "order", "csat"]  # fmt: skip
    bound = UpperBound(TODAY, rules)
    for n in range(2000):
        sub = member(
            f"cus_{n}",
            status=rnd.choice(["active", "past_due", "unpaid", "paused", "canceled", "trialing"]),
            cancel_at_period_end=rnd.random() < 0.2,
            last_order=days_ago(rnd.randint(0, 120)) if rnd.random() < 0.3 else None,
        )
        events = [
            event(sub.id, rnd.choice(types), days_ago(rnd.randint(-2, 120)), rnd.randint(0, 10), k)
            for k in range(rnd.randint(0, 6))
        ]
        risk = risk_of(sub, events, rules)
        assert bound.points(sub.to_doc(), [e.to_doc() for e in events]) >= risk.score, (sub, events)
