"""A billing event dated ahead of the bot's clock, posted to the running bot's endpoints.

Real payloads from ../shared/webhooks with their dates rewritten, signed as each vendor signs:
answered 200 and held with a journal note, nothing posted to Slack, shown in `/healthz`; applied
once its day comes (after a restart, or by the signals' 15-minute check), and never ahead of a
real update that came after it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.blocks.plain import to_text, unmark
from bot.clock import FixedClock
from bot.repos.journal import APPLIED
from bot.signals.intake import HELD
from tests.bot.signals.test_future_dated import VENDORS, known, status_of
from tests.handlers.conftest import MONDAY_MORNING, TODAY, CareBot, add_subscriber
from tests.handlers.test_hooks_billing import ENV
from tests.handlers.test_hooks_stripe import ALERTS, post
from tests.hooks import STRIPE_SECRET, chargebee_headers, shared_json, stripe_event, stripe_request

ENV_ALL = {**ENV, "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET}


def settled(bot: CareBot, key: str) -> str:
    """The delivery's status once the bot's worker has taken it."""
    bot.fake.wait_for(lambda: (d := bot.repos.journal.get(key)) and d.status != "pending")
    bot.services.signals.intake._queue.join()
    return bot.repos.journal.get(key).status


def healthz(bot: CareBot) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{bot.url}/healthz", timeout=10) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:  # 503 names what else is wrong; the body is the same
        return json.loads(exc.read())


def signals_health(bot: CareBot) -> dict[str, Any]:
    return healthz(bot)["checks"]["signals"]["sources"]


@pytest.fixture
def bot(bots: Callable[..., CareBot]) -> CareBot:
    started = bots(**ENV_ALL)
    started.fake.add_channel(ALERTS, "care-alerts")
    return started


def test_a_cancellation_dated_tomorrow_is_held_quietly_and_alerts_after_a_restart_tomorrow(
    bots: Callable[..., CareBot], bot: CareBot
):
    event = shared_json("chargebee", "subscription_cancelled.json")
    event["occurred_at"] = int((MONDAY_MORNING + timedelta(days=1)).timestamp())
    sid = event["content"]["customer"]["id"]
    add_subscriber(bot.repos, sid, "Test Company", "ops@example.com", TODAY - timedelta(days=90))
    sub = event["content"]["subscription"]
    sub["id"] = f"sub_{sid}"
    body = json.dumps(event).encode()

    assert post(bot, body, chargebee_headers(), "chargebee") == (200, {"ok": True})
    key = f"chargebee:{event['id']}"
    assert settled(bot, key) == HELD
    note = bot.repos.journal.get(key).note
    assert note.startswith("held: dated in the future, 2026-06-16 13:30 UTC, 1 day ahead")
    assert "set it right (NTP)" in note
    assert bot.fake.messages(ALERTS) == []  # nothing pings anyone
    assert bot.repos.subscribers.get(sid).status == "active"
    assert signals_health(bot)["chargebee"]["held"] == 1

    bot.stop()  # the next morning, the bot starts again: its time has come
    again = bots(clock=FixedClock(MONDAY_MORNING + timedelta(days=1)), data_dir=bot.data_dir, **ENV)
    again.fake.add_channel(ALERTS, "care-alerts")
    parent = again.fake.wait_for(lambda: again.fake.messages(ALERTS), timeout=20)[0]
    assert "Subscription cancelled" in unmark(to_text(parent))
    assert again.repos.journal.get(key).status == APPLIED
    assert again.repos.subscribers.get(sid).status == "canceled"
    assert signals_health(again)["chargebee"]["held"] == 0


def test_a_real_update_after_a_far_future_one_wins_now_and_once_its_date_comes(bot: CareBot):
    add_subscriber(bot.repos, "cus_ada", "Ada Lovelace", "ada@example.com", TODAY)
    t0 = int(MONDAY_MORNING.timestamp())

    def update(event_id: str, created: int, status: str) -> int:
        event = stripe_event(
            "customer.subscription.updated",
            event_id,
            created,
            id="sub_cus_ada",
            customer="cus_ada",
            status=status,
        )
        event["data"]["previous_attributes"] = {"status": "active"}
        return post(bot, *stripe_request(event))[0]

    far = t0 + 400 * 86400  # a test clock's simulated year, or a hand-built payload
    assert update("evt_far", far, "canceled") == 200
    assert settled(bot, "stripe:evt_far") == HELD
    bot.clock.advance(minutes=10)
    assert update("evt_real", t0 + 600, "past_due") == 200
    assert settled(bot, "stripe:evt_real") == APPLIED
    assert bot.repos.subscribers.get("cus_ada").status == "past_due"

    bot.clock.advance(days=400)  # the far date comes; the 15-minute check releases it
    bot.services.signals.check()
    held = bot.repos.journal.get("stripe:evt_far")
    assert held.status != HELD and "ordered as of then" in held.note
    assert bot.repos.subscribers.get("cus_ada").status == "past_due"


@pytest.mark.parametrize("source", sorted(VENDORS))
def test_each_billing_endpoint_holds_a_state_dated_next_month_and_takes_the_real_one(
    bot: CareBot, source: str
):
    sid = known(bot.repos, source)  # trialing, as an import left them
    make = VENDORS[source]
    body, headers = make(MONDAY_MORNING + timedelta(days=30), "paused", 1)
    assert post(bot, body, headers, source) == (200, {"ok": True})
    bot.fake.wait_for(lambda: bot.repos.journal.with_status([HELD]))
    assert status_of(bot.repos, sid) == "trialing"
    bot.clock.advance(minutes=5)
    body, headers = make(bot.clock.now(), "active", 2)
    assert post(bot, body, headers, source) == (200, {"ok": True})
    bot.fake.wait_for(lambda: status_of(bot.repos, sid) == "active")
    assert len(bot.repos.journal.with_status([HELD])) == 1
    assert bot.fake.messages(ALERTS) == []
