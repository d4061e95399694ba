"""The full report (`bot.metrics.report.build_report`) in one pass over the subscribers that
keeps none of them has the figures, cohorts, weekly lines, outcomes and comparisons of the
same functions over a `Book` of every customer (the report as it was built before)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.metrics.care import Period, care_figures, retention
from bot.metrics.history import Book
from bot.metrics.outcomes import outreach_outcomes, reached_vs_not
from bot.metrics.patterns import intent_patterns
from bot.metrics.report import OUTCOME_LOOKBACK_DAYS, MetricsReport, build_report, weekly
from bot.metrics.service import service_figures
from bot.models import Subscription, Task
from bot.repos import Repos
from bot.stats import team_stats
from bot.store import Store
from config import Settings
from tests.bot.metrics.histories import customer, event, item, touch
from tests.bot.metrics.test_headline import NOW, TODAY, events, fill, items, touches


def report_of_a_book(
    repos: Repos, settings: Settings, as_of: date, days: int, now: datetime
) -> MetricsReport:
    """The report as built before: every customer's timeline in a `Book`, then each figure."""
    tz = settings.timezone
    book = Book.load(repos, tz)
    period = Period.ending(as_of, days)
    inbox = list(repos.inbox.items())
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tz).astimezone(UTC)
    skipped: dict[str, int] = {}
    for why in book.skipped.values():
        skipped[why] = skipped.get(why, 0) + 1
    since = as_of - timedelta(days=OUTCOME_LOOKBACK_DAYS - 1)
    return MetricsReport(
        period=period,
        generated_at=now,
        care=care_figures(book, period),
        service=service_figures(inbox, book, period, settings.triage, tz),
        team=team_stats(repos, min(now, end_of_day), days),
        cohorts=retention(book, as_of),
        weeks=weekly(book, inbox, Period.ending(as_of, max(days, 7 * 12)), settings),
        skipped=skipped,
        outcomes=outreach_outcomes(book, since, as_of, as_of),
        comparisons=reached_vs_not(book, repos.tasks.raw(), since, as_of, as_of),
        patterns=intent_patterns(inbox, as_of, tz),
    )


# customers: start (days back), length, cancellation reason, a restart (days after the end),
# or one that never paid
people = st.lists(
    st.tuples(
        st.integers(0, 400),
        st.none() | st.integers(0, 300),
        st.sampled_from(["", "payment_failed", "too expensive"]),
        st.none() | st.integers(0, 90),
        st.booleans(),
    ),
    max_size=14,
)
OUTCOME_KINDS = ("pause", "resume", "downgrade", "payment_recovered", "order", "nps")
more_events = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(OUTCOME_KINDS), st.integers(0, 250 * 24)),
    max_size=16,
)
more_touches = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 200), st.sampled_from(["saved", "reached"])),
    max_size=8,
)
tasks = st.lists(
    st.tuples(
        st.integers(0, 8),  # c8 may not be stored
        st.integers(0, 200),
        st.sampled_from(["expired", "done", "open"]),
        st.sampled_from(["reached", "saved", "no_answer", ""]),
        st.booleans(),
        st.sampled_from(["churn_risk", "win_back"]),
        st.sampled_from(["high", "", "medium"]),
    ),
    max_size=10,
)


def fill_more(repos: Repos, customers, signals, logged, due) -> None:  # noqa: ANN001
    for n, (back, length, reason, restart, never_paid) in enumerate(customers):
        first = TODAY - timedelta(days=back)
        end = first + timedelta(days=length) if length is not None else None
        end = end if end and end <= TODAY else None
        subs = list(customer(f"c{n}", first, end, reason).subscriptions)
        if end is not None and restart is not None and end + timedelta(restart) <= TODAY:
            subs.append(Subscription(id=f"again_c{n}", started=end + timedelta(restart)))
        if never_paid:
            subs[0].status = "incomplete_expired"
        repos.subscribers.put(customer(f"c{n}", first, subs=subs))
    repos.events.add_many(
        event(f"c{n}", kind, NOW - timedelta(hours=hours), 5 if kind == "nps" else None)
        for n, kind, hours in signals
    )
    repos.outreach.add_many(
        touch(f"c{n}", NOW - timedelta(days=back), outcome, task_id=f"o{i}")
        for i, (n, back, outcome) in enumerate(logged)
    )
    repos.tasks.create_many(
        Task(
            id=f"t{i}",
            key=f"c{n}:{kind}:{i}",
            kind=kind,
            subscriber_id=f"c{n}",
            due=TODAY - timedelta(days=back),
            created_at=NOW - timedelta(days=300),
            status=status,
            outcome=outcome,
            holdout=held,
            risk_band=band,
        )  # fmt: skip
        for i, (n, back, status, outcome, held, kind, band) in enumerate(due)
    )


