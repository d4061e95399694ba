"""Helpdesk webhooks on the running bot: a low rating alerts at once, a ticket feeds the score
quietly. Bodies are the documented trigger template (no vendor-made delivery exists)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.blocks.plain import to_text
from tests.handlers.conftest import TODAY, CareBot, add_subscriber
from tests.handlers.test_hooks_stripe import ALERTS, post
from tests.hooks import ZENDESK_SECRET, helpdesk_body, zendesk_headers


def test_low_csat_alerts_and_a_ticket_only_feeds_the_score(bots: Callable[..., CareBot]):
    bot = bots(ZENDESK_WEBHOOK_SECRET=ZENDESK_SECRET, CARE_ALERTS_CHANNEL=ALERTS)
    bot.fake.add_channel(ALERTS, "care-alerts")
    add_subscriber(bot.repos, "cus_ann", "Ann Lee", "ann@example.com", TODAY - timedelta(days=200))
    ticket = helpdesk_body(
        "ticket_created", "42", "ann@example.com", updated_at="2026-06-15T12:00:00Z"
    )
    assert post(bot, ticket, zendesk_headers(ticket), "zendesk")[0] == 200
    bot.fake.wait_for(lambda: bot.repos.events.for_subscriber("cus_ann"))
    rating = helpdesk_body(
        "satisfaction_rated",
        "42",
        "ann@example.com",
        rating="bad",
        comment="<!here> still waiting",
        updated_at="2026-06-15T13:00:00Z",
    )
    assert post(bot, rating, zendesk_headers(rating), "zendesk")[0] == 200
    (parent,) = bot.fake.wait_for(lambda: bot.fake.messages(ALERTS), timeout=10)
    text = to_text(parent)
    assert "Low satisfaction rating" in text and "0/100" in text and "Ann Lee" in text
    assert "<!here>" not in str(parent["blocks"])
    assert sorted(e.type for e in bot.repos.events.for_subscriber("cus_ann")) == [
        "csat",
        "support_contact",
    ]
