"""One customer, one conversation, across days: reached customers wait, and everyone sees who
reached them (digest entry, /care lookup)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from tests.handlers.conftest import (
    DIGEST,
    add_subscriber,
    entry_message,
    message_text,
    tasks_of,
    wait_posted,
)

WEDNESDAY = date(2026, 6, 17)
NEXT_TUESDAY = date(2026, 6, 23)


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 13, 30, tzinfo=UTC)  # 09:30 in New York


def digest_on(bot, day: date):  # noqa: ANN001, ANN201
    bot.clock.set(morning(day))
    status, _, text = bot.sender.command("digest now", user_id="U1", channel_id="C1")
    assert status == 200, text
    return wait_posted(bot, day)


def ask(bot, text: str, user: str = "U1") -> str:  # noqa: ANN001
    status, _, body = bot.sender.command(text, user_id=user)
    assert status == 200, body
    return message_text(json.loads(body))


def test_a_customer_reached_by_email_waits_out_the_quiet_days_and_then_shows_who_reached_them(
    care_bot,
):
    started = WEDNESDAY - timedelta(days=30)  # both day-30 check-ins are due on Wednesday
    add_subscriber(care_bot.repos, "cus_ann", "Ann Lee", "ann@example.com", started)
    add_subscriber(care_bot.repos, "cus_bob", "Bob Roe", "bob@example.com", started)
    assert "Logged" in ask(
        care_bot, "log ann@example.com email reached Asked about the beans", "U2"
    )

    wednesday = digest_on(care_bot, WEDNESDAY)

    parent = care_bot.fake.message(DIGEST, wednesday.parent_ts)
    assert "Deferred: *1* customer reached in the last few days" in message_text(parent)
    assert "*1 proactive touch due today*" in message_text(parent)
    assert all(not t.slack.get("ts") for t in tasks_of(care_bot.repos, "cus_ann"))  # not posted
    [bob] = tasks_of(care_bot.repos, "cus_bob")
    assert "Reached by" not in message_text(entry_message(care_bot, bob.id))
    card = ask(care_bot, "lookup ann@example.com")
    assert "Reached by <@U2> by email 2 days ago" in card

    digest_on(care_bot, NEXT_TUESDAY)  # 8 days after the email: the quiet days are over

    [ann] = tasks_of(care_bot.repos, "cus_ann")
    assert ann.kind == "checkin_30" and ann.slack.get("ts")
    text = message_text(entry_message(care_bot, ann.id))
    assert ":speech_balloon: Reached by <@U2> by email 8 days ago" in text
