"""Lookup card, /care mine, /care stats, the outreach reply and the short command replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.blocks import ids
from bot.blocks.cards import (
    Stats,
    build_mine,
    build_outreach_reply,
    build_stats,
    build_subscriber_card,
)
from bot.blocks.limits import check_message, walk_strings
from bot.blocks.replies import (
    SUBCOMMAND_NAMES,
    build_already_claimed,
    build_help,
    build_unknown_subcommand,
    nearest_subcommand,
)
from tests.bot.blocks.factories import (
    ALICE,
    BOB,
    NOW,
    TODAY,
    TZ,
    outreach,
    risk,
    subscriber,
    task,
)


def text_of(payload: dict) -> str:
    return "\n".join(t for _, t in walk_strings(payload["blocks"]))


def test_lookup_card_shows_stage_risk_open_tasks_and_recent_outreach() -> None:
    logs = [
        outreach(f"note {i}", id=f"o{i}", at=NOW - timedelta(days=i), by=BOB if i else ALICE)
        for i in range(8)
    ]
    card = build_subscriber_card(
        subscriber(),
        TODAY,
        TZ,
        stage="active, month 15",
        risk=risk("2 failed payments"),
        open_tasks=[task(status="claimed", claimed_by=BOB, claimed_at=NOW)],
        outreach=logs,
    )
    check_message(card)
    text = text_of(card)
    assert "active, month 15" in text and "1 yr 3 mo" in text and "$49/mo" in text
    assert "75 (high)" in text and "2 failed payments" in text
    assert f"`k7qx2`  ·  Churn risk  ·  due today  ·  claimed by <@{BOB}>" in text
    assert f"<@{ALICE}> called: *Reached* — note 0" in text  # newest first
    assert "note 4" in text and "note 5" not in text
    assert "3 earlier not shown" in text


def test_lookup_card_without_history_says_so() -> None:
    text = text_of(build_subscriber_card(subscriber(), TODAY, TZ))
    assert "none logged yet" in text and "*Open tasks*\nnone" in text


def test_mine_lists_tasks_with_a_log_button_each_and_caps_the_list() -> None:
    tasks = [task(f"t{i:02d}", status="claimed", claimed_by=ALICE) for i in range(25)]
    msg = build_mine(ALICE, tasks, {"cus_1": subscriber()}, TODAY)
    check_message(msg)
    buttons = [b["accessory"] for b in msg["blocks"] if "accessory" in b]
    assert len(buttons) == 20
    assert {b["action_id"] for b in buttons} == {ids.ACTION_LOG}
    assert buttons[0]["value"] == "t00"
    assert "and 5 more" in text_of(msg)


def test_mine_with_nothing_claimed_points_to_the_digest() -> None:
    assert "no claimed tasks" in build_mine(ALICE, [], {}, TODAY)["text"]


def test_stats_show_totals_per_manager_and_median_claim_time() -> None:
    stats = Stats(
        period_days=30,
        due=40,
        claimed=30,
        done=25,
        expired=3,
        per_manager={ALICE: {"claimed": 10, "done": 9}, BOB: {"claimed": 20, "done": 16}},
        median_claim_minutes=95,
        inbox={"connection_failures": 2},
    )
    msg = build_stats(stats)
    check_message(msg)
    text = text_of(msg)
    assert "*40* came due" in text and "*30* claimed" in text and "*25* done" in text
    assert "*3* expired" in text and "1 h 35 min" in text
    assert text.index(f"<@{BOB}>") < text.index(f"<@{ALICE}>")  # most done first
    assert "connection failures: 2" in text
    assert "*Last 30 days*\n" in text  # the period the figures cover, named once


def test_outreach_reply_is_a_short_one_liner() -> None:
    msg = build_outreach_reply(outreach("Will stay", follow_up=TODAY + timedelta(days=7)))
    line = msg["blocks"][0]["text"]["text"]
    assert line.startswith(f"<@{ALICE}> called: *Reached* — Will stay")
    assert "Follow-up on Mon Jun 22" in line


def test_help_lists_every_subcommand() -> None:
    text = text_of(build_help())
    for name in SUBCOMMAND_NAMES:
        assert f"/care {name}" in text


def test_unknown_subcommand_suggests_the_nearest_and_shows_help() -> None:
    assert nearest_subcommand("lokup") == "lookup"
    assert nearest_subcommand("cl") == "claim"
    assert nearest_subcommand("zzzzzz") is None
    msg = build_unknown_subcommand("relase")
    assert "Did you mean `/care release &lt;task-id&gt;`?" in msg["text"]
    assert "/care help" in text_of(msg)
    check_message(msg)


def test_refused_claim_names_the_claimant_and_time() -> None:
    msg = build_already_claimed(BOB, NOW, TZ, "Ann Lee")
    assert f"Already claimed by <@{BOB}> at <!date^{int(NOW.timestamp())}^" in msg["text"]
    assert "(Ann Lee)" in msg["text"]


def test_stats_show_todays_digest_as_its_parent_counts_it_and_say_what_each_number_counts():
    stats = Stats(period_days=7, due=77, digest_day=TODAY)
    stats.digest = {"listed": 100, "claimed": 4, "done": 3, "open": 93, "expired": 0, "moved": 0}

    text = text_of(build_stats(stats))

    assert "*Today's digest* (Mon Jun 15): *100* due today  ·  *4* claimed  ·  *3* done" in text
    assert "overdue ones carried over from earlier days included" in text
    assert "*77* came due" in text and "due date fell in the last 7 days" in text
    assert "expired" not in text.split("*Last 7 days*")[0]  # no zero figures for the digest


def test_stats_before_the_digest_is_posted_say_so():
    text = text_of(build_stats(Stats(period_days=7, digest_day=TODAY)))

    assert "*Today's digest* (Mon Jun 15): not posted yet" in text


def test_a_last_contact_the_card_cannot_show_is_named_beside_the_logs_it_can() -> None:
    year_1 = datetime(1, 1, 1, tzinfo=UTC)  # from a hand-edited file: before New York's days
    logs = [outreach("an old call", id="o_bad", at=year_1), outreach("a good call", id="o_ok")]

    only_bad = text_of(build_subscriber_card(subscriber(), TODAY, TZ, outreach=logs[:1]))
    both = text_of(build_subscriber_card(subscriber(), TODAY, TZ, outreach=logs))

    assert "1 outreach log could not be shown (id `o_bad`)" in only_bad
    assert "a good call" in both and "Reached by" in both
    assert "1 outreach log could not be shown (id `o_bad`)" in both
