"""The digest parent, entries in their three states, and batching into thread replies."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks import ids
from bot.blocks.digest import (
    DigestProgress,
    build_digest_batches,
    build_digest_parent,
    build_entry_message,
)
from bot.blocks.entry import build_entry_blocks
from bot.blocks.limits import check_message
from bot.models import Task
from tests.bot.blocks.factories import (
    ALICE,
    ANY_VALUE,
    NOW,
    TODAY,
    TZ,
    claimed,
    done,
    entry,
    risk,
    subscriber,
    task,
    text_of,
)


def actions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def labels(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"]["text"] if e["type"] == "button" else e["type"] for e in actions(blocks)]


def all_text(blocks: list[dict[str, Any]]) -> str:
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [e.get("text", "") for e in b.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(out)


def test_parent_counts_each_kind_and_groups_the_check_ins() -> None:
    counts = {"churn_risk": 3, "checkin_30": 2, "checkin_90": 1, "win_back": 1, "overdue": 2}
    msg = build_digest_parent(TODAY, counts, DigestProgress(claimed=2, done=1, open=6))
    text = all_text(msg["blocks"])
    assert "*7 proactive touches due today*" in text  # overdue ones are counted under kinds
    assert "Churn risk: *3*" in text
    assert "Check-ins: *3*" in text
    assert "Of these, overdue: *2*" in text
    assert "*2* claimed" in text and "*1* done" in text and "*6* still open" in text
    assert "Monday Jun 15" in msg["blocks"][0]["text"]["text"]
    check_message(msg)


def test_parent_progress_changes_but_its_block_ids_stay_for_chat_update() -> None:
    counts = {"churn_risk": 2}
    morning = build_digest_parent(TODAY, counts, {"claimed": 0, "done": 0, "open": 2})
    noon = build_digest_parent(TODAY, counts, {"claimed": 1, "done": 1, "open": 0})
    assert [b.get("block_id") for b in morning["blocks"]] == [
        b.get("block_id") for b in noon["blocks"]
    ]
    assert "*0* still open" in all_text(noon["blocks"])
    assert morning != noon


def test_parent_with_nothing_due_says_so() -> None:
    msg = build_digest_parent(TODAY, {}, DigestProgress())
    assert "Nothing due today" in all_text(msg["blocks"])
    check_message(msg)


def test_unclaimed_entry_offers_claim_log_and_snooze_for_all_its_tasks() -> None:
    e = entry(task("k7qx2"), task("a3b4c", "checkin_90"))
    blocks = build_entry_blocks(e, TODAY, TZ, NOW)
    assert labels(blocks) == ["Claim", "Log outreach", "Email", "static_select"]
    claim, log, email, snooze = actions(blocks)
    assert email["action_id"] == ids.ACTION_EMAIL and email["value"] == claim["value"]
    assert claim["action_id"] == ids.ACTION_CLAIM and claim["style"] == "primary"
    assert ids.decode_ids(claim["value"]) == ["k7qx2", "a3b4c"]
    assert log["action_id"] == ids.ACTION_LOG
    assert snooze["action_id"] == ids.ACTION_SNOOZE
    assert [ids.decode_choice(o["value"]) for o in snooze["options"]] == [
        (d, ["k7qx2", "a3b4c"]) for d in (1, 3, 7)
    ]


def test_entry_shows_who_why_and_risk() -> None:
    sub = subscriber(owner="Maya")
    e = entry(task(due=TODAY - timedelta(days=3), reason="Asked to cancel"), sub=sub)
    text = all_text(build_entry_blocks(e, TODAY, TZ, NOW))
    for expected in (
        "*Ann Lee*",
        "ann@example.com",
        "Gold",
        "customer for 1 yr 3 mo",
        "$49/mo",
        "owner Maya",
        "*Churn risk* :red_circle: 75 (high): Asked to cancel",
        "due Fri Jun 12 (3 days ago)",
        "`k7qx2`",
        "75 (high)",
        "2 failed payments in 30 days",
    ):
        assert expected in text


def test_claimed_entry_names_the_claimant_and_offers_log_and_release() -> None:
    blocks = build_entry_blocks(claimed(entry()), TODAY, TZ, NOW)
    assert labels(blocks) == ["Log outreach", "Email", "Release"]
    assert f"Claimed by <@{ALICE}> at <!date^" in all_text(blocks)
    release = actions(blocks)[2]
    assert release["action_id"] == ids.ACTION_RELEASE and release["value"] == "k7qx2"


def test_done_entry_shows_the_outcome_and_no_buttons() -> None:
    blocks = build_entry_blocks(done(entry(), outcome="saved"), TODAY, TZ, NOW)
    assert actions(blocks) == []
    text = all_text(blocks)
    assert "*Saved: staying*" in text and f"<@{ALICE}>" in text
    assert "ago" not in text


def test_partly_claimed_entry_offers_claim_for_the_rest_and_release_for_the_claimed() -> None:
    mine = replace(task("k7qx2"), status="claimed", claimed_by=ALICE, claimed_at=NOW)
    blocks = build_entry_blocks(entry(mine, task("a3b4c", "checkin_30")), TODAY, TZ, NOW)
    by_action = {e["action_id"]: e for e in actions(blocks)}
    assert by_action[ids.ACTION_CLAIM]["value"] == "a3b4c"
    assert by_action[ids.ACTION_RELEASE]["value"] == "k7qx2"
    assert by_action[ids.ACTION_LOG]["value"] == "k7qx2,a3b4c"


def test_snoozed_entry_says_until_when() -> None:
    e = entry(task(snoozed_until=TODAY + timedelta(days=3)))
    assert "Snoozed until Thu Jun 18" in all_text(build_entry_blocks(e, TODAY, TZ, NOW))


def test_entry_without_risk_object_falls_back_to_the_tasks_risk() -> None:
    e = entry(task(risk_score=40, risk_band="medium", risk_reasons=["paused"]), risk=None)
    text = all_text(build_entry_blocks(e, TODAY, TZ, NOW))
    assert "40 (medium)" in text and "paused" in text


def test_long_reason_lists_end_with_and_n_more_within_limits() -> None:
    reasons = [f"reason {i}: " + "x" * 150 for i in range(200)]
    tasks = [task(f"t{i}", reason="y" * 500) for i in range(30)]
    e = entry(*tasks, risk=risk(*reasons))
    msg = build_entry_message(e, TODAY, TZ, NOW)
    check_message(msg)
    why, risk_text = msg["blocks"][1]["text"]["text"], msg["blocks"][2]["text"]["text"]
    assert "\n" not in why and re.search(r"  ·  and \d+ more$", why)  # one line
    shown = risk_text.count("• reason")
    assert 0 < shown < 200 and risk_text.endswith(f"and {200 - shown} more")


def _many_entries(n: int) -> list[Any]:
    kinds = ["churn_risk", "pre_renewal", "win_back", "onboarding", "checkin_30", "anniversary"]
    out = []
    for i in range(n):
        kind = kinds[i * len(kinds) // n]  # grouped by kind, as the planner orders them
        tasks = [task(f"t{i}a", kind, reason="Why " * 60), task(f"t{i}b", "checkin_90")]
        e = entry(*tasks, sub=subscriber(name=f"Customer {i}", id=f"cus_{i}"), kind=kind)
        out.append(replace(e, overdue=i % 10 == 0))
    return out


@pytest.mark.parametrize("per_message", [1, 5, 7, 12, 50])
def test_200_entries_batch_into_messages_all_within_limits(per_message: int) -> None:
    entries = _many_entries(200)
    messages = build_digest_batches(entries, TODAY, TZ, NOW, per_message)
    for msg in messages:
        check_message({"text": msg["text"], "blocks": msg["blocks"]})
        assert msg["text"]
    posted = [t for msg in messages for t in msg["task_ids"]]
    assert posted == [t.id for e in entries for t in e.tasks]
    assert all(len(m["task_ids"]) <= 2 * per_message for m in messages)
    if per_message == 1:
        assert len(messages) == 200


def test_the_first_message_of_each_kind_opens_with_its_header() -> None:
    messages = build_digest_batches(_many_entries(24), TODAY, TZ, NOW, 3)
    firsts = [m for m in messages if m["first_of_kind"]]
    assert [m["kind"] for m in firsts] == [
        "churn_risk",
        "pre_renewal",
        "win_back",
        "onboarding",
        "checkin_30",
        "anniversary",
    ]
    assert [m["blocks"][0]["text"]["text"] for m in firsts] == [
        "Churn risk",
        "Pre-renewal",
        "Win-back",
        "Onboarding",
        "30-day check-in",
        "Anniversaries",
    ]
    others = [m for m in messages if not m["first_of_kind"]]
    assert others and all(m["blocks"][0]["type"] == "section" for m in others)


def test_a_batch_rerenders_the_same_for_chat_update() -> None:
    entries = _many_entries(12)[:2]
    [posted] = build_digest_batches(entries, TODAY, TZ, NOW, 5)
    again = build_entry_message(entries, TODAY, TZ, NOW, header_kind="churn_risk")
    assert again == {"text": posted["text"], "blocks": posted["blocks"]}


def test_overdue_entry_is_marked_carried_over() -> None:
    e = replace(entry(task(due=TODAY - timedelta(days=9))), overdue=True)
    assert "overdue, carried over" in all_text(build_entry_blocks(e, TODAY, TZ, NOW))
    assert "overdue" not in all_text(build_entry_blocks(done(e), TODAY, TZ, NOW))


def test_entry_message_of_a_batch_rerenders_every_entry_it_holds() -> None:
    entries = [entry(task("k7qx2")), entry(task("a3b4c"))]
    msg = build_entry_message(entries, TODAY, TZ, NOW)
    block_ids = [b["block_id"] for b in msg["blocks"] if "block_id" in b]
    assert block_ids == [
        "care_entry:k7qx2",
        "care_entry_actions:k7qx2",
        "care_entry:a3b4c",
        "care_entry_actions:a3b4c",
    ]
    check_message(msg)


def test_crowded_messages_switch_to_the_compact_layout() -> None:
    entries = [entry(task(f"t{i}")) for i in range(12)]
    msg = build_entry_message(entries, TODAY, TZ, NOW, header_kind="churn_risk")
    check_message(msg)
    assert len([b for b in msg["blocks"] if b["type"] == "actions"]) == 12
    first = msg["blocks"][2]["text"]["text"]
    assert "*Ann Lee*" in first and "*Why now*" in first and "*Evidence*" in first


def test_too_many_entries_for_one_message_are_refused() -> None:
    entries = [entry(task(f"t{i}")) for i in range(13)]
    with pytest.raises(ValueError, match="separate messages"):
        build_entry_message(entries, TODAY, TZ, NOW)


def test_a_message_whose_tasks_are_gone_still_renders() -> None:
    msg = build_entry_message([], TODAY, TZ, NOW, header_kind="win_back")
    check_message(msg)
    assert "gone" in all_text(msg["blocks"])


def test_an_entry_without_an_email_address_has_no_email_button() -> None:
    e = entry(task("k7qx2"), sub=subscriber(email=""))
    assert labels(build_entry_blocks(e, TODAY, TZ, NOW)) == [
        "Claim",
        "Log outreach",
        "static_select",
    ]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(Task.__struct_fields__), ANY_VALUE)
def test_an_entry_with_any_damaged_task_field_is_shown_or_named_beside_the_others(
    name: str, value: Any
) -> None:
    bad = task("bad01", subscriber_id="cus_2")
    setattr(bad, name, value)
    entries = [
        entry(task("good1"), sub=subscriber("Good One")),
        entry(bad, sub=subscriber("Bad One")),
    ]

    text = text_of(build_entry_message(entries, TODAY, TZ, NOW))

    assert "Good One" in text
    assert "Bad One" in text or "1 entry could not be shown" in text
