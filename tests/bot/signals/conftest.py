from __future__ import annotations

import pytest

from bot.clock import FixedClock
from bot.repos import Repos
from bot.repos.journal import JournalRepo
from bot.signals.apply import SignalApplier
from bot.signals.intake import Intake
from bot.signals.stripe import StripeReceiver
from tests.hooks import STRIPE_SECRET


def make_intake(repos: Repos, clock: FixedClock) -> Intake:
    journal = JournalRepo(repos.store)
    return Intake(
        {"stripe": StripeReceiver(STRIPE_SECRET)},
        journal,
        SignalApplier(repos, journal, clock),
        clock,
    )


@pytest.fixture
def intake(repos: Repos, clock: FixedClock) -> Intake:
    return make_intake(repos, clock)
