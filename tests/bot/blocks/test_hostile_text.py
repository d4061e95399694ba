"""Outside text never pings or links anyone, in any builder, and every output fits Slack."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.blocks import (
    cards,
    digest,
    home,
    modal,
    replies,
    triage_list,
    triage_message,
    triage_thread,
)
from bot.blocks.digest import DigestProgress
from bot.blocks.limits import check_message, walk_strings
from tests.bot.blocks.factories import (
    ALICE,
    HOSTILE,
    NOW,
    TODAY,
    TZ,
    assert_no_markup_from_input,
    claimed,
    done,
    hostile_entry,
    hostile_subscriber,
    hostile_task,
    hostile_triage,
    outreach,
)


def _stats() -> cards.Stats:
    return cards.Stats(
        period_days=7,
        due=10,
        claimed=6,
        done=4,
        expired=1,
        per_manager={ALICE: {"claimed": 3, "done": 2}, HOSTILE: {"claimed": 1}},
        median_claim_minutes=42,
        inbox={"last_error": HOSTILE, HOSTILE: 3},
    )


# name -> (builder returning one payload or a list of payloads, whether it shows outside text)
BUILDERS: dict[str, tuple[Callable[[], Any], bool]] = {
    "digest_parent": (
        lambda: digest.build_digest_parent(
            TODAY, {"churn_risk": 2, HOSTILE: 1}, DigestProgress(1, 1, 1), channel_hint=HOSTILE
        ),
        True,
    ),
    "entry_unclaimed": (lambda: digest.build_entry_message(hostile_entry(), TODAY, TZ, NOW), True),
    "entry_claimed": (
        lambda: digest.build_entry_message(claimed(hostile_entry()), TODAY, TZ, NOW),
        True,
    ),
    "entry_claimed_by_garbage": (
        lambda: digest.build_entry_message(claimed(hostile_entry(), HOSTILE), TODAY, TZ, NOW),
        True,
    ),
    "entry_done": (
        lambda: digest.build_entry_message(done(hostile_entry(), HOSTILE), TODAY, TZ, NOW),
        True,
    ),
    "digest_batches": (
        lambda: digest.build_digest_batches(
            [hostile_entry(hostile_task(f"t{i}")) for i in range(3)], TODAY, TZ, NOW, 2
        ),
        True,
    ),
    "kind_header": (
        lambda: digest.build_entry_message([], TODAY, TZ, NOW, header_kind=HOSTILE),
        True,
    ),
    "log_modal": (
        lambda: modal.build_log_outreach_modal(["k7qx2"], hostile_subscriber()),
        True,
    ),
    "subscriber_card": (
        lambda: cards.build_subscriber_card(
            hostile_subscriber(),
            TODAY,
            TZ,
            stage=HOSTILE,
            risk=hostile_entry().risk,
            open_tasks=[hostile_task(claimed_by=HOSTILE, status="claimed")],
            outreach=[outreach(HOSTILE, by=HOSTILE, channel=HOSTILE, outcome=HOSTILE)],
        ),
        True,
    ),
    "lookup_choices": (
        lambda: cards.build_lookup_choices([hostile_subscriber()] * 2, HOSTILE),
        True,
    ),
    "lookup_none": (lambda: cards.build_lookup_choices([], HOSTILE), True),
    "mine": (
        lambda: cards.build_mine(
            ALICE, [hostile_task(status="claimed")], {"cus_1": hostile_subscriber()}, TODAY
        ),
        True,
    ),
    "stats": (lambda: cards.build_stats(_stats()), True),
    "outreach_reply": (
        lambda: cards.build_outreach_reply(outreach(HOSTILE, follow_up=TODAY)),
        True,
    ),
    "help": (replies.build_help, False),
    "unknown_subcommand": (lambda: replies.build_unknown_subcommand(HOSTILE), True),
    "already_claimed": (
        lambda: replies.build_already_claimed(HOSTILE, NOW, TZ, HOSTILE),
        True,
    ),
    "not_a_manager": (replies.build_not_a_manager, False),
    "claimed": (lambda: replies.build_claimed([HOSTILE], HOSTILE), True),
    "released": (lambda: replies.build_released([HOSTILE], HOSTILE), True),
    "assigned": (lambda: replies.build_assigned([HOSTILE], HOSTILE, HOSTILE), True),
    "snoozed": (
        lambda: replies.build_snoozed([HOSTILE], TODAY + timedelta(days=3), TODAY, HOSTILE),
        True,
    ),
    "done": (lambda: replies.build_done([HOSTILE], HOSTILE), True),
    "logged": (
        lambda: replies.build_logged([HOSTILE], HOSTILE, HOSTILE, TODAY, HOSTILE),
        True,
    ),
    "not_found": (lambda: replies.build_not_found(HOSTILE, HOSTILE), True),
    "error": (lambda: replies.build_error(HOSTILE, HOSTILE), True),
    "info": (lambda: replies.build_info(HOSTILE), True),
    "digest_posted": (
        lambda: replies.build_digest_posted(TODAY, HOSTILE, "https://x|<!channel>"),
        True,
    ),
    "home": (
        lambda: home.build_home(
            ALICE, [claimed(hostile_entry())], [hostile_entry()], _stats(), NOW, TZ
        ),
        True,
    ),
    "home_garbage_user": (lambda: home.build_home(HOSTILE, [], [], None, NOW, TZ), True),
    "triage_open": (lambda: triage_message.build_triage_message(hostile_triage(), NOW, TZ), True),
    "triage_claimed": (
        lambda: triage_message.build_triage_message(
            hostile_triage(status="claimed", claimed_by=HOSTILE, claimed_at=NOW), NOW, TZ
        ),
        True,
    ),
    "triage_resolved": (
        lambda: triage_message.build_triage_message(
            hostile_triage(status="resolved", resolved_by=ALICE, resolved_at=NOW), NOW, TZ
        ),
        True,
    ),
    "triage_unknown_sender": (
        lambda: triage_message.build_triage_message(hostile_triage(subscriber=None), NOW, TZ),
        True,
    ),
    "triage_reminder": (lambda: triage_thread.build_triage_reminder(hostile_triage(), 125), True),
    "triage_full": (lambda: triage_thread.build_full_email_messages(hostile_triage()), True),
    "triage_reply": (
        lambda: triage_thread.build_triage_reply(hostile_triage(reopened=True), HOSTILE, NOW, TZ),
        True,
    ),
    "triage_list": (
        lambda: triage_list.build_triage_list(
            [hostile_triage(), hostile_triage(claimed_by=HOSTILE)], NOW, TZ
        ),
        True,
    ),
}


def _payloads(name: str) -> list[Any]:
    out = BUILDERS[name][0]()
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_outside_text_is_escaped_in_every_text_field(name: str) -> None:
    for payload in _payloads(name):
        assert_no_markup_from_input(payload)


@pytest.mark.parametrize("name", sorted(n for n, (_, shows) in BUILDERS.items() if shows))
def test_outside_text_is_shown_escaped_not_dropped(name: str) -> None:
    texts = [t for payload in _payloads(name) for _, t in walk_strings(payload)]
    assert any("&lt;!channel&gt;" in t or "&lt;!everyone&gt;" in t for t in texts)
    double = [t for t in texts if "&amp;lt;" in t or "&amp;gt;" in t]
    assert not double, f"escaped twice: {double[0][:200]!r}"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_output_is_within_block_kit_limits(name: str) -> None:
    for payload in _payloads(name):
        check_message(payload)


def test_an_entity_in_a_name_stays_literal_text() -> None:
    message = digest.build_entry_message(hostile_entry(), TODAY, TZ, NOW)
    first = message["blocks"][0]["text"]["text"]
    assert "&amp;amp;" in first  # "&amp;" typed by the customer is shown as "&amp;"
