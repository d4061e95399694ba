"""Triage messages for inbox emails: trimming, full text, context, states, list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks import ids
from bot.blocks.limits import check_message, walk_strings
from bot.blocks.plain import unmark
from bot.blocks.triage import (
    Attachment,
    TriageView,
    build_full_email_messages,
    build_triage_list,
    build_triage_message,
    build_triage_reminder,
    build_triage_reply,
)
from bot.inbox.models import DeadLetter
from tests.bot.blocks.factories import ALICE, NOW, TZ, risk, subscriber, task


def view(**overrides: Any) -> TriageView:
    values: dict[str, Any] = {
        "item_id": "m9r2t",
        "sender_email": "ann@example.com",
        "sender_name": "Ann Lee",
        "subject": "Please cancel",
        "text": "Hi, please cancel my subscription.",
        "received_at": NOW - timedelta(minutes=5),
        "intent": "cancel",
    }
    values.update(overrides)
    return TriageView(**values)


def buttons(msg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        e["action_id"]: e for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]
    }


def text_of(msg: dict[str, Any]) -> str:
    return "\n".join(t for _, t in walk_strings(msg["blocks"]))


def test_a_10_kb_body_is_trimmed_with_the_full_text_one_click_away() -> None:
    body = ("All work and no play makes Jack a dull boy. " * 240)[:10_240]
    msg = build_triage_message(view(text=body), NOW, TZ)
    check_message(msg)
    longest = max(len(t) for _, t in walk_strings(msg["blocks"]))
    assert longest < 2000
    assert "Trimmed: 10,240 characters in full" in text_of(msg)
    show = buttons(msg)[ids.ACTION_TRIAGE_SHOW_FULL]
    assert show["value"] == "m9r2t"


def test_a_short_body_is_shown_whole_without_show_full() -> None:
    msg = build_triage_message(view(), NOW, TZ)
    assert "Hi, please cancel my subscription." in text_of(msg)
    assert ids.ACTION_TRIAGE_SHOW_FULL not in buttons(msg)


def test_the_full_text_is_split_into_thread_replies_that_lose_nothing() -> None:
    body = "\n".join(f"Line {i}: <b>bold</b> & more text here" for i in range(4000))
    messages = build_full_email_messages(view(text=body))
    assert len(messages) > 1
    sections = []
    for msg in messages:
        check_message(msg)
        sections += [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert unmark("\n".join(sections)) == body


def test_an_enormous_body_stops_after_twenty_replies_and_says_so() -> None:
    messages = build_full_email_messages(view(text="word " * 2_000_000))
    assert len(messages) == 20
    assert "more characters not posted" in text_of(messages[-1])
    for msg in messages:
        check_message(msg)


def test_open_item_offers_claim_resolve_snooze() -> None:
    msg = build_triage_message(view(), NOW, TZ)
    assert list(buttons(msg)) == [
        ids.ACTION_TRIAGE_CLAIM,
        ids.ACTION_TRIAGE_REPLY,
        ids.ACTION_TRIAGE_RESOLVE,
        ids.ACTION_TRIAGE_SNOOZE,
    ]
    snooze = buttons(msg)[ids.ACTION_TRIAGE_SNOOZE]
    assert [ids.decode_choice(o["value"]) for o in snooze["options"]][0] == (60, ["m9r2t"])


def test_claimed_item_shows_the_claimant_and_offers_resolve_release() -> None:
    msg = build_triage_message(view(status="claimed", claimed_by=ALICE, claimed_at=NOW), NOW, TZ)
    assert list(buttons(msg)) == [
        ids.ACTION_TRIAGE_RESOLVE,
        ids.ACTION_TRIAGE_REPLY,
        ids.ACTION_TRIAGE_RELEASE,
    ]
    assert f"Claimed by <@{ALICE}> at <!date^" in text_of(msg)


def test_resolved_item_can_only_be_reopened() -> None:
    msg = build_triage_message(view(status="resolved", resolved_by=ALICE, resolved_at=NOW), NOW, TZ)
    assert list(buttons(msg)) == [ids.ACTION_TRIAGE_REOPEN, ids.ACTION_TRIAGE_REPLY]
    assert f"Resolved by <@{ALICE}>" in text_of(msg)


def test_an_email_without_a_sender_address_offers_no_reply() -> None:
    msg = build_triage_message(view(sender_email=""), NOW, TZ)
    assert ids.ACTION_TRIAGE_REPLY not in buttons(msg)


def test_known_subscriber_context_with_risk_open_task_and_churn_link() -> None:
    churn = task("k7qx2", claimed_by=ALICE, status="claimed")
    msg = build_triage_message(
        view(
            subscriber=subscriber(),
            stage="active, month 15",
            risk=risk("Asked to cancel"),
            churn_task=churn,
            churn_task_link="https://x.slack.com/archives/C1/p1",
            attachments=[Attachment("photo.jpg", 2_400_000)],
            notes=["A part had an unknown charset; decoded as Latin-1"],
        ),
        NOW,
        TZ,
    )
    check_message(msg)
    text = text_of(msg)
    assert "Gold" in text and "1 yr 3 mo" in text and "active, month 15" in text
    assert "75 (high): Asked to cancel" in text
    assert f"Churn-risk task `k7qx2` Churn risk, claimed by <@{ALICE}>" in text
    assert "<https://x.slack.com/archives/C1/p1|open in the digest>" in text
    assert "photo.jpg (2.3 MB)" in text
    assert "unknown charset" in text
    assert ":rotating_light: *Cancel request*" in text


def test_unknown_sender_is_said_to_be_unknown() -> None:
    assert "Not a known subscriber" in text_of(build_triage_message(view(), NOW, TZ))


def test_reminder_has_a_claim_button() -> None:
    msg = build_triage_reminder(view(), 130)
    check_message(msg)
    assert "Still unclaimed after 2 h 10 min" in msg["blocks"][0]["text"]["text"]
    assert buttons(msg)[ids.ACTION_TRIAGE_CLAIM]["value"] == "m9r2t"


def test_reply_in_a_resolved_conversation_says_it_reopened() -> None:
    messages = build_triage_reply(view(reopened=True), "Still waiting!", NOW, TZ)
    text = text_of(messages[0])
    assert "New reply from *Ann Lee*" in text and "open again" in text
    assert "Still waiting!" in text


def test_triage_list_shows_open_items_in_the_order_given_and_fits() -> None:
    items = [
        view(item_id=f"i{i}", subject=f"Subject {i}", received_at=NOW - timedelta(minutes=i))
        for i in range(300)
    ]
    items[0].claimed_by = ALICE  # the first given, listed first (the handler ranks them)
    msg = build_triage_list(items, NOW, TZ)
    check_message(msg)
    text = text_of(msg)
    assert text.index("Subject 0") < text.index("Subject 1")
    assert f"claimed by <@{ALICE}>" in text
    assert "and 30 more" in text
    assert "No open inbox items" in build_triage_list([], NOW, TZ)["text"]


def test_parked_emails_are_listed_escaped_with_the_commands_even_under_a_long_list() -> None:
    letters = [
        DeadLetter(
            id=f"d{i:04d}",
            key=f"k{i}",
            parked_at=NOW,
            attempts=3,
            error="RuntimeError: <!channel> broke",
            subject=f"<@U999> cancel {i}",
            sender="ann@example.com",
        )
        for i in range(40)
    ]
    items = [view(item_id=f"i{i}", subject=f"Subject {i}") for i in range(300)]

    msg = build_triage_list(items, NOW, TZ, parked=letters)

    check_message(msg)
    text = text_of(msg)
    assert "40 emails could not be handled" in text and "/care inbox retry ID" in text
    assert "`d0000`" in text and "and 10 more" in text
    assert "<!channel>" not in text and "<@U999>" not in text
    only_parked = text_of(build_triage_list([], NOW, TZ, parked=letters[:1]))
    assert "No open inbox items" in only_parked and "1 email could not be handled" in only_parked


def test_a_reached_customer_shows_who_reached_them_and_an_unknown_sender_can_be_linked() -> None:
    from msgspec.structs import replace

    from tests.bot.blocks.factories import TODAY
    from tests.bot.builders import outreach_on

    def accessories(msg: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            b["accessory"]["action_id"]: b["accessory"] for b in msg["blocks"] if "accessory" in b
        }

    contact = replace(
        outreach_on("cus_1", ["x"], TODAY - timedelta(days=1)), by="U0DANA", channel="call"
    )
    known = build_triage_message(view(subscriber=subscriber(), contact=contact), NOW, TZ)
    unknown = build_triage_message(view(), NOW, TZ)

    assert "Reached by <@U0DANA> by phone yesterday" in text_of(known)
    assert ids.ACTION_TRIAGE_LINK not in accessories(known)
    assert accessories(unknown)[ids.ACTION_TRIAGE_LINK]["value"] == "m9r2t"
    check_message(unknown)
