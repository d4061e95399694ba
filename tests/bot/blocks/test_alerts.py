"""Alert builders: dunning-aware wording, the customer's context, buttons, escaping, limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks import ids
from bot.blocks.alerts import Alert, AlertView, alert_text, build_alert_parent, build_alert_reply
from bot.blocks.limits import check_message
from bot.blocks.plain import to_text
from tests.bot.blocks.factories import (
    HOSTILE,
    NOW,
    TODAY,
    TZ,
    assert_no_markup_from_input,
    hostile_subscriber,
    risk,
    subscriber,
    task,
)


def alert(kind: str = "payment_failed", **fields: Any) -> Alert:
    values: dict[str, Any] = {
        "key": "stripe:evt_1",
        "kind": kind,
        "source": "stripe",
        "at": NOW,
        "amount": 49.0,
        "currency": "USD",
        "attempt": 1,
    }
    values.update(fields)
    return Alert(**values)


def actions(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


def test_soft_decline_with_a_retry_says_when_and_that_outreach_can_wait():
    text = alert_text(
        alert(next_retry=NOW + timedelta(days=3), decline_code="insufficient_funds"), TZ
    )
    assert "$49," in text and "attempt 1" in text and "soft decline" in text
    assert "Stripe retries <!date^" in text and "outreach can wait" in text
    assert not alert(next_retry=NOW).needs_person_now


def test_hard_decline_or_no_retry_asks_for_a_person_now():
    hard = alert(next_retry=NOW + timedelta(days=3), decline_code="stolen_card", hard=True)
    assert "hard decline" in alert_text(hard, TZ) and "reach out now" in alert_text(hard, TZ)
    assert hard.needs_person_now
    last = alert(next_retry=None)
    assert "No retry is scheduled in Stripe: reach out now" in alert_text(last, TZ)
    assert "stopped retrying: reach out now" in alert_text(alert("retries_exhausted"), TZ)


def test_cancellation_csat_and_recovery_wording():
    scheduled = alert_text(
        alert("cancellation_scheduled", reason="too_expensive", ends="2026-07-01"), TZ
    )
    assert "ends 2026-07-01" in scheduled and "too_expensive" in scheduled
    assert "25/100" in alert_text(alert("low_csat", score=25.0, source="gorgias"), TZ)
    assert "Thread closed" in alert_text(alert("payment_recovered"), TZ)


def test_parent_shows_context_and_the_task_buttons():
    view = AlertView(
        subscriber(),
        [alert(next_retry=NOW + timedelta(days=3))],
        stage="Established",
        risk=risk("Payment failed 1 time in 30 days"),
        task=task(),
    )
    message = build_alert_parent(view, TODAY, TZ)
    check_message(message)
    text = to_text(message)
    assert "Ann Lee" in text and "Established" in text and "Payment failed 1 time" in text
    assert "Open task `k7qx2`" in text and "unclaimed" in text
    assert actions(message) == [ids.ACTION_CLAIM, ids.ACTION_LOG]
    assert message["text"].startswith("Payment failed: Ann Lee")


def test_claimed_task_shows_its_claimant_and_only_log_outreach():
    view = AlertView(subscriber(), [alert()], task=task(status="claimed", claimed_by="U0ALICE"))
    message = build_alert_parent(view, TODAY, TZ)
    assert actions(message) == [ids.ACTION_LOG]
    assert "<@U0ALICE>" in to_text(message) or "U0ALICE" in str(message)


def test_closed_thread_has_no_buttons_and_lists_what_came_before():
    view = AlertView(subscriber(), [alert(), alert("payment_recovered")], task=task(), closed=True)
    message = build_alert_parent(view, TODAY, TZ)
    assert actions(message) == []
    assert "Closed" in to_text(message) and "Earlier in this thread: payment failed" in to_text(
        message
    )


def test_outside_text_is_escaped_everywhere():
    hostile = alert("cancellation_scheduled", reason=HOSTILE, decline_code=HOSTILE, source=HOSTILE)
    view = AlertView(hostile_subscriber(), [hostile], stage=HOSTILE, task=task())
    for message in (build_alert_parent(view, TODAY, TZ), build_alert_reply(hostile, TZ)):
        check_message(message)
        assert_no_markup_from_input(message)