def same(new: MetricsReport, old: MetricsReport) -> None:
    assert new == old
    assert json.dumps(new.to_json()) == json.dumps(old.to_json())  # the same order too


@given(
    customers=people,
    signals=events,
    extra=more_events,
    logged=touches,
    later=more_touches,
    due=tasks,
    inbox=items,
    days=st.sampled_from([7, 30, 90]),
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_the_one_pass_report_is_the_report_of_a_book_of_every_customer(
    customers,
    signals,
    extra,
    logged,
    later,
    due,
    inbox,
    days,
    settings: Settings,  # noqa: ANN001
) -> None:
    with Store.memory() as store:
        repos = Repos.open(store)
        fill(repos, [], signals, logged, inbox)
        fill_more(repos, customers, extra, later, due)
        new = build_report(repos, settings, TODAY, days, NOW)
        old = report_of_a_book(repos, settings, TODAY, days, NOW)
    same(new, old)


def test_a_history_of_every_kind_gives_the_same_report(settings: Settings) -> None:
    """c0 is lost 20 days after its expired task fell due; c1, reached 100 days ago, paused
    20 days later; c2 ended 80 days ago and came back 10 days after; c3 never paid."""
    with Store.memory() as store:
        repos = Repos.open(store)
        customers = [(300, 200, "", None, False), (300, None, "", None, False)]
        customers += [(100, 20, "payment_failed", 10, False), (50, None, "", None, True)]
        fill_more(
            repos,
            customers,
            [(1, "pause", 80 * 24), (1, "order", 200 * 24), (0, "nps", 5)],
            [(1, 100, "reached"), (1, 10, "saved")],
            [(0, 120, "expired", "", False, "churn_risk", "high")],
        )
        new = build_report(repos, settings, TODAY, 30, NOW)
        same(new, report_of_a_book(repos, settings, TODAY, 30, NOW))
    (row,) = new.comparisons
    assert (row.not_reached.value, row.not_reached.n) == (100.0, 1)
    assert new.outcomes.logged == 2 and new.outcomes.states[30]["paused"] == 1
    assert new.skipped == {"never became a paying subscription": 1}
    assert sum(w.cancellations for w in new.weeks) == 1  # c2's; c0's is before the 12 weeks
    assert [(c.month, c.size) for c in new.cohorts] == [("2025-08", 2), ("2026-03", 1)]
    assert new.cohorts[0].retention[90].value == 100.0  # c0 and c1 both there on day 90
    assert new.care["saves"].detail["pending"] == 1


def test_records_stored_at_the_calendars_ends_leave_the_report_as_it_is_without_them(
    settings: Settings,
) -> None:
    """A hand edit's year 1 or 9999 has no day in the team's timezone: before or after every
    period, never an error that stops the report (and the Home's headline) for everyone."""
    year_1 = datetime(1, 1, 1, tzinfo=UTC)
    with Store.memory() as store:
        repos = Repos.open(store)
        fill_more(repos, [(300, None, "", None, False)], [(0, "nps", 5)], [(0, 10, "saved")], [])
        before = build_report(repos, settings, TODAY, 30, NOW)
        for n, at in enumerate([year_1, datetime.max.replace(tzinfo=UTC)]):
            repos.events.add(event("c0", "order", at))
            repos.outreach.add(touch("c0", at, task_id=f"t_{n}"))
            repos.inbox.create_item(item(f"i_{n}", at))
        after = build_report(repos, settings, TODAY, 30, NOW)
    assert after.care == before.care and after.service == before.service
    assert after.patterns == before.patterns and after.weeks == before.weeks
