"""Lifecycle milestones at the edges of their windows, with the defaults of config/care.toml."""

from __future__ import annotations

import calendar
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as settings_h
from hypothesis import strategies as st

from bot.lifecycle import MilestoneWindows, due_milestones, ended_on
from bot.models import Subscription
from config.rules import LifecycleRules
from tests.bot.builders import TODAY, days_ago, member


@pytest.fixture
def rules(settings):
    return settings.lifecycle


def kinds(sub, rules, today=TODAY) -> dict[str, str]:
    """kind -> key of the milestones in window."""
    return {m.kind: m.key for m in due_milestones(sub, today, rules)}


@pytest.mark.parametrize(
    ("tenure", "in_window"), [(29, False), (30, True), (37, True), (44, True), (45, False)]
)
def test_checkin_30_is_due_from_day_30_and_expires_after_day_44(rules, tenure, in_window):
    found = kinds(member(tenure=tenure), rules)
    assert ("checkin_30" in found) is in_window
    if in_window:
        assert found["checkin_30"] == "cus_1:checkin_30"


def test_checkin_30_milestone_carries_due_and_last_day(rules):
    (milestone,) = due_milestones(member(tenure=30), TODAY, rules)
    assert milestone.due == TODAY
    assert milestone.expires == TODAY + timedelta(days=14)
    assert "Day 30 check-in" in milestone.reason


@pytest.mark.parametrize(("tenure", "in_window"), [(6, False), (7, True), (21, True), (22, False)])
def test_onboarding_is_due_on_day_7(rules, tenure, in_window):
    assert ("onboarding" in kinds(member(tenure=tenure), rules)) is in_window


@pytest.mark.parametrize("day", [90, 180])
def test_later_checkins_follow_the_same_window(rules, day):
    assert f"checkin_{day}" not in kinds(member(tenure=day - 1), rules)
    assert kinds(member(tenure=day), rules)[f"checkin_{day}"] == f"cus_1:checkin_{day}"
    assert f"checkin_{day}" not in kinds(member(tenure=day + 15), rules)


def test_tenure_counts_from_first_start_not_the_current_subscription(rules):
    sub = member(tenure=30)
    sub.subscriptions[0].started = days_ago(3)  # a plan change restarted the subscription
    assert "checkin_30" in kinds(sub, rules)


@pytest.mark.parametrize("status", ["active", "trialing", "past_due"])
def test_checkins_for_active_trialing_and_past_due(rules, status):
    assert "checkin_30" in kinds(member(tenure=30, status=status), rules)


@pytest.mark.parametrize("status", ["paused", "unpaid", "non_renewing", "canceled", "future"])
def test_no_checkins_onboarding_or_anniversary_for_other_statuses(rules, status):
    assert kinds(member(tenure=30, status=status), rules) == {}
    assert kinds(member(tenure=7, status=status), rules) == {}
    assert kinds(member(tenure=365, status=status), rules) == {}


@pytest.mark.parametrize(
    ("interval", "count", "expected"),
    [
        ("month", 1, False),
        ("week", 4, False),
        ("month", 2, False),
        ("month", 3, True),
        ("year", 1, True),
    ],
)
def test_pre_renewal_only_for_plans_billed_every_3_months_or_more(rules, interval, count, expected):
    charge = TODAY + timedelta(days=14)
    sub = member(tenure=200, interval=interval, count=count, next_charge=charge)
    found = kinds(sub, rules)
    assert ("pre_renewal" in found) is expected
    if expected:
        assert found["pre_renewal"] == f"cus_1:pre_renewal:{charge}"


@pytest.mark.parametrize(
    ("days_to_charge", "in_window"), [(15, False), (14, True), (0, True), (-1, False)]
)
def test_pre_renewal_is_due_14_days_before_the_charge(rules, days_to_charge, in_window):
    sub = member(tenure=200, interval="year", next_charge=TODAY + timedelta(days=days_to_charge))
    assert ("pre_renewal" in kinds(sub, rules)) is in_window


def test_no_pre_renewal_when_the_subscription_will_not_renew(rules):
    charge = TODAY + timedelta(days=10)
    sub = member(tenure=200, interval="year", next_charge=charge, cancel_at_period_end=True)
    assert "pre_renewal" not in kinds(sub, rules)


def test_two_subscriptions_renewing_the_same_day_make_one_pre_renewal(rules):
    charge = TODAY + timedelta(days=10)
    sub = member(tenure=200, interval="year", next_charge=charge)
    sub.subscriptions.append(replace(sub.subscriptions[0], id="sub_2", plan="Add-on"))
    assert [m.kind for m in due_milestones(sub, TODAY, rules)] == ["pre_renewal"]


def test_anniversary_on_each_yearly_start_date_keyed_by_year(rules):
    first = member(started=date(2025, 6, 15))
    second = member(started=date(2024, 6, 10))
    assert kinds(first, rules)["anniversary"] == "cus_1:anniversary:2026"
    assert "2 years" in due_milestones(second, TODAY, rules)[0].reason
    assert kinds(second, rules)["anniversary"] == "cus_1:anniversary:2026"


