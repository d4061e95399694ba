"""Link an unknown sender from the triage message, end to end: webhook email, signed clicks,
options as typed, submission; then later mail from the address is the customer's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.blocks import ids
from bot.clock import FixedClock
from tests.bot.inbox.mail import make_email
from tests.fakeslack.server import FakeSlack
from tests.handlers.conftest import MONDAY_MORNING, CareBot, add_subscriber, start_bot
from tests.handlers.test_triage import SECRET, post_inbox
from tests.slackreq import block_suggestion_body

TRIAGE = "C0TRIAGE"


@pytest.fixture
def inbox_bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[CareBot]:
    bot = start_bot(
        fake_slack,
        tmp_path / "data",
        FixedClock(MONDAY_MORNING),
        CARE_TRIAGE_CHANNEL=TRIAGE,
        INBOX_WEBHOOK_SECRET=SECRET,
    )
    add_subscriber(bot.repos, "cus_ann", "Ann Lee", "ann@example.com", date(2025, 3, 1))
    add_subscriber(bot.repos, "cus_annie", "Annie Hall", "annie@example.com", date(2025, 3, 1))
    yield bot
    bot.runtime.stop()


def link_button(message: dict) -> dict | None:
    for block in message["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == ids.ACTION_TRIAGE_LINK:
            return accessory
    return None


def test_an_unknown_sender_is_linked_from_the_triage_message_and_later_mail_matches(inbox_bot):
    bot, fake = inbox_bot, inbox_bot.fake
    post_inbox(bot, make_email(sender="A. Lee <ann.lee@work.example>", subject="My box"))
    [message] = fake.messages(TRIAGE)
    assert "Not a known subscriber" in json.dumps(message["blocks"])
    button = link_button(message)
    assert button is not None

    status, _, _ = bot.sender.action(
        ids.ACTION_TRIAGE_LINK, button["value"], message=message, channel_id=TRIAGE, user_id="U1"
    )
    assert status == 200
    [modal] = fake.wait_for(lambda: fake.modals("U1"))
    assert "ann.lee@work.example" in json.dumps(modal["blocks"])

    status, _, answer = bot.sender.post(
        block_suggestion_body(ids.ACTION_LINK_SEARCH, ids.BLOCK_LINK_SUBSCRIBER, "ann", modal)
    )
    options = json.loads(answer)["options"]
    assert status == 200
    assert {o["value"]: o["text"]["text"] for o in options} == {
        "cus_ann": "Ann Lee · ann@example.com",
        "cus_annie": "Annie Hall · annie@example.com",
    }

    ann = next(o for o in options if o["value"] == "cus_ann")
    chosen = {"type": "external_select", "selected_option": ann}
    values = {ids.BLOCK_LINK_SUBSCRIBER: {ids.ACTION_LINK_SEARCH: chosen}}
    status, _, body = bot.sender.submit(ids.VIEW_TRIAGE_LINK, values, view=modal, user_id="U1")
    assert (status, body) == (200, "")

    redrawn = fake.wait_for(
        lambda: (
            (m := fake.message(TRIAGE, message["ts"]))
            and "Ann Lee" in json.dumps(m["blocks"])
            and m
        )
    )
    assert link_button(redrawn) is None and "Not a known subscriber" not in json.dumps(redrawn)
    assert bot.repos.links.subscriber_id("ann.lee@work.example") == "cus_ann"
    [entry] = [e for e in bot.repos.audit.history("cus_ann") if e.action == "triage_link"]
    assert entry.by == "U1"

    bot.clock.advance(days=20)  # a new conversation, weeks later, from the same address
    status, later = post_inbox(
        bot,
        make_email(
            sender="ann.lee@work.example", subject="Another question", message_id="<later@x>"
        ),
    )
    assert status == 200 and later["status"] == "posted"
    assert bot.repos.inbox.item(later["item"]).subscriber_id == "cus_ann"


def test_a_submission_without_a_choice_is_an_error_and_links_nothing(inbox_bot):
    bot, fake = inbox_bot, inbox_bot.fake
    post_inbox(bot, make_email(sender="who@nowhere.example"))
    [message] = fake.messages(TRIAGE)
    bot.sender.action(
        ids.ACTION_TRIAGE_LINK, link_button(message)["value"], message=message, channel_id=TRIAGE
    )
    [modal] = fake.wait_for(lambda: fake.modals("U1"))

    status, _, body = bot.sender.submit(ids.VIEW_TRIAGE_LINK, {}, view=modal)

    assert json.loads(body)["response_action"] == "errors"
    assert bot.repos.links.subscriber_id("who@nowhere.example") is None
