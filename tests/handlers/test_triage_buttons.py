# ruff: noqa: F811  (the tests take the fixtures imported from test_triage)
"""The triage message's buttons, clicked as Slack sends them: the message is redrawn in
place, and a refusal is told privately to whoever clicked."""

from __future__ import annotations

import json

from tests.bot.inbox.mail import make_email
from tests.handlers.test_triage import (  # noqa: F401  (fixtures)
    clock_at_monday,
    inbox_bot,
    post_inbox,
)


def test_claiming_a_triage_item_updates_it_in_place_and_refuses_the_second(inbox_bot):
    post_inbox(inbox_bot, make_email())
    fake = inbox_bot.fake
    [message] = fake.messages("C0TRIAGE")
    status, _, _ = inbox_bot.sender.action(
        "care_triage_claim", message=message, channel_id="C0TRIAGE", user_id="U1"
    )
    assert status == 200
    assert fake.wait_for(lambda: fake.edits("C0TRIAGE", message["ts"]), timeout=5)
    assert "<@U1>" in json.dumps(fake.message("C0TRIAGE", message["ts"])["blocks"])
    inbox_bot.sender.action(
        "care_triage_claim", message=message, channel_id="C0TRIAGE", user_id="U2"
    )
    assert fake.wait_for(lambda: fake.ephemerals("U2"), timeout=5)
    assert "<@U1>" in json.dumps(fake.ephemerals("U2")[-1])


def test_resolving_someone_elses_item_is_refused_naming_them(inbox_bot):
    post_inbox(inbox_bot, make_email())
    fake = inbox_bot.fake
    [message] = fake.messages("C0TRIAGE")
    inbox_bot.sender.action(
        "care_triage_claim", message=message, channel_id="C0TRIAGE", user_id="U1"
    )
    assert fake.wait_for(lambda: fake.edits("C0TRIAGE", message["ts"]), timeout=5)
    inbox_bot.sender.action(
        "care_triage_resolve", message=message, channel_id="C0TRIAGE", user_id="U2"
    )
    assert fake.wait_for(lambda: fake.ephemerals("U2"), timeout=5)
    refusal = json.dumps(fake.ephemerals("U2")[-1])
    assert "<@U1> has this conversation" in refusal and "&lt;@" not in refusal
    assert inbox_bot.repos.inbox.active_items()[0].status == "claimed"
