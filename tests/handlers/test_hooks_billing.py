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
    assert (
        "Subscription cancelled* in Recharge" in text and "some reason / comments go here" in text
    )


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


def _attempt(name: str, contract: int, **fields: object) -> bytes:
    data = json.loads(shared_body("shopify", name))
    data.update(subscription_contract_id=contract, **fields)
    return json.dumps(data).encode()


def test_shopify_billing_failures_say_hard_or_soft_and_a_later_success_recovers(bot: CareBot):
    contract = json.loads(shared_body("shopify", "subscription_contracts.activate.json"))
    add_subscriber(bot.repos, str(contract["customer_id"]), "Bob Biller", "bob@biller.com", TODAY)
    body = shared_body("shopify", "subscription_contracts.activate.json")
    headers = shopify_headers(body, "subscription_contracts/activate", "w-a")
    assert post(bot, body, headers, "shopify")[0] == 200  # the contract names its customer
    cid = contract["id"]

    def attempt(name: str, webhook_id: str, **fields: object) -> None:
        topic = "subscription_billing_attempts/" + name.split(".")[1]
        body = _attempt(name, cid, **fields)
        assert post(bot, body, shopify_headers(body, topic, webhook_id), "shopify")[0] == 200

    # Shopify's example has error_code null; these are documented SubscriptionBillingAttempt
    # ErrorCode values, in the lower case the webhook's error_code uses.
    attempt("subscription_billing_attempts.failure.json", "w-f1", error_code="insufficient_funds")
    text = alert_text(bot).replace("`", "")
    assert "soft decline: insufficient_funds" in text
    assert "Shopify does not say whether your subscription app retries" in text
    attempt(
        "subscription_billing_attempts.failure.json", "w-f2", error_code="expired_payment_method"
    )
    parent = bot.fake.messages(ALERTS)[0]
    bot.fake.wait_for(lambda: len(bot.fake.thread(ALERTS, parent["ts"])) >= 2, timeout=10)
    reply = unmark(to_text(bot.fake.thread(ALERTS, parent["ts"])[-1])).replace("`", "")
    assert "hard decline: expired_payment_method" in reply and "reach out now" in reply

    attempt("subscription_billing_attempts.success.json", "w-s1")
    bot.fake.wait_for(
        lambda: "Payment recovered" in to_text(bot.fake.thread(ALERTS, parent["ts"])[-1]),
        timeout=10,
    )
    bot.fake.wait_for(lambda: "Closed" in to_text(bot.fake.message(ALERTS, parent["ts"])))
    attempt("subscription_billing_attempts.success.json", "w-s2")  # next month's renewal
    bot.services.signals.intake._queue.join()
    types = [e.type for e in bot.repos.events.for_subscriber(str(contract["customer_id"]))]
    assert types.count("payment_recovered") == 1 and types.count("order") == 2
