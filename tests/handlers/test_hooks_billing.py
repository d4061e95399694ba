"""`/hooks/chargebee`, `/hooks/recharge`, `/hooks/shopify` on the running bot, with the vendors'
real payloads signed by their schemes, through to alerts in the fake Slack."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.blocks.plain import to_text, unmark
from tests.handlers.conftest import TODAY, CareBot, add_subscriber
from tests.handlers.test_hooks_stripe import ALERTS, post
from tests.hooks import (
    CHARGEBEE_PASSWORD,
    CHARGEBEE_USER,
    RECHARGE_SECRET,
    SHOPIFY_SECRET,
    chargebee_headers,
    recharge_headers,
    shared_body,
    shopify_headers,
)

ENV = {
    "CARE_ALERTS_CHANNEL": ALERTS,
    "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
    "CHARGEBEE_WEBHOOK_USER": CHARGEBEE_USER,
    "CHARGEBEE_WEBHOOK_PASSWORD": CHARGEBEE_PASSWORD,
    "RECHARGE_WEBHOOK_SECRET": RECHARGE_SECRET,
}


@pytest.fixture
def bot(bots: Callable[..., CareBot]) -> CareBot:
    started = bots(**ENV)
    started.fake.add_channel(ALERTS, "care-alerts")
    return started


def alert_text(bot: CareBot) -> str:
    parent = bot.fake.wait_for(lambda: bot.fake.messages(ALERTS), timeout=10)[0]
    return unmark(to_text(parent))


def test_chargebee_payment_failed_alerts_with_dunning_retry(bot: CareBot):
    body = shared_body("chargebee", "payment_failed.json")
    assert post(bot, body, chargebee_headers(password="nope"), "chargebee")[0] == 401
    assert post(bot, body, chargebee_headers(), "chargebee")[0] == 200
    text = alert_text(bot)
    assert "Payment failed" in text and "$2.24" in text and "Insufficient funds" in text
    assert "Chargebee retries" in text and "Joe Ross" in text


def test_recharge_cancellation_alerts_with_reason(bot: CareBot):
    add_subscriber(
        bot.repos, "333333", "Niels Bohr", "niels@example.com", TODAY - timedelta(days=90)
    )
    body = shared_body("recharge", "subscription.cancelled.json")
    assert post(bot, body, recharge_headers(body, "subscription/cancelled"), "recharge")[0] == 200
    text = alert_text(bot)
    assert "Subscription cancelled* in Recharge" in text and "some reason / comments go here" in text


def test_shopify_contract_cancel_alerts_for_the_known_customer(bot: CareBot):
    body = shared_body("shopify", "subscription_contracts.cancel.json")
    contract = json.loads(body)
    add_subscriber(
        bot.repos,
        str(contract["customer_id"]),
        "Bob Biller",
        "bob@biller.com",
        TODAY - timedelta(days=40),
    )
    headers = shopify_headers(body, "subscription_contracts/cancel", "w-1", "e-1")
    assert post(bot, body, {**headers, "X-Shopify-Hmac-Sha256": "AAAA"}, "shopify")[0] == 401
    assert post(bot, body, headers, "shopify")[0] == 200
    assert (
        post(
            bot,
            body,
            shopify_headers(body, "subscription_contracts/cancel", "w-2", "e-1"),
            "shopify",
        )[1]["duplicate"]
        is True
    )
    text = alert_text(bot)
    assert "Subscription cancelled* in Shopify" in text and "Bob Biller" in text
