"""Churn-risk score: every rule alone (points and words), windows, the cap and the bands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.clock import local_day
from bot.models import Subscription
from bot.risk import band_of
from tests.bot.builders import days_ago, event, member, risk_of


@pytest.fixture
def rules(settings):
    return settings.risk


def only_reason(risk):
    assert len(risk.reasons) == 1, risk.reasons
    return risk.reasons[0]


def test_quiet_subscriber_scores_zero_low(rules):
    risk = risk_of(member(), [], rules)
    assert (risk.score, risk.band, risk.reasons) == (0, "low", [])


def test_scheduled_cancellation_adds_60(rules):
    sub = member(next_charge=days_ago(-20), cancel_at_period_end=True)
    reason = only_reason(risk_of(sub, [], rules))
    assert (reason.rule, reason.points) == ("scheduled_cancellation", 60)
    assert reason.text == f"Scheduled to cancel on {days_ago(-20)}"


def test_non_renewing_counts_as_scheduled_cancellation(rules):
    risk = risk_of(member(status="non_renewing", next_charge=days_ago(-5)), [], rules)
    reason = only_reason(risk)
    assert (reason.rule, reason.points, risk.band) == ("scheduled_cancellation", 60, "high")
    assert reason.text.startswith("Set not to renew")


def test_scheduled_cancellation_needs_every_live_subscription_to_cancel(rules):
    sub = member(cancel_at_period_end=True)
    sub.subscriptions.append(Subscription(id="sub_2", status="active"))
    assert risk_of(sub, [], rules).score == 0


@pytest.mark.parametrize(("ago", "counts"), [(0, True), (30, True), (31, False)])
def test_cancel_request_within_30_days_adds_60(rules, ago, counts):
    risk = risk_of(member(), [event("cus_1", "cancel_request", days_ago(ago))], rules)
    if counts:
        reason = only_reason(risk)
        assert (reason.rule, reason.points) == ("cancel_request", 60)
        assert reason.text == f"Asked to cancel on {days_ago(ago)}"
    else:
        assert risk.reasons == []


@pytest.mark.parametrize(
    ("status", "text"), [("past_due", "Payment past due"), ("unpaid", "Unpaid")]
)
def test_past_due_or_unpaid_adds_35(rules, status, text):
    risk = risk_of(member(status=status), [], rules)
    reason = only_reason(risk)
    assert (reason.rule, reason.points, risk.band) == ("past_due", 35, "medium")
    assert reason.text.startswith(text)


def test_paused_status_adds_20(rules):
    reason = only_reason(risk_of(member(status="paused"), [], rules))
    assert (reason.rule, reason.points, reason.text) == ("paused", 20, "Subscription paused")


def test_pause_event_without_resume_adds_20(rules):
    reason = only_reason(risk_of(member(), [event("cus_1", "pause", days_ago(200))], rules))
    assert (reason.rule, reason.points) == ("paused", 20)
    assert reason.text == f"Paused since {days_ago(200)}"


def test_resume_after_pause_clears_it(rules):
    events = [event("cus_1", "pause", days_ago(20)), event("cus_1", "resume", days_ago(5))]
    assert risk_of(member(), events, rules).reasons == []


def test_detractor_nps_within_90_days_adds_20_with_score_and_date(rules):
    risk = risk_of(member(), [event("cus_1", "nps", days_ago(44), value=3)], rules)
    reason = only_reason(risk)
    assert (reason.rule, reason.points) == ("nps_detractor", 20)
    assert reason.text == f"NPS 3 on {days_ago(44)}"


@pytest.mark.parametrize(
    ("value", "ago", "counts"), [(6, 10, True), (7, 10, False), (0, 90, True), (0, 91, False)]
)
def test_nps_rule_edges(rules, value, ago, counts):
    risk = risk_of(member(), [event("cus_1", "nps", days_ago(ago), value=value)], rules)
    assert bool(risk.reasons) is counts


def test_only_the_latest_nps_counts(rules):
    events = [event("cus_1", "nps", days_ago(60), 2), event("cus_1", "nps", days_ago(10), 9)]
    assert risk_of(member(), events, rules).reasons == []


@pytest.mark.parametrize(("failures", "points"), [(1, 15), (2, 30), (4, 30)])
def test_each_failed_payment_in_30_days_adds_15_up_to_30(rules, failures, points):
    events = [event("cus_1", "payment_failed", days_ago(n * 3), n=n) for n in range(failures)]
    reason = only_reason(risk_of(member(), events, rules))
    assert (reason.rule, reason.points) == ("payment_failed", points)
    noun = "failed payment" if failures == 1 else "failed payments"
    assert reason.text == f"{failures} {noun} in the last 30 days"


def test_failed_payment_older_than_30_days_does_not_count(rules):
    events = [event("cus_1", "payment_failed", days_ago(31))]
    assert risk_of(member(), events, rules).reasons == []


def test_recovered_payment_clears_the_failures_before_it(rules):
    events = [
        event("cus_1", "payment_failed", days_ago(20)),
        event("cus_1", "payment_failed", days_ago(15), n=1),
        event("cus_1", "payment_recovered", days_ago(14)),
    ]
    assert risk_of(member(), events, rules).reasons == []
    later = event("cus_1", "payment_failed", days_ago(2), n=2)
    assert only_reason(risk_of(member(), [*events, later], rules)).points == 15


def test_two_skips_in_the_last_three_cycles_add_15(rules):
    events = [event("cus_1", "skip", days_ago(10)), event("cus_1", "skip", days_ago(80), n=1)]
    reason = only_reason(risk_of(member(), events, rules))
    assert (reason.rule, reason.points) == ("skips", 15)
    assert reason.text == "2 skipped orders in the last 3 billing cycles (91 days)"


def test_one_skip_or_skips_older_than_three_cycles_do_not_count(rules):
    assert risk_of(member(), [event("cus_1", "skip", days_ago(3))], rules).reasons == []
    old = [event("cus_1", "skip", days_ago(10)), event("cus_1", "skip", days_ago(95), n=1)]
    assert risk_of(member(), old, rules).reasons == []


def test_skip_cycles_follow_the_billing_interval(rules):
    weekly = member(interval="week")  # 3 cycles = 21 days
    events = [event("cus_1", "skip", days_ago(5)), event("cus_1", "skip", days_ago(25), n=1)]
    assert risk_of(weekly, events, rules).reasons == []
    assert only_reason(risk_of(member(), events, rules)).rule == "skips"


@pytest.mark.parametrize(("ago", "counts"), [(45, False), (46, True)])
def test_no_order_for_more_than_one_and_a_half_intervals_adds_15(rules, ago, counts):
    risk = risk_of(member(last_order=days_ago(ago)), [], rules)
    if counts:
        reason = only_reason(risk)
        assert (reason.rule, reason.points) == ("no_order", 15)
        assert reason.text.startswith(f"No order for {ago} days")
    else:
        assert risk.reasons == []


def test_order_events_count_as_order_data(rules):
    risk = risk_of(member(), [event("cus_1", "order", days_ago(50))], rules)
    assert only_reason(risk).text.startswith("No order for 50 days")
    recent = [event("cus_1", "order", days_ago(50)), event("cus_1", "order", days_ago(5), n=1)]
    assert risk_of(member(last_order=days_ago(90)), recent, rules).reasons == []


def test_no_order_rule_needs_order_data(rules):
    assert risk_of(member(tenure=400), [], rules).reasons == []


@pytest.mark.parametrize(("contacts", "counts"), [(2, False), (3, True)])
def test_three_support_contacts_in_30_days_add_10(rules, contacts, counts):
    events = [event("cus_1", "support_contact", days_ago(n * 5), n=n) for n in range(contacts)]
    risk = risk_of(member(), events, rules)
    if counts:
        reason = only_reason(risk)
        assert (reason.rule, reason.points) == ("support_contacts", 10)
        assert reason.text == "3 support contacts in the last 30 days"
    else:
        assert risk.reasons == []


@pytest.mark.parametrize(("ago", "counts"), [(60, True), (61, False)])
def test_downgrade_within_60_days_adds_10(rules, ago, counts):
    risk = risk_of(member(), [event("cus_1", "downgrade", days_ago(ago))], rules)
    if counts:
        reason = only_reason(risk)
        assert (reason.rule, reason.points, reason.text) == (
            "downgrade",
            10,
            f"Downgraded on {days_ago(ago)}",
        )
    else:
        assert risk.reasons == []


def test_score_is_capped_at_100_and_keeps_every_reason(rules):
    sub = member(status="past_due", cancel_at_period_end=True)
    events = [
        event("cus_1", "cancel_request", days_ago(2)),
        event("cus_1", "nps", days_ago(3), value=1),
        event("cus_1", "payment_failed", days_ago(4)),
    ]
    risk = risk_of(sub, events, rules)
    assert risk.score == 100
    assert risk.band == "high"
    assert sum(r.points for r in risk.reasons) == 60 + 60 + 35 + 20 + 15
    assert {r.rule for r in risk.reasons} == {
        "scheduled_cancellation",
        "cancel_request",
        "past_due",
        "nps_detractor",
        "payment_failed",
    }


@pytest.mark.parametrize(
    ("points", "band"), [(0, "low"), (29, "low"), (30, "medium"), (59, "medium"), (60, "high")]
)
def test_bands(rules, points, band):
    assert band_of(points, rules) == band


def test_ended_subscribers_get_no_score(rules):
    sub = member(status="canceled", ended=days_ago(3))
    risk = risk_of(sub, [event("cus_1", "cancel_request", days_ago(5))], rules)
    assert (risk.score, risk.band, risk.reasons) == (0, "low", [])


def test_events_after_the_scored_day_are_ignored(rules):
    later = event("cus_1", "cancel_request", days_ago(-1))
    assert risk_of(member(), [later], rules).score == 0


def test_weights_come_from_the_rules(rules):
    custom = replace(rules, weights={**rules.weights, "past_due": 70})
    assert risk_of(member(status="past_due"), [], custom).score == 70


def test_events_stored_at_the_calendars_ends_are_before_or_after_every_window(rules):
    """A hand edit's year 1 or 9999 has no day in the team's timezone: long ago, or to come."""
    ends = [
        replace(event("cus_1", "cancel_request", days_ago(0)), at=datetime(1, 1, 1, tzinfo=UTC)),
        replace(
            event("cus_1", "cancel_request", days_ago(0), n=1), at=datetime.max.replace(tzinfo=UTC)
        ),
    ]
    assert risk_of(member(), ends, rules).reasons == []
    assert local_day(datetime(1, 1, 1, tzinfo=UTC), ZoneInfo("America/New_York")) == date.min
    assert local_day(datetime.max.replace(tzinfo=UTC), ZoneInfo("Asia/Tokyo")) == date.max
