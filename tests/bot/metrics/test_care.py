"""Care metrics on hand-built histories; every expected figure is worked out in the comments."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.metrics.care import Period, churn, movement, nps, retention, saves
from bot.metrics.history import Book
from bot.repos import Repos
from tests.bot.metrics.histories import customer, event, touch, utc

NY = ZoneInfo("America/New_York")
FEB = Period(date(2026, 2, 1), date(2026, 2, 28))


def cohort_of_ten(repos: Repos) -> None:
    """Ten customers started 2026-01-05; in February c0 and c1 cancel, c2 is cut off for
    non-payment (Stripe's cancellation reason `payment_failed`)."""
    subs = [customer(f"c{n}", date(2026, 1, 5)) for n in range(3, 10)]
    subs += [
        customer("c0", date(2026, 1, 5), date(2026, 2, 10), "cancellation_requested"),
        customer("c1", date(2026, 1, 5), date(2026, 2, 15)),
        customer("c2", date(2026, 1, 5), date(2026, 2, 20), "payment_failed"),
    ]
    repos.subscribers.put_many(subs)


def test_cohort_of_ten_with_three_february_cancels(repos: Repos) -> None:
    cohort_of_ten(repos)
    figures = churn(Book.load(repos, NY), FEB)
    # 10 active on Jan 31; 3 lost in February: 30%; 1 of them involuntary: 10% and 20%.
    assert figures["customers_at_start"].value == 10
    assert figures["churn_rate"].value == 30.0 and figures["churn_rate"].n == 10
    assert figures["involuntary_cancel_rate"].value == 10.0
    assert figures["voluntary_cancel_rate"].value == 20.0
    # January: nobody was a customer on Dec 31, so no rate, and it says why.
    january = churn(Book.load(repos, NY), Period(date(2026, 1, 1), date(2026, 1, 31)))
    assert january["churn_rate"].value is None
    assert "the data starts on 2026-01-05" in january["churn_rate"].why


def test_cohort_retention_counts_only_members_old_enough(repos: Repos) -> None:
    cohort_of_ten(repos)
    (jan,) = retention(Book.load(repos, NY), date(2026, 6, 30))
    assert (jan.month, jan.size) == ("2026-01", 10)
    assert jan.retention[30].value == 100.0  # day 30 is Feb 4: all ten still there
    assert jan.retention[90].value == 70.0  # day 90 is Apr 5: seven
    assert jan.retention[180].value is None  # day 180 is Jul 4, after June 30
    assert jan.retention[180].why == "no member is 180 days in yet"
    assert jan.retention[365].value is None


def test_no_data_says_so_instead_of_zero(repos: Repos) -> None:
    book = Book.load(repos, NY)
    figures = churn(book, FEB) | movement(book, FEB)
    assert figures["churn_rate"].value is None and figures["churn_rate"].why == "no subscriber data"
    assert figures["active_at_end"].value is None
    assert figures["win_backs"].value is None
    assert nps(book, FEB).why == "no NPS answers in the period"
    assert saves(book, FEB, FEB.last).why == "no outreach logged in the period"
    assert retention(book, FEB.last) == []
    assert figures["churn_rate"].text() == "n/a (no subscriber data)"


def test_cancel_and_restart_is_a_churn_then_a_win_back(repos: Repos) -> None:
    """c1 ends on Mar 1 and takes a new subscription on Apr 1."""
    first = customer("c1", date(2026, 1, 1), date(2026, 3, 1)).subscriptions[0]
    second = customer("c1", date(2026, 4, 1)).subscriptions[0]
    second.id = "sub_c1_again"
    repos.subscribers.put_many(
        [customer("c1", date(2026, 1, 1), subs=[first, second]), customer("c2", date(2026, 1, 1))]
    )
    book = Book.load(repos, NY)
    march, april = (
        Period(date(2026, 3, 1), date(2026, 3, 31)),
        Period(date(2026, 4, 1), date(2026, 4, 30)),
    )
    assert churn(book, march)["churn_rate"].value == 50.0  # 1 of 2
    assert movement(book, march)["win_backs"].value == 0
    assert movement(book, april)["win_backs"].value == 1
    assert churn(book, april)["customers_at_start"].value == 1  # c1 was gone on Mar 31
    (cohort,) = retention(book, date(2026, 6, 30))
    assert cohort.retention[30].value == 100.0  # Jan 31: both
    assert cohort.retention[90].value == 100.0  # Apr 1: c1 is back that day


def test_restart_of_the_same_subscription_read_from_its_history(repos: Repos) -> None:
    sub = customer("c1", date(2026, 1, 1), date(2026, 2, 1)).subscriptions[0]
    sub.status = "active"  # a later export shows it live again; the end date is kept
    history = [
        {
            "at": "2026-02-01T12:00:00+00:00",
            "field": "status",
            "from": "active",
            "to": "canceled",
            "sub": sub.id,
        },
        {
            "at": "2026-03-10T12:00:00+00:00",
            "field": "status",
            "from": "canceled",
            "to": "active",
            "sub": sub.id,
        },
    ]
    repos.subscribers.put(customer("c1", date(2026, 1, 1), subs=[sub], history=history))
    (timeline,) = Book.load(repos, NY).timelines.values()
    assert [(s.start, s.end) for s in timeline.spells] == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 3, 10), None),
    ]


