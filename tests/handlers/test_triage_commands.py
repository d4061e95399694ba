# ruff: noqa: F811  (the tests take the fixtures imported from test_triage)
"""The inbox in `/care` commands: `/care triage` lists the open items and the parked emails;
`/care inbox retry|drop ID` runs a parked email again or forgets it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.bot.inbox.mail import make_email
from tests.handlers.conftest import CareBot, message_text, start_bot
from tests.handlers.test_inbox_faults import churn_refresh_breaks  # noqa: F401  (a fixture)
from tests.handlers.test_triage import (  # noqa: F401  (fixtures)
    SECRET,
    clock_at_monday,
    inbox_bot,
    post_inbox,
)
from tests.stored import edit_stored

TRIAGE = "C0TRIAGE"


def triage_texts(bot) -> list[str]:  # noqa: ANN001
    return [message_text(m) for m in bot.fake.messages(TRIAGE)]


def test_triage_command_lists_open_items(inbox_bot):
    post_inbox(inbox_bot, make_email(subject="Refund please", body="I was charged twice"))
    status, _, text = inbox_bot.sender.command("triage", user_id="U1")
    assert status == 200 and "Refund please" in text


def test_a_permanently_failing_webhook_email_is_parked_then_retried_or_dropped(
    inbox_bot, churn_refresh_breaks
):
    bot_ = inbox_bot
    cancel = make_email(subject="Please cancel", body="Cancel my subscription please.")
    answers = [post_inbox(bot_, cancel) for _ in range(4)]

    assert [a[0] for a in answers] == [500, 500, 202, 202]
    letter_id = answers[2][1]["dead_letter"]
    assert answers[3][1]["dead_letter"] == letter_id  # parked: not run again by itself
    assert post_inbox(bot_, make_email(subject="Later mail"))[1]["status"] == "posted"
    listing = bot_.sender.command("triage", user_id="U1")[2]
    assert letter_id in listing and "RuntimeError" in listing and "Please cancel" in listing
    assert "parked emails" in bot_.sender.command("stats", user_id="U1")[2]

    churn_refresh_breaks.undo()
    status, _, text = bot_.sender.command(f"inbox retry {letter_id}", user_id="U1")
    assert status == 200 and "Retrying" in text
    bot_.fake.wait_for(lambda: len(bot_.fake.messages(TRIAGE)) == 2)
    assert "Please cancel" in triage_texts(bot_)[1]
    assert bot_.fake.wait_for(lambda: bot_.repos.inbox.dead.count() == 0)


def test_inbox_drop_forgets_a_parked_email_and_refuses_unknown_ids(inbox_bot, churn_refresh_breaks):
    bot_ = inbox_bot
    cancel = make_email(subject="Please cancel", body="Cancel my subscription please.")
    letter_id = [post_inbox(bot_, cancel) for _ in range(3)][-1][1]["dead_letter"]

    assert "No parked email" in bot_.sender.command("inbox drop zzzzz", user_id="U1")[2]
    assert "Usage" in bot_.sender.command("inbox retry", user_id="U1")[2]
    assert "Dropped" in bot_.sender.command(f"inbox drop {letter_id}", user_id="U1")[2]
    assert bot_.repos.inbox.dead.count() == 0
    assert letter_id not in bot_.sender.command("triage", user_id="U1")[2]
    assert "/care inbox retry" in bot_.sender.command("help", user_id="U1")[2]


def test_items_of_equal_priority_are_listed_oldest_first_with_when_they_came(inbox_bot):
    subjects = [f"Question {n}" for n in range(6)]
    for n, subject in enumerate(subjects):  # strangers: no subscriber, no risk, equal rank
        post_inbox(inbox_bot, make_email(subject=subject, sender=f"s{n}@example.org"))
        inbox_bot.clock.advance(minutes=7)

    text = inbox_bot.sender.command("triage", user_id="U1")[2]

    places = [text.index(subject) for subject in subjects]
    assert places == sorted(places)
    assert text.count("<!date^") >= len(subjects)


def test_an_item_whose_stored_date_is_unreadable_is_still_listed(inbox_bot):
    post_inbox(inbox_bot, make_email(subject="Odd date"))
    [item] = inbox_bot.repos.inbox.active_items()
    inbox_bot.repos.inbox.mutate_item(
        item.id, lambda i: i.snapshot.update(received_at="the day before yesterday")
    )

    status, _, text = inbox_bot.sender.command("triage", user_id="U1")

    assert status == 200 and "Odd date" in text


def _triage_after_damage(bot: CareBot, folder: str, record_id: str, **damage: Any) -> str:
    """Stop `bot`, damage one stored document (`tests.stored.edit_stored`), start it again on
    its data directory and answer `/care triage`; the answer's body, once it is 200."""
    bot.stop()
    edit_stored(bot.data_dir, folder, record_id, **damage)
    env = {"CARE_TRIAGE_CHANNEL": TRIAGE, "INBOX_WEBHOOK_SECRET": SECRET}
    again = start_bot(bot.fake, bot.data_dir, bot.clock, **env)
    try:
        status, _, text = again.sender.command("triage", user_id="U1")
    finally:
        again.stop()
    assert status == 200, text
    return text


def _unshown_logged(caplog: pytest.LogCaptureFixture, record_id: str) -> bool:
    """An error with its traceback (`logger.exception`) names the record left out."""
    return any(
        r.levelno == logging.ERROR and r.exc_info and record_id in r.getMessage()
        for r in caplog.records
    )


def _snapshot(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc["snapshot"].update(values)


# Documents that read as a TriageItem (types as the model says) and still could not be shown.
DAMAGED_ITEMS: dict[str, dict[str, Any]] = {
    "attachments that are not (name, size) pairs": {"edit": _snapshot(attachments="x.pdf")},
    "notes that are not a list": {"edit": _snapshot(notes=5)},
    "a sent time no timezone can show": {
        "edit": _snapshot(received_at="0001-01-01T00:00:00+00:00")
    },
}


@pytest.mark.parametrize("damage", DAMAGED_ITEMS)
def test_an_item_the_list_cannot_show_is_named_and_the_others_are_listed(inbox_bot, caplog, damage):
    post_inbox(inbox_bot, make_email(subject="Good one", sender="good@example.org"))
    post_inbox(inbox_bot, make_email(subject="Bad one", sender="bad@example.org"))
    bad = next(i.id for i in inbox_bot.repos.inbox.active_items() if i.subject == "Bad one")

    text = _triage_after_damage(inbox_bot, "inbox_items", bad, **DAMAGED_ITEMS[damage])

    assert "Good one" in text and "*1 open inbox item*" in text
    assert f"1 item could not be shown (id `{bad}`): see the bot's log" in text
    assert _unshown_logged(caplog, bad)


def test_a_parked_email_the_list_cannot_show_is_named_and_the_rest_is_listed(
    inbox_bot, churn_refresh_breaks, caplog
):
    cancel = make_email(subject="Please cancel", body="Cancel my subscription please.")
    letter_id = [post_inbox(inbox_bot, cancel) for _ in range(3)][-1][1]["dead_letter"]
    churn_refresh_breaks.undo()
    post_inbox(inbox_bot, make_email(subject="Good one", sender="good@example.org"))

    text = _triage_after_damage(
        inbox_bot, "inbox_dead", letter_id, parked_at="0001-01-01T00:00:00Z"
    )

    assert "Good one" in text
    assert f"1 parked email could not be shown (id `{letter_id}`): see the bot's log" in text
    assert _unshown_logged(caplog, letter_id)
