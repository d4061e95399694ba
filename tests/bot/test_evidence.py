"""The evidence under a digest entry's "why now": each thing we know, said once."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from bot.evidence import MAX_LINES, evidence
from bot.risk import score
from config.rules import RiskRules
from tests.bot.builders import TODAY, days_ago, event, member

RULES = RiskRules()


def _noted(e, note: str):  # noqa: ANN001, ANN202
    return replace(e, note=note)


def test_risk_reasons_come_first_and_carry_the_nps_comment_without_repeating_it():
    sub = replace(member(last_order=days_ago(12)), tags=["vip", "gift", "vip"])
    events = [
        _noted(event("cus_1", "nps", days_ago(3), 2), "Too pricey for what it is"),
        event("cus_1", "cancel_request", days_ago(2)),
    ]
    risk = score(sub, events, TODAY, RULES)

    lines = evidence(sub, events, risk, TODAY)

    assert lines[: len(risk.reasons)][0] == f"Asked to cancel on {days_ago(2)}"
    assert f"NPS 2 on {days_ago(3)}: \u201cToo pricey for what it is\u201d" in lines
    assert sum("NPS" in line for line in lines) == 1  # the detractor reason carries the comment
    assert f"Last order on {days_ago(12)} (12 days ago)" in lines
    assert "Tags: vip, gift" in lines
    assert len(lines) == len(set(lines))


def test_cancellation_reason_support_contacts_and_bounces_are_shown():
    sub = member(cancel_at_period_end=True)
    sub.subscriptions[0].cancellation_reason = "too_expensive"
    events = [
        _noted(event("cus_1", "support_contact", days_ago(4)), "ticket 812: box arrived crushed"),
        _noted(event("cus_1", "bounce", days_ago(1)), "cus_1@example.com: mailbox full"),
        _noted(event("cus_1", "canceled", days_ago(200)), "an old reason"),
    ]

    lines = evidence(sub, events, score(sub, events, TODAY, RULES), TODAY)

    assert "Cancellation reason: too expensive" in lines
    assert (
        "1 support contact in the last 30 days (last: \u201cticket 812: box arrived crushed\u201d)"
        in lines
    )
    assert f"Email bounced on {days_ago(1)}: \u201ccus_1@example.com: mailbox full\u201d" in lines
    assert not any("an old reason" in line for line in lines)


def test_a_passive_nps_that_did_not_score_is_still_evidence_and_future_events_are_not():
    events = [event("cus_1", "nps", days_ago(5), 8), event("cus_1", "bounce", days_ago(-2))]

    lines = evidence(member(), events, None, TODAY)

    assert lines == [f"NPS 8 on {days_ago(5)}"]


def test_nothing_known_is_no_evidence():
    assert evidence(member(), [], None, TODAY) == []


@given(
    notes=st.lists(st.text(max_size=400), max_size=30),
    tags=st.lists(st.text(max_size=40), max_size=10),
)
def test_any_notes_give_at_most_max_lines_each_once(notes, tags):
    sub = replace(member(), tags=tags)
    kinds = ["nps", "support_contact", "bounce", "canceled", "order", "skip"]
    events = [
        _noted(event("cus_1", kinds[i % len(kinds)], days_ago(i % 40), i % 11, n=i), note)
        for i, note in enumerate(notes)
    ]

    lines = evidence(sub, events, score(sub, events, TODAY, RULES), TODAY)

    assert len(lines) <= MAX_LINES
    assert len({" ".join(line.lower().split()) for line in lines}) == len(lines)
    assert all(len(line) < 600 for line in lines)
