# ruff: noqa: F811  (the tests take the fixtures imported from test_triage)
"""The inbox in `/care` commands: `/care triage` lists the open items and the parked emails;
`/care inbox retry|drop ID` runs a parked email again or forgets it."""

from __future__ import annotations

from tests.bot.inbox.mail import make_email
from tests.handlers.conftest import message_text
from tests.handlers.test_inbox_faults import churn_refresh_breaks  # noqa: F401  (a fixture)
from tests.handlers.test_triage import (  # noqa: F401  (fixtures)
    clock_at_monday,
    inbox_bot,
    post_inbox,
)

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
