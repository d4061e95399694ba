"""Stripe end to end with localstripe: real SDK calls create customers and subscriptions, and
localstripe delivers the events it makes, signed as Stripe signs, to the running bot."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from datetime import UTC, date, datetime

import stripe
from rich.console import Console

from bot.blocks.plain import to_text
from bot.clock import FixedClock
from bot.signals.cli import run_sync
from tests.handlers.conftest import CareBot
from tests.hooks import STRIPE_SECRET
from tests.localstripe import LocalStripe

ALERTS = "C0ALERTS"


def now() -> FixedClock:
    """The bot's clock for localstripe, which dates its events by the real clock: an event
    dated past the bot's clock by more than its skew would be held (`bot.signals.intake`)."""
    return FixedClock(datetime.now(UTC))


def _card(client: stripe.StripeClient, customer: str, number: str) -> None:
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(method.id, params={"customer": customer})
    client.v1.customers.update(
        customer, params={"invoice_settings": {"default_payment_method": method.id}}
    )


def test_localstripe_events_reach_the_bot_and_alert(
    bots: Callable[..., CareBot], localstripe: LocalStripe
):
    bot = bots(clock=now(), STRIPE_WEBHOOK_SECRET=STRIPE_SECRET, CARE_ALERTS_CHANNEL=ALERTS)
    bot.fake.add_channel(ALERTS, "care-alerts")
    localstripe.deliver_to(f"{bot.url}/hooks/stripe", STRIPE_SECRET)
    client = localstripe.client()

    customer = client.v1.customers.create(
        params={"email": "Grace@Example.com", "name": "Grace Hopper"}
    )
    _card(client, customer.id, "4242424242424242")
    product = client.v1.products.create(params={"name": "Coffee box"})
    plan = client.v1.plans.create(
        params={"product": product.id, "amount": 2500, "currency": "usd", "interval": "month"}
    )
    subscription = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"plan": plan.id}]}
    )

    def subscribed():  # noqa: ANN202
        sub = bot.repos.subscribers.get(customer.id)
        return sub if sub and sub.subscriptions else None

    sub = bot.fake.wait_for(subscribed, timeout=20)
    assert (sub.email, sub.name) == ("grace@example.com", "Grace Hopper")
    assert [(s.id, s.status, s.amount) for s in sub.subscriptions] == [
        (subscription.id, "active", 25.0)
    ]

    # localstripe sends no invoice.payment_failed when a declined card pays an invoice (its
    # Invoice.pay passes a no-op failure callback): failed payments are tested with Stripe-made
    # events in test_hooks_stripe.py.
    client.v1.subscriptions.cancel(subscription.id)
    parent = bot.fake.wait_for(lambda: bot.fake.messages(ALERTS), timeout=20)[0]
    assert "Subscription cancelled" in to_text(parent) and "Grace Hopper" in to_text(parent)
    assert "Coffee box" in to_text(parent)
    assert bot.repos.subscribers.get(customer.id).status == "canceled"
    assert [e.type for e in bot.repos.events.for_subscriber(customer.id)] == ["canceled"]
    statuses = {d.status for d in bot.repos.journal.with_status(["pending", "failed", "waiting"])}
    assert statuses == set()


def test_sync_while_the_bot_runs_goes_through_its_receiver_quietly(
    bots: Callable[..., CareBot], localstripe: LocalStripe
):
    from tests.bot.signals.test_sync import _stripe_data

    customer_id, sub_id = _stripe_data(localstripe)
    bot = bots(
        clock=now(),
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        STRIPE_API_KEY="sk_test_local",
        STRIPE_API_BASE=localstripe.url,
        CARE_ALERTS_CHANNEL=ALERTS,
    )
    bot.fake.add_channel(ALERTS, "care-alerts")
    settings, url = bot.runtime.settings, f"{bot.url}/hooks/stripe"
    out = io.StringIO()
    since = date(2020, 1, 1)
    assert run_sync(settings, "stripe", since, Console(file=out, width=200), url) == 0
    assert "The bot is running" in out.getvalue()
    assert "1 customers, 1 subscriptions" in out.getvalue()
    bot.services.signals.intake._queue.join()
    sub = bot.fake.wait_for(lambda: bot.repos.subscribers.get(customer_id), timeout=20)
    assert (sub.email, [(s.id, s.status, s.amount) for s in sub.subscriptions]) == (
        "lin@example.com",
        [(sub_id, "active", 18.0)],
    )
    assert bot.fake.messages(ALERTS) == []  # state, and events already known, alert nobody
    again = io.StringIO()
    assert run_sync(settings, "stripe", since, Console(file=again, width=200), url) == 0
    assert "(0 new)" in again.getvalue()  # listed events are the receiver's, applied once

    no_secret = dataclasses.replace(settings, hooks=dataclasses.replace(settings.hooks, stripe=""))
    refused = io.StringIO()
    assert run_sync(no_secret, "stripe", since, Console(file=refused, width=200), url) == 2
    assert "STRIPE_WEBHOOK_SECRET" in refused.getvalue() and "stop the bot" in refused.getvalue()
