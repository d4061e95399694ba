"""Triggers that match the lifecycle, from real exports, day by day on the movable clock.

- A subscription that never paid (Stripe `incomplete_expired`, a Chargebee `future`
  subscription cancelled before it started, a trial that ended before it converted) gets no
  win-back.
- A scheduled cancellation is one save task, due `save_days_before` the day it ends, with the
  export's reason and comment; it opens no churn-risk task before then and is not reopened
  after it expires.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from bot.clock import FixedClock
from bot.engine import run_engine
from bot.importers import import_file
from bot.models import Subscription, Task
from bot.repos import Repos
from config.settings import Settings
from tests.bot.builders import at_noon, event, member
from tests.bot.importers.exports import (
    NOW,
    chargebee_header,
    stripe_header,
    stripe_row,
    write,
)

START = NOW.date()  # 2026-06-15


def run_days(repos: Repos, settings: Settings, first: date, last: date) -> list[Task]:
    """Run the engine once a day from `first` to `last`; the tasks created, in order."""
    clock = FixedClock(at_noon(first))
    created: list[Task] = []
    day = first
    while day <= last:
        clock.set(at_noon(day))
        created += run_engine(day, repos, settings, clock).created
        day += timedelta(days=1)
    return created


def test_never_paid_subscriptions_get_no_win_back_but_paid_ones_do(
    tmp_path: Path, repos: Repos, settings: Settings
):
    ended = "2026-06-10 09:00"
    stripe = [
        stripe_row(
            **{"id": "sub_x", "Customer ID": "cus_never", "Customer Email": "n@example.com"},
            **{"Status": "incomplete_expired", "Ended At (UTC)": ended},
        ),
        stripe_row(
            **{"id": "sub_p", "Customer ID": "cus_paid", "Customer Email": "p@example.com"},
            **{"Status": "canceled", "Canceled At (UTC)": ended, "Ended At (UTC)": ended},
        ),
    ]
    import_file(write(tmp_path, "s.csv", stripe_header(), stripe), "auto", repos, NOW)
    chargebee = [
        {  # a `future` subscription cancelled before its start: never started, never paid
            "subscriptions.id": "cb_future",
            "subscriptions.plan_id": "pro-monthly",
            "subscriptions.plan_unit_price": "4900",
            "subscriptions.status": "Cancelled",
            "subscriptions.start_date": "2026-07-01 00:00:00",
            "subscriptions.created_at": "2026-05-20 00:00:00",
            "subscriptions.cancelled_at": "2026-06-10 00:00:00",
            "customers.id": "cb_never",
        },
        {
            "subscriptions.id": "cb_paid",
            "subscriptions.plan_id": "pro-monthly",
            "subscriptions.plan_unit_price": "4900",
            "subscriptions.status": "Cancelled",
            "subscriptions.started_at": "2026-01-01 00:00:00",
            "subscriptions.cancelled_at": "2026-06-10 00:00:00",
            "customers.id": "cb_paid",
        },
    ]
    import_file(
        write(tmp_path, "Subscriptions.csv", chargebee_header(), chargebee), "auto", repos, NOW
    )

    created = run_days(repos, settings, START, START + timedelta(days=40))

    win_backs = sorted(t.subscriber_id for t in created if t.kind == "win_back")
    assert win_backs == ["cb_paid", "cus_paid"]
    paid = next(t for t in created if t.subscriber_id == "cus_paid")
    assert paid.value > 0  # what they paid, not $0


def test_a_trial_cancelled_before_it_paid_gets_no_win_back_but_a_converted_trial_does(
    tmp_path: Path, repos: Repos, settings: Settings
):
    # A trial that ended on or before its trial end never paid: a prospect, not a customer
    # lost. A trial that converted and was cancelled later is won back like any customer.
    def stripe_trial(sid: str, trial: tuple[str, str], ended: str, **cells: str):
        return stripe_row(
            **{"id": f"sub_{sid}", "Customer ID": sid, "Customer Email": f"{sid}@example.com"},
            **{"Status": "canceled", "Trial Start (UTC)": trial[0], "Trial End (UTC)": trial[1]},
            **{"Canceled At (UTC)": ended, "Ended At (UTC)": ended},
            **cells,
        )

    stripe = [
        stripe_trial("cus_mid_trial", ("2026-05-27 09:00", "2026-06-10 09:00"), "2026-06-08 09:00"),
        # set to cancel at period end during the trial: it ends when the trial does
        stripe_trial(
            "cus_at_trial_end", ("2026-05-27 09:00", "2026-06-10 09:00"), "2026-06-10 09:00"
        ),
        stripe_trial("cus_converted", ("2026-03-01 09:00", "2026-03-15 09:00"), "2026-06-10 09:00"),
    ]
    import_file(write(tmp_path, "s.csv", stripe_header(), stripe), "auto", repos, NOW)
    chargebee = [
        {  # an `In Trial` subscription cancelled before its trial ended
            "subscriptions.id": "cb_trial_sub",
            "subscriptions.plan_id": "pro-monthly",
            "subscriptions.plan_unit_price": "4900",
            "subscriptions.status": "Cancelled",
            "subscriptions.started_at": "2026-05-27 00:00:00",
            "subscriptions.trial_start": "2026-05-27 00:00:00",
            "subscriptions.trial_end": "2026-06-10 00:00:00",
            "subscriptions.cancelled_at": "2026-06-08 00:00:00",
            "customers.id": "cb_trial",
        },
    ]
    import_file(
        write(tmp_path, "Subscriptions.csv", chargebee_header(), chargebee), "auto", repos, NOW
    )

    created = run_days(repos, settings, START, START + timedelta(days=40))

    win_backs = sorted(t.subscriber_id for t in created if t.kind == "win_back")
    assert win_backs == ["cus_converted"]
    trial = repos.subscribers.get("cus_mid_trial")
    assert trial is not None and trial.subscriptions[0].trial_end == date(2026, 6, 10)


def test_a_yearly_plan_set_to_cancel_in_10_months_gets_one_save_task_before_it_ends(
    tmp_path: Path, repos: Repos, settings: Settings
):
    header = [*stripe_header(), "Cancellation Comment"]
    row = stripe_row(
        **{"Interval": "year", "Amount": "1,200.00", "Status": "active"},
        **{"Current Period Start (UTC)": "2026-04-15 09:00"},
        **{"Current Period End (UTC)": "2027-04-15 09:00"},
        **{"Canceled At (UTC)": "2026-06-14 10:00", "Cancellation Reason": "too_expensive"},
        **{"Cancellation Comment": "Budget cut,\nwe may come back"},
    )
    import_file(write(tmp_path, "s.csv", header, [row]), "auto", repos, NOW)
    end = date(2027, 4, 15)

    created = run_days(repos, settings, START, end + timedelta(days=20))

    churn = [t for t in created if t.kind == "churn_risk"]  # check-ins go on as usual
    assert [(t.key, t.due) for t in churn] == [(f"cus_1:save:{end}", end - timedelta(days=14))]
    reason = churn[0].reason
    assert reason.startswith(f"Set to cancel on {end}")
    assert "too expensive" in reason and "Budget cut, we may come back" in reason
    [stored] = [t for t in repos.tasks.all() if t.kind == "churn_risk"]
    assert stored.status == "expired"  # left unhandled: expired on its last day, not reopened


def test_save_task_days_before_the_end_are_configurable(
    tmp_path: Path, repos: Repos, settings: Settings
):
    settings = replace(settings, lifecycle=replace(settings.lifecycle, save_days_before=30))
    row = stripe_row(
        **{"Current Period End (UTC)": "2026-08-10 09:00", "Canceled At (UTC)": "2026-06-01"},
    )
    import_file(write(tmp_path, "s.csv", stripe_header(), [row]), "auto", repos, NOW)

    created = run_days(repos, settings, START, date(2026, 8, 10))

    assert [(t.key, t.due) for t in created if t.kind == "churn_risk"] == [
        ("cus_1:save:2026-08-10", date(2026, 7, 11))
    ]


def test_chargebee_non_renewing_plan_gets_a_save_task_with_its_reason_code(
    tmp_path: Path, repos: Repos, settings: Settings
):
    header = [*chargebee_header(), "subscriptions.cancel_reason_code"]
    row = {
        "subscriptions.id": "cb_sub",
        "subscriptions.plan_id": "pro-annual",
        "subscriptions.plan_unit_price": "99000",
        "subscriptions.status": "Non Renewing",
        "subscriptions.started_at": "2025-09-01 00:00:00",
        "subscriptions.current_term_start": "2025-09-01 00:00:00",
        "subscriptions.current_term_end": "2026-09-01 00:00:00",
        "subscriptions.cancelled_at": "2026-09-01 00:00:00",
        "subscriptions.cancel_reason_code": "Switched to a competitor",
        "customers.id": "cb_cus",
    }
    import_file(write(tmp_path, "Subscriptions.csv", header, [row]), "auto", repos, NOW)

    created = run_days(repos, settings, START, date(2026, 9, 1))

    assert [(t.key, t.due) for t in created if t.kind == "churn_risk"] == [
        ("cb_cus:save:2026-09-01", date(2026, 8, 18))
    ]
    assert created[0].reason.startswith("Set not to renew: ends on 2026-09-01")
    assert "Switched to a competitor" in created[0].reason


def test_other_high_risk_still_opens_a_churn_task_now(repos: Repos, settings: Settings):
    """A scheduled cancellation does not hide risk of its own: a past-due customer with failed
    payments, set to cancel in months, is a churn-risk task today; the save task comes later."""
    sub = member(
        "cus_late",
        status="past_due",
        cancel_at_period_end=True,
        next_charge=START + timedelta(days=120),
        today=START,
    )
    repos.subscribers.put_many([sub])
    for d in (2, 9):
        repos.events.add(event("cus_late", "payment_failed", START - timedelta(days=d), n=d))
    end = START + timedelta(days=120)

    created = run_days(repos, settings, START, START + timedelta(days=1))
    created += run_days(repos, settings, end - timedelta(days=15), end - timedelta(days=14))

    churn = [(t.key, t.due) for t in created if t.kind == "churn_risk"]
    assert churn == [
        ("cus_late:churn_risk:1", START),
        (f"cus_late:save:{end}", end - timedelta(days=14)),
    ]


def test_win_back_value_is_what_was_paid_not_a_never_paid_attempt(repos: Repos, settings: Settings):
    sub = member("cus_w", status="canceled", ended=START - timedelta(days=8), amount=49)
    attempt = Subscription(
        id="sub_try", status="incomplete_expired", amount=500, ended_at=START - timedelta(days=2)
    )
    sub.subscriptions.append(attempt)
    repos.subscribers.put(sub)

    created = run_days(repos, settings, START, START)

    assert [(t.kind, t.key, t.value) for t in created] == [
        ("win_back", f"cus_w:win_back:{START - timedelta(days=8)}", 49.0)
    ]
