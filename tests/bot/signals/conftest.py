from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.repos import Repos
from bot.repos.journal import JournalRepo
from bot.signals.apply import SignalApplier
from bot.signals.chargebee import ChargebeeReceiver
from bot.signals.intake import Intake
from bot.signals.model import Receiver
from bot.signals.recharge import RechargeReceiver
from bot.signals.shopify import ShopifyReceiver
from bot.signals.stripe import StripeReceiver
from tests.hooks import (
    CHARGEBEE_PASSWORD,
    CHARGEBEE_USER,
    RECHARGE_SECRET,
    SHOPIFY_SECRET,
    STRIPE_SECRET,
)


def make_intake(
    repos: Repos, clock: FixedClock, receivers: Mapping[str, Receiver] | None = None
) -> Intake:
    journal = JournalRepo(repos.store) if receivers is None else repos.journal
    return Intake(
        receivers or {"stripe": StripeReceiver(STRIPE_SECRET)},
        journal,
        SignalApplier(repos, journal, clock),
        clock,
    )


def billing_receivers() -> dict[str, Receiver]:
    """The four billing vendors' receivers, with the tests' secrets."""
    return {
        "stripe": StripeReceiver(STRIPE_SECRET),
        "chargebee": ChargebeeReceiver(CHARGEBEE_USER, CHARGEBEE_PASSWORD),
        "recharge": RechargeReceiver(RECHARGE_SECRET),
        "shopify": ShopifyReceiver(SHOPIFY_SECRET),
    }


def deliver(intake: Intake, source: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """Receive a delivery and apply what it journalled, as the worker would; the answer."""
    answer = intake.receive(source, body, headers)
    for delivery in intake.journal.with_status(["pending"]):
        intake.apply_now(delivery.id)
    return {"status": answer.status, **answer.body}


@pytest.fixture
def intake(repos: Repos, clock: FixedClock) -> Intake:
    return make_intake(repos, clock)
