"""The triage channel message: trimming, context, states and their buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks import ids
from bot.blocks.limits import check_message, walk_strings
from bot.blocks.triage import Attachment
from bot.blocks.triage_message import build_triage_message
from tests.bot.blocks.factories import (
    ALICE,
    NOW,
    TZ,
    buttons,
    risk,
    subscriber,
    task,
    text_of,
    triage_view,
)


def test_a_10_kb_body_is_trimmed_with_the_full_text_one_click_away() -> None:
    body = ("All work and no play makes Jack a dull boy. " * 240)[:10_240]
    msg = build_triage_message(triage_view(text=body), NOW, TZ)
    check_message(msg)
    longest = max(len(t) for _, t in walk_strings(msg["blocks"]))
    assert longest < 2000
    assert "Trimmed: 10,240 characters in full" in text_of(msg)
    show = buttons(msg)[ids.ACTION_TRIAGE_SHOW_FULL]
    assert show["value"] == "m9r2t"


def test_a_short_body_is_shown_whole_without_show_full() -> None:
    msg = build_triage_message(triage_view(), NOW, TZ)
    assert "Hi, please cancel my subscription." in text_of(msg)
    assert ids.ACTION_TRIAGE_SHOW_FULL not in buttons(msg)


def test_open_item_offers_claim_resolve_snooze() -> None:
    msg = build_triage_message(triage_view(), NOW, TZ)
    assert list(buttons(msg)) == [
        ids.ACTION_TRIAGE_CLAIM,
        ids.ACTION_TRIAGE_REPLY,
        ids.ACTION_TRIAGE_RESOLVE,
        ids.ACTION_TRIAGE_SNOOZE,
    ]
    snooze = buttons(msg)[ids.ACTION_TRIAGE_SNOOZE]
    assert [ids.decode_choice(o["value"]) for o in snooze["options"]][0] == (60, ["m9r2t"])


def test_claimed_item_shows_the_claimant_and_offers_resolve_release() -> None:
    msg = build_triage_message(
        triage_view(status="claimed", claimed_by=ALICE, claimed_at=NOW), NOW, TZ
    )
    assert list(buttons(msg)) == [
        ids.ACTION_TRIAGE_RESOLVE,
        ids.ACTION_TRIAGE_REPLY,
        ids.ACTION_TRIAGE_RELEASE,
    ]
    assert f"Claimed by <@{ALICE}> at <!date^" in text_of(msg)


def test_resolved_item_can_only_be_reopened() -> None:
    msg = build_triage_message(
        triage_view(status="resolved", resolved_by=ALICE, resolved_at=NOW), NOW, TZ
    )
    assert list(buttons(msg)) == [ids.ACTION_TRIAGE_REOPEN, ids.ACTION_TRIAGE_REPLY]
    assert f"Resolved by <@{ALICE}>" in text_of(msg)


def test_an_email_without_a_sender_address_offers_no_reply() -> None:
    msg = build_triage_message(triage_view(sender_email=""), NOW, TZ)
    assert ids.ACTION_TRIAGE_REPLY not in buttons(msg)


def test_known_subscriber_context_with_risk_open_task_and_churn_link() -> None:
    churn = task("k7qx2", claimed_by=ALICE, status="claimed")
    msg = build_triage_message(
        triage_view(
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
    assert "Not a known subscriber" in text_of(build_triage_message(triage_view(), NOW, TZ))


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
    known = build_triage_message(triage_view(subscriber=subscriber(), contact=contact), NOW, TZ)
    unknown = build_triage_message(triage_view(), NOW, TZ)

    assert "Reached by <@U0DANA> by phone yesterday" in text_of(known)
    assert ids.ACTION_TRIAGE_LINK not in accessories(known)
    assert accessories(unknown)[ids.ACTION_TRIAGE_LINK]["value"] == "m9r2t"
    check_message(unknown)