def test_involuntary_when_a_failed_payment_was_never_recovered(repos: Repos) -> None:
    repos.subscribers.put_many(
        [
            customer("a", date(2026, 1, 1), date(2026, 2, 20)),
            customer("b", date(2026, 1, 1), date(2026, 2, 20)),
        ]
    )
    repos.events.add_many(
        [
            event("a", "payment_failed", utc(2026, 2, 5, 15)),
            event("b", "payment_failed", utc(2026, 2, 5, 15)),
            event("b", "payment_recovered", utc(2026, 2, 7, 15)),  # b left of its own accord
        ]
    )
    figures = churn(Book.load(repos, NY), FEB)
    assert figures["involuntary_cancel_rate"].value == 50.0
    assert figures["voluntary_cancel_rate"].value == 50.0


def test_nps_counts_each_customers_latest_answer_at_local_day_edges(repos: Repos) -> None:
    repos.subscribers.put_many([customer(s, date(2025, 1, 1)) for s in "abcde"])
    repos.events.add_many(
        [
            event("a", "nps", utc(2026, 2, 3, 15), 2),
            event("a", "nps", utc(2026, 2, 20, 15), 10),  # a's latest: a promoter
            event("b", "nps", utc(2026, 2, 10, 15), 9),
            event("c", "nps", utc(2026, 2, 10, 15), 7),
            # 03:00 UTC on Mar 1 is Feb 28, 22:00 in New York: February's
            event("d", "nps", utc(2026, 3, 1, 3), 3),
            # 04:00 UTC on Feb 1 is Jan 31, 23:00 in New York: January's
            event("e", "nps", utc(2026, 2, 1, 4), 8),
            event("c", "nps", utc(2026, 2, 11, 15), 11),  # not on the 0-10 scale
        ]
    )
    figure = nps(Book.load(repos, NY), FEB)
    # a 10, b 9 promoters; c 7 passive; d 3 detractor; e's answer is January's: (2 - 1) / 4
    assert (figure.value, figure.n) == (25, 4)
    assert figure.detail == {"promoters": 2, "passives": 1, "detractors": 1, "invalid": 1}
    utc_book = Book.load(repos, ZoneInfo("UTC"))
    # in UTC, d's answer is March's and e's (a passive) February's: (2 - 0) / 4
    assert nps(utc_book, FEB).value == 50


