"""The App Home headline (`bot.metrics.headline`): the full report's figures, computed with the
subscribers read one at a time, kept in the store and read back; a kept document that is not
one is refused with a clear error, never half read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FixedClock
from bot.metrics.headline import Headline, HeadlineKeeper, compute_headline
from bot.metrics.report import build_report
from bot.repos import Repos
from bot.repos.reports import HeadlineRepo
from bot.store import Store
from config import Settings
from tests.bot.metrics.histories import customer, event, item, touch

NOW = datetime(2026, 6, 15, 18, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
EVENT_KINDS = (
    "nps",
    "csat",
    "payment_failed",
    "payment_recovered",
    "support_contact",
    "support_reply",
    "support_solved",
    "order",
)
TICKETS = ("", "ticket 1", "ticket 2")

days_back = st.integers(0, 200)
customers = st.lists(
    st.tuples(
        days_back,
        st.none() | st.integers(0, 120),
        st.sampled_from(["", "payment_failed", "too expensive"]),
    ),
    max_size=12,
)
events = st.lists(
    st.tuples(
        st.integers(0, 11),
        st.sampled_from(EVENT_KINDS),
        st.integers(0, 90 * 24),
        st.integers(0, 10),
        st.sampled_from(TICKETS),
    ),
    max_size=24,
)
touches = st.lists(
    st.tuples(st.integers(0, 11), st.integers(0, 90), st.sampled_from(["saved", "reached"])),
    max_size=6,
)
items = st.lists(st.tuples(st.integers(0, 60 * 24), st.none() | st.integers(1, 72)), max_size=5)


def fill(repos: Repos, people, signals, logged, inbox) -> None:  # noqa: ANN001
    for n, (start, length, reason) in enumerate(people):
        first = TODAY - timedelta(days=start)
        end = first + timedelta(days=length) if length is not None else None
        repos.subscribers.put(
            customer(f"c{n}", first, end if end and end <= TODAY else None, reason)
        )
    repos.events.add_many(
        replace(
            event(
                f"c{n}", kind, NOW - timedelta(hours=hours), None if "support" in kind else value
            ),
            note=ticket,
            source="zendesk" if ticket else "csv",
        )
        for n, kind, hours, value, ticket in signals
    )
    repos.outreach.add_many(
        touch(f"c{n}", NOW - timedelta(days=back), outcome, task_id=f"t{i}")
        for i, (n, back, outcome) in enumerate(logged)
    )
    for i, (back, answered) in enumerate(inbox):
        created = NOW - timedelta(minutes=back * 60)
        claimed = created + timedelta(hours=answered) if answered else None
        repos.inbox.create_item(item(f"i{i}", created, claimed=claimed))


@given(people=customers, signals=events, logged=touches, inbox=items)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_the_headline_has_the_figures_of_the_full_report(
    people,
    signals,
    logged,
    inbox,
    settings: Settings,  # noqa: ANN001
) -> None:
    with Store.memory() as store:
        repos = Repos.open(store)
        fill(repos, people, signals, logged, inbox)
        headline = compute_headline(repos, settings, NOW)
        report = build_report(repos, settings, TODAY, 30, NOW)
    assert headline.as_of == TODAY and headline.computed_at == NOW
    assert headline.figures == report.figures()


def test_the_kept_headline_reads_back_as_computed(file_store: Store, settings: Settings) -> None:
    repos = Repos.open(file_store)
    fill(repos, [(100, None, ""), (90, 80, "payment_failed")], [(0, "nps", 3, 9, "")], [], [])
    keeper = HeadlineKeeper(repos, settings, FixedClock(NOW), ready=lambda: True)
    assert keeper.current() is None and keeper.due()
    made = keeper.refresh()
    assert made.figures["churn_rate"].value == 50.0 and not keeper.due()
    again = HeadlineKeeper(repos, settings, FixedClock(NOW), ready=lambda: True)
    assert again.current() == made


def test_nothing_is_computed_while_the_app_says_it_is_not_ready(
    repos: Repos, settings: Settings
) -> None:
    keeper = HeadlineKeeper(repos, settings, FixedClock(NOW), ready=lambda: False)
    keeper.tick()
    assert keeper.current() is None and HeadlineRepo(repos.store).get() is None


stored = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(
    doc=st.dictionaries(st.sampled_from(["as_of", "computed_at", "figures", "x"]), stored)
    | st.fixed_dictionaries(
        {
            "as_of": st.just("2026-06-15"),
            "computed_at": st.just("2026-06-15T18:00:00+00:00"),
            "figures": st.dictionaries(st.text(max_size=8), stored, max_size=3),
        }
    )
)
@settings(max_examples=300)
def test_a_kept_document_is_read_whole_or_refused_with_a_value_error(doc) -> None:  # noqa: ANN001
    try:
        headline = Headline.from_doc(doc)
    except (KeyError, TypeError, ValueError):
        return
    assert Headline.from_doc(headline.to_doc()) == headline
    assert headline.computed_at.tzinfo is not None


def test_the_headline_and_the_report_rest_between_customers_beside_other_threads(
    settings: Settings,
    monkeypatch,  # noqa: ANN001
) -> None:
    """In the bot (other threads answering Slack), each pass over the customers rests as it
    goes (`bot.bulk.yielding`); the figures are the same."""
    from bot import bulk

    rests: list[float] = []
    clock = iter(range(10**6))
    monkeypatch.setattr(bulk, "_clock", lambda: next(clock) * 0.001)
    monkeypatch.setattr(bulk, "_sleep", rests.append)
    monkeypatch.setattr(bulk, "_threads", lambda: 4)
    people = [(n * 7, None if n % 3 else 20, "") for n in range(12)]
    with Store.memory() as store:
        repos = Repos.open(store)
        fill(repos, people, [(1, "nps", 5, 9, "")], [], [])
        headline = compute_headline(repos, settings, NOW)
        after_headline = len(rests)
        report = build_report(repos, settings, TODAY, 30, NOW)
    assert after_headline >= 3 and len(rests) >= 2 * 3
    assert headline.figures == report.figures()
