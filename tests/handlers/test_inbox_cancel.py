"""Cancel requests on the triage card, end to end: signed emails in, signed clicks on Confirm and
Dismiss, the fake Slack's messages and the churn score out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.clock import FixedClock
from tests.bot.inbox.mail import make_email, reply_to
from tests.fakeslack.server import FakeSlack
from tests.handlers.conftest import MONDAY_MORNING, CareBot, add_subscriber, start_bot
from tests.handlers.test_triage import SECRET, post_inbox

TRIAGE = "C0TRIAGE"


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[CareBot]:
    care = start_bot(
        fake_slack,
        tmp_path / "data",
        FixedClock(MONDAY_MORNING),
        CARE_TRIAGE_CHANNEL=TRIAGE,
        INBOX_WEBHOOK_SECRET=SECRET,
    )
    add_subscriber(care.repos, "cus_ann", "Ann Lee", "ann@example.com", date(2025, 3, 1))
    yield care
    care.runtime.stop()


def requests(bot: CareBot) -> list[str]:
    return [e.id for e in bot.repos.events.for_subscriber("cus_ann") if e.type == "cancel_request"]


def churn_tasks(bot: CareBot) -> list[str]:
    tasks = bot.repos.tasks.for_subscriber("cus_ann")
    return [t.id for t in tasks if t.kind == "churn_risk" and t.active]


def card(bot: CareBot) -> tuple[dict, str]:
    [message] = bot.fake.messages(TRIAGE)
    return message, json.dumps(message["blocks"])


def click(bot: CareBot, action: str, user: str = "U1") -> str:
    """Click `action` on the card as `user`; wait for the card's redraw and return its blocks."""
    message, _ = card(bot)
    edits = len(bot.fake.edits(TRIAGE, message["ts"]))
    status, _, _ = bot.sender.action(action, message=message, channel_id=TRIAGE, user_id=user)
    assert status == 200
    assert bot.fake.wait_for(lambda: len(bot.fake.edits(TRIAGE, message["ts"])) > edits, 5)
    return card(bot)[1]


def test_a_weak_cancel_request_waits_for_a_person_then_confirm_counts_it_and_dismiss_undoes_it(
    bot,
):
    status, answer = post_inbox(bot, make_email(subject="Question", body="How do I cancel?"))

    assert status == 200
    _, blocks = card(bot)
    assert "Cancel request?" in blocks and "How do I cancel?" in blocks
    assert "care_triage_cancel_confirm" in blocks and "care_triage_cancel_dismiss" in blocks
    assert requests(bot) == [] and churn_tasks(bot) == []  # nothing in the score yet

    blocks = click(bot, "care_triage_cancel_confirm")

    assert "confirmed by <@U1>" in blocks and "care_triage_cancel_confirm" not in blocks
    assert len(requests(bot)) == 1 and len(churn_tasks(bot)) == 1
    item = bot.repos.inbox.require_item(answer["item"])
    assert (item.cancel, item.cancel_by, item.churn_task_id) == (
        "confirmed",
        "U1",
        churn_tasks(bot)[0],
    )
    history = bot.repos.audit.for_subscriber("cus_ann")
    assert [e.action for e in history] == ["triage_cancel_confirm"]

    blocks = click(bot, "care_triage_cancel_dismiss", user="U2")

    assert "Dismissed as a cancel request by <@U2>" in blocks and "Count it after all" in blocks
    assert requests(bot) == []
    item = bot.repos.inbox.require_item(answer["item"])
    assert (item.cancel, item.intent) == ("dismissed", "other")
    assert "cancel_request" not in [r.rule for r in bot.services.triage.view(item).risk.reasons]


def test_a_plain_cancel_request_counts_at_once_and_not_a_cancel_request_takes_it_back(bot):
    post_inbox(bot, make_email(subject="Please cancel my subscription", body="Thanks, Ann"))

    _, blocks = card(bot)
    assert "counts as a churn signal" in blocks and "95% sure" in blocks
    assert "Please cancel my subscription" in blocks
    assert len(requests(bot)) == 1 and len(churn_tasks(bot)) == 1

    blocks = click(bot, "care_triage_cancel_dismiss")

    assert "Dismissed as a cancel request by <@U1>" in blocks
    assert requests(bot) == []
    [task] = [t for t in bot.repos.tasks.for_subscriber("cus_ann") if t.kind == "churn_risk"]
    assert "cancel" not in json.dumps(task.risk_reasons).lower()  # re-scored without it


def test_negated_and_hedged_cancels_do_not_count_and_say_why(bot):
    email = make_email(
        subject="December",
        body="Please skip December. I do not want to cancel, I was going to cancel but not now.",
    )
    post_inbox(bot, email)

    _, blocks = card(bot)
    assert "Pause / skip" in blocks and "Please skip December." in blocks
    assert "Not counted: Cancel request (negated)" in blocks and "I do not want to cancel" in blocks
    assert "care_triage_cancel_confirm" not in blocks
    assert requests(bot) == [] and churn_tasks(bot) == []


def test_a_reply_that_asks_to_cancel_redraws_the_card_with_the_buttons(bot):
    first = make_email(subject="My box", body="Can I skip the next box?")
    post_inbox(bot, first)
    message, blocks = card(bot)
    assert "care_triage_cancel_confirm" not in blocks

    post_inbox(bot, reply_to(first, "Actually, how do I cancel it?", sender="ann@example.com"))

    assert bot.fake.wait_for(lambda: bot.fake.edits(TRIAGE, message["ts"]), 5)
    _, blocks = card(bot)
    assert "care_triage_cancel_confirm" in blocks and "how do I cancel it?" in blocks
    assert "Pause / skip" in blocks  # the first email's intent stays
    assert requests(bot) == []


def test_a_non_manager_cannot_confirm(bot):
    bot.fake.add_user("UOUTSIDER")
    post_inbox(bot, make_email(subject="Question", body="How do I cancel?"))
    message, _ = card(bot)

    bot.sender.action(
        "care_triage_cancel_confirm", message=message, channel_id=TRIAGE, user_id="UOUTSIDER"
    )

    assert bot.fake.wait_for(lambda: bot.fake.ephemerals("UOUTSIDER"), 5)
    assert requests(bot) == []


def test_trigger_words_on_the_card_ping_nobody(bot):
    post_inbox(bot, make_email(subject="<!channel> cancel now <@U123>", body="x"))

    _, blocks = card(bot)
    assert "cancel now" in blocks
    assert "<!channel>" not in blocks and "<@U123>" not in blocks