def test_saves_are_confirmed_lost_or_pending_thirty_days_on(repos: Repos) -> None:
    repos.subscribers.put_many(
        [
            customer("kept", date(2025, 1, 1)),
            customer("gone", date(2025, 1, 1), date(2026, 3, 20)),
            customer("new", date(2025, 1, 1)),
        ]
    )
    repos.outreach.add_many(
        [
            touch("kept", utc(2026, 3, 1, 15)),
            touch("gone", utc(2026, 3, 5, 15)),
            touch("new", utc(2026, 3, 25, 15)),
            touch("new", utc(2026, 3, 26, 15), outcome="reached", task_id="t2"),
        ]
    )
    figure = saves(
        Book.load(repos, NY), Period(date(2026, 3, 1), date(2026, 3, 31)), date(2026, 4, 10)
    )
    # kept: active Mar 31: confirmed. gone: ended Mar 20: lost. new: Apr 24 is after Apr 10.
    assert figure.value == 1
    assert figure.detail == {"logged": 3, "pending": 1, "lost": 1}


@pytest.mark.parametrize("days", [0, -3])
def test_a_period_has_at_least_one_day(days: int) -> None:
    with pytest.raises(ValueError):
        Period.ending(date(2026, 3, 1), days)


def test_a_trial_cancelled_before_it_converted_is_no_customer_lost(
    tmp_path: Path, repos: Repos
) -> None:
    # As the engine reads it (no win-back): a trial that ended on or before its trial end
    # never paid, so it is neither a customer at the start nor a cancellation. A trial that
    # converted and was cancelled later is a customer lost like any other.
    from bot.importers import import_file
    from tests.bot.importers.exports import NOW, chargebee_header, stripe_header, stripe_row, write

    def stripe(sid: str, trial: tuple[str, str] | None, ended: str = "") -> dict[str, object]:
        start = trial[0] if trial else "2026-01-10 09:00"
        return stripe_row(
            **{"id": f"sub_{sid}", "Customer ID": sid, "Customer Email": f"{sid}@example.com"},
            **{"Status": "canceled" if ended else "active", "Canceled At (UTC)": ended},
            **{"Ended At (UTC)": ended, "Start (UTC)": start, "Start Date (UTC)": start},
            **({"Trial Start (UTC)": trial[0], "Trial End (UTC)": trial[1]} if trial else {}),
        )

    may_trial = ("2026-05-20 09:00", "2026-06-03 09:00")
    rows = [
        stripe("cus_mid_trial", may_trial, "2026-06-01 09:00"),
        stripe("cus_at_trial_end", may_trial, "2026-06-03 09:00"),  # cancelled at trial end
        stripe("cus_converted", ("2026-03-01 09:00", "2026-03-15 09:00"), "2026-06-05 09:00"),
        stripe("cus_steady", None),
    ]
    import_file(write(tmp_path, "s.csv", stripe_header(), rows), "auto", repos, NOW)
    chargebee = {  # an `In Trial` subscription cancelled before its trial ended
        "subscriptions.id": "cb_trial_sub",
        "subscriptions.plan_id": "pro-monthly",
        "subscriptions.plan_unit_price": "4900",
        "subscriptions.status": "Cancelled",
        "subscriptions.started_at": "2026-05-20 00:00:00",
        "subscriptions.trial_start": "2026-05-20 00:00:00",
        "subscriptions.trial_end": "2026-06-03 00:00:00",
        "subscriptions.cancelled_at": "2026-06-02 00:00:00",
        "customers.id": "cb_trial",
    }
    import_file(
        write(tmp_path, "Subscriptions.csv", chargebee_header(), [chargebee]), "auto", repos, NOW
    )
    book = Book.load(repos, NY)
    june = Period(date(2026, 6, 1), date(2026, 6, 14))

    figures = churn(book, june) | movement(book, june)

    assert figures["customers_at_start"].value == 2  # cus_converted, cus_steady
    assert figures["cancellations"].value == 1  # cus_converted only
    assert figures["churn_rate"].value == 50.0
    never = {"cus_mid_trial", "cus_at_trial_end", "cb_trial"}
    assert never.isdisjoint(book.timelines)
    assert {book.skipped[sid] for sid in never} == {"never became a paying subscription"}
    may = [c for c in retention(book, date(2026, 6, 30)) if c.month == "2026-05"]
    assert may == []  # no May cohort: its only starts were trials that never paid
