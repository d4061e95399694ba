"""Freshness per source on the running bot: /healthz, /care stats, one warning per quiet spell."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

from bot.blocks.plain import to_text
from tests.handlers.conftest import TODAY, CareBot, add_subscriber
from tests.handlers.test_hooks_stripe import ALERTS, SECRETS, T0, applied, failed, send


def health(bot: CareBot) -> dict:
    """The live-signal sources in /healthz (answered 200 or 503: the bot's clock is fixed)."""
    try:
        with urllib.request.urlopen(f"{bot.url}/healthz", timeout=5) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
    return {"signals": body["checks"]["signals"]["sources"]}


def test_sources_show_their_state_and_a_quiet_source_warns_once_per_spell(
    bots: Callable[..., CareBot],
):
    bot = bots(**SECRETS)
    bot.fake.add_channel(ALERTS, "care-alerts")
    add_subscriber(bot.repos, "cus_ada", "Ada Lovelace", "ada@example.com", TODAY)
    assert health(bot)["signals"]["stripe"]["last_received"] is None

    send(bot, failed("evt_1", T0))
    applied(bot, "evt_1")
    stripe = health(bot)["signals"]["stripe"]
    assert (stripe["applied"], stripe["waiting"], stripe["quiet"]) == (1, 0, False)
    status, _, text = bot.sender.command("stats", user_id="U1", channel_id="C1")
    assert status == 200 and "Live signals" in text and "1 applied" in text

    alerts_before = len(bot.fake.messages(ALERTS))
    bot.clock.advance(hours=25)
    bot.services.signals.check()
    bot.services.signals.check()  # a second look in the same spell posts nothing
    warnings = [m for m in bot.fake.messages(ALERTS)[alerts_before:] if "gone quiet" in to_text(m)]
    assert len(warnings) == 1 and "Stripe has gone quiet" in to_text(warnings[0])
    assert health(bot)["signals"]["stripe"]["quiet"] is True

    send(bot, failed("evt_2", T0 + 90000))  # the source speaks again: a new spell later
    applied(bot, "evt_2")
    bot.clock.advance(hours=25)
    bot.services.signals.check()
    assert len([m for m in bot.fake.messages(ALERTS) if "gone quiet" in to_text(m)]) == 2