def test_no_anniversary_in_the_first_year(rules):
    sub = member(started=date(2026, 6, 1))
    assert "anniversary" not in kinds(sub, rules, today=date(2026, 6, 1))
    assert "anniversary" not in kinds(member(started=date(2025, 6, 16)), rules)


def test_anniversary_window_crossing_new_year_keeps_its_own_year(rules):
    sub = member(started=date(2024, 12, 25))
    assert kinds(sub, rules, today=date(2026, 1, 5))["anniversary"] == "cus_1:anniversary:2025"


def test_feb_29_start_has_its_anniversary_on_feb_28_in_common_years(rules):
    sub = member(started=date(2024, 2, 29))
    assert "anniversary" not in kinds(sub, rules, today=date(2025, 2, 27))
    assert kinds(sub, rules, today=date(2025, 2, 28))["anniversary"] == "cus_1:anniversary:2025"
    (leap,) = [m for m in due_milestones(sub, date(2028, 2, 29), rules) if m.kind == "anniversary"]
    assert leap.due == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("days_since_end", "in_window"), [(6, False), (7, True), (30, True), (31, False)]
)
def test_win_back_from_7_to_30_days_after_the_end(rules, days_since_end, in_window):
    end = days_ago(days_since_end)
    sub = member(tenure=400, status="canceled", ended=end)
    found = kinds(sub, rules)
    assert ("win_back" in found) is in_window
    if in_window:
        assert found["win_back"] == f"cus_1:win_back:{end}"
        (milestone,) = due_milestones(sub, TODAY, rules)
        assert milestone.due == end + timedelta(days=7)
        assert milestone.expires == end + timedelta(days=30)


def test_no_win_back_while_any_subscription_is_live(rules):
    sub = member(tenure=400, status="canceled", ended=days_ago(10))
    sub.subscriptions.append(Subscription(id="sub_2", status="active", started=days_ago(400)))
    assert "win_back" not in kinds(sub, rules)


def test_win_back_uses_the_status_change_in_history_when_the_export_has_no_end_date(rules):
    sub = member(tenure=400, status="canceled")
    sub.history.append(
        {
            "at": f"{days_ago(9)}T08:00:00+00:00",
            "field": "status",
            "from": "active",
            "to": "canceled",
        }
    )
    assert ended_on(sub) == days_ago(9)
    assert kinds(sub, rules)["win_back"] == f"cus_1:win_back:{days_ago(9)}"


def test_configured_checkin_days_are_used(settings):
    rules = replace(settings.lifecycle, checkin_days=(60,))
    assert kinds(member(tenure=60), rules) == {"checkin_60": "cus_1:checkin_60"}
    assert kinds(member(tenure=30), rules) == {}


def test_quick_window_test_never_misses_a_due_milestone(rules):
    """MilestoneWindows lets planning skip subscribers: it must never skip one with a milestone."""
    rnd = random.Random(3)
    statuses = ["active", "trialing", "past_due", "canceled", "paused"]
    checked = 0
    for n in range(3000):
        today = date(2024, 1, 1) + timedelta(days=rnd.randint(0, 1200))
        sub = member(
            f"cus_{n}",
            tenure=rnd.randint(0, 1500),
            status=rnd.choice(statuses),
            interval=rnd.choice(["month", "year"]),
            count=rnd.choice([1, 3]),
            next_charge=today + timedelta(days=rnd.randint(-5, 40)),
            ended=today - timedelta(days=rnd.randint(0, 40)),
            today=today,
        )
        if due_milestones(sub, today, rules):
            checked += 1
            assert MilestoneWindows(today, rules).may_have_milestone(sub.to_doc()), (sub, today)
    assert checked > 300  # the sample really exercised the windows


@settings_h(max_examples=300, deadline=None)
@given(
    start=st.dates(date(2018, 1, 1), date(2027, 12, 31)),
    today=st.dates(date(2020, 1, 1), date(2028, 12, 31)),
    span=st.integers(-3, 800),
    before=st.integers(-5, 60),
    next_charge=st.dates(date(2019, 1, 1), date(2029, 12, 31)),
)
def test_anniversaries_and_pre_renewals_are_those_a_day_by_day_count_finds(
    start, today, span, before, next_charge
):
    """The windows tested by date arithmetic (and anniversaries only in the months a window
    touches) give what counting the window's days one by one gives, for any window length."""
    rules = replace(LifecycleRules(), expire_days=span, pre_renewal_days_before=before)
    sub = member(started=start, interval="year", next_charge=next_charge, today=today)
    found = {m.kind: m for m in due_milestones(sub, today, rules)}
    window = [today - timedelta(days=n) for n in range(span + 1)]  # due days still in window
    tenure = (today - start).days
    expected = None
    for day in window if tenure > 360 else ():
        feb_29 = (start.month, start.day) == (2, 29)
        same = (day.month, day.day) == (start.month, start.day)
        common = not calendar.isleap(day.year) and (day.month, day.day) == (2, 28)
        if day.year > start.year and (same or (feb_29 and common)):
            expected = f"cus_1:anniversary:{day.year}"
            break
    assert (found["anniversary"].key if "anniversary" in found else None) == expected
    due = next_charge - timedelta(days=before)
    renews = due in window
    assert ("pre_renewal" in found) == renews
    if renews:
        assert found["pre_renewal"].due == due
