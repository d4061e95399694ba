"""Link an unknown sender from the triage message, end to end: webhook email, signed clicks,
options as typed, submission; then later mail from the address is the customer's."""

from __future__ import annotations

import errno
import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.blocks import ids
from bot.clock import FixedClock
from handlers import in_time
from tests.bot.inbox.mail import make_email
from tests.fakeslack.server import FakeSlack
from tests.handlers.conftest import MONDAY_MORNING, CareBot, add_subscriber, start_bot
from tests.handlers.test_in_time import WITHIN, stalled_disk
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


def open_link_modal(bot: CareBot) -> tuple[dict, dict]:
    """An unknown sender's email in triage, and U1's Link modal on it with Ann chosen."""
    post_inbox(bot, make_email(sender="ann.lee@work.example", subject="My box"))
    [message] = bot.fake.messages(TRIAGE)
    bot.sender.action(
        ids.ACTION_TRIAGE_LINK, link_button(message)["value"], message=message, channel_id=TRIAGE
    )
    [modal] = bot.fake.wait_for(lambda: bot.fake.modals("U1"))
    ann = {"text": {"type": "plain_text", "text": "Ann Lee · ann@example.com"}, "value": "cus_ann"}
    chosen = {"type": "external_select", "selected_option": ann}
    return modal, {ids.BLOCK_LINK_SUBSCRIBER: {ids.ACTION_LINK_SEARCH: chosen}}


def submit_in_thread(bot: CareBot, modal: dict, values: dict) -> list[tuple[int, str, float]]:
    """Submit from a thread; the list gets (status, body, seconds taken) when Slack has it."""
    answers: list[tuple[int, str, float]] = []

    def send() -> None:
        start = time.monotonic()
        status, _, body = bot.sender.submit(ids.VIEW_TRIAGE_LINK, values, view=modal)
        answers.append((status, body, time.monotonic() - start))

    threading.Thread(target=send, daemon=True).start()
    return answers


def notes(bot: CareBot) -> list[str]:
    return [e["text"] for e in bot.fake.ephemerals("U1") if e["channel"] == TRIAGE]


def test_a_link_whose_write_stalls_closes_the_modal_in_time_and_is_made_once(
    inbox_bot, monkeypatch
):
    bot = inbox_bot
    modal, values = open_link_modal(bot)
    monkeypatch.setattr(in_time, "ANSWER_WITHIN", WITHIN)
    with stalled_disk(monkeypatch) as release:
        first = submit_in_thread(bot, modal, values)
        bot.fake.wait_for(lambda: first, timeout=5)
        again = submit_in_thread(bot, modal, values)  # Slack sends it again
        bot.fake.wait_for(lambda: again, timeout=5)
        assert [a[:2] for a in first + again] == [(200, "")] * 2  # the modal closes
        assert max(a[2] for a in first + again) < 3.0
        assert notes(bot) == []
        release.set()
        [note] = bot.fake.wait_for(lambda: notes(bot))

    assert "Linked ann.lee@work.example to Ann Lee" in note
    assert bot.repos.links.subscriber_id("ann.lee@work.example") == "cus_ann"
    time.sleep(WITHIN + 0.3)  # past the retry's deadline: it says nothing more
    assert len(notes(bot)) == 1
    assert len([e for e in bot.repos.audit.history("cus_ann") if e.action == "triage_link"]) == 1


def test_a_link_that_fails_after_the_modal_closed_says_it_was_not_saved(inbox_bot, monkeypatch):
    bot = inbox_bot
    modal, values = open_link_modal(bot)
    monkeypatch.setattr(in_time, "ANSWER_WITHIN", WITHIN)
    with stalled_disk(monkeypatch, OSError(errno.EIO, "Input/output error")) as release:
        answers = submit_in_thread(bot, modal, values)
        [(status, body, took)] = bot.fake.wait_for(lambda: answers, timeout=5)
        assert (status, body) == (200, "") and took < 3.0
        release.set()
        [note] = bot.fake.wait_for(lambda: notes(bot))

    assert "*Ann Lee · ann@example.com* was *not saved*" in note and "click *Link*" in note
    assert bot.repos.links.subscriber_id("ann.lee@work.example") is None
