"""Outcomes of outreach at 30 and 60 days, reached against not reached, and inbox patterns."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.metrics.history import Book
from bot.metrics.outcomes import outreach_outcomes, reached_vs_not
from bot.metrics.patterns import intent_patterns
from bot.models import Task
from bot.repos import Repos
from tests.bot.metrics.histories import customer, event, item, touch, utc

NY = ZoneInfo("America/New_York")
START = date(2025, 1, 1)


def test_every_outreach_gets_its_outcome_at_30_and_60_days(repos: Repos) -> None:
    repos.subscribers.put_many(
        [
            customer("gone", START, date(2026, 3, 20)),
            customer("late_gone", START, date(2026, 4, 20)),
        ]
        + [customer(s, START) for s in ("paused", "down", "saved", "order", "quiet", "new")]
    )
    repos.events.add_many(
        [
            event("paused", "pause", utc(2026, 3, 10, 15)),
            event("down", "downgrade", utc(2026, 3, 15, 15)),
            event("saved", "payment_recovered", utc(2026, 3, 12, 15)),
            event("order", "order", utc(2026, 3, 5, 15)),
            event("order", "order", utc(2026, 2, 20, 15)),  # before the touch: not a renewal
        ]
    )
    march = utc(2026, 3, 1, 15)
    repos.outreach.add_many(
        [
            touch(s, march)
            for s in ("gone", "late_gone", "paused", "down", "saved", "order", "quiet")
        ]
        + [touch("new", utc(2026, 4, 20, 15))]
    )
    out = outreach_outcomes(
        Book.load(repos, NY), date(2026, 3, 1), date(2026, 4, 30), date(2026, 5, 10)
    )
    assert out.logged == 8
    # Mar 31: gone cancelled; late_gone still there; new's 30 days end May 20: pending
    assert out.states[30] == {
        "cancelled": 1, "paused": 1, "downgraded": 1, "payment_recovered": 1, "renewed": 1,
        "active": 2, "pending": 1,
    }  # fmt: skip
    # Apr 30: late_gone has gone too; every 60-day check but those of Mar 1 is pending
    assert out.states[60]["cancelled"] == 2 and out.states[60]["pending"] == 1


def task(n: int, sid: str, due: date, status: str, outcome: str = "") -> Task:
    return Task(
        id=f"t{n}", key=f"{sid}:churn_risk:{n}", kind="churn_risk", subscriber_id=sid, due=due,
        created_at=utc(2026, 1, 1), status=status, outcome=outcome, risk_band="high",
    )  # fmt: skip


def test_reached_customers_against_customers_left_unreached(repos: Repos) -> None:
    due = date(2026, 2, 1)
    repos.subscribers.put_many(
        [customer("r1", START, date(2026, 3, 1))]
        + [customer(s, START) for s in ("r2", "r3", "r4", "x3", "recent")]
        + [customer("x1", START, date(2026, 2, 20)), customer("x2", START, date(2026, 3, 30))]
    )
    repos.tasks.create_many(
        [
            task(1, "r1", due, "done", "reached"),
            task(2, "r2", due, "done", "saved"),
            task(3, "r3", due, "done", "lost"),
            task(4, "r4", due, "done", "follow_up"),
            task(5, "x1", due, "expired", "expired"),
            task(6, "x2", due, "expired", "expired"),
            task(7, "x3", due, "expired", "expired"),
            task(8, "recent", date(2026, 5, 1), "expired", "expired"),  # its 60 days not over
            task(9, "r2", due, "done", "no_answer"),  # not reached, not expired: neither side
        ]
    )
    (row,) = reached_vs_not(
        Book.load(repos, NY),
        repos.tasks.raw(),
        date(2026, 1, 1),
        date(2026, 5, 31),
        date(2026, 6, 1),
    )
    assert (row.kind, row.band) == ("churn_risk", "high")
    assert (row.reached.value, row.reached.n) == (25.0, 4)  # r1 of four
    assert (row.not_reached.value, row.not_reached.n) == (66.7, 3)  # x1, x2 of three
    assert row.sentence() == (
        "churn-risk (high risk) customers reached: 25.0% lost in 60 days; not reached: 66.7%"
    )


def test_this_weeks_intents_against_the_four_weeks_before() -> None:
    as_of = date(2026, 3, 31)
    items = [
        item("a", utc(2026, 3, 30, 15), intent="pause_skip", subject="Can I skip April?"),
        item(
            "b", utc(2026, 3, 29, 15), intent="pause_skip", subject="<!channel> pause " + "x" * 200
        ),
        item("c", utc(2026, 3, 26, 15), intent="pause_skip", subject="Hold my box"),
        # 02:00 UTC on Mar 25 is Mar 24 in New York: the week before
        item("d", utc(2026, 3, 25, 2), intent="pause_skip", subject="older"),
        item("e", utc(2026, 3, 10, 15), intent="pause_skip"),
        item("f", utc(2026, 3, 3, 15), intent="pause_skip"),
        item("g", utc(2026, 3, 2, 15), intent="pause_skip"),
        item("h", utc(2026, 3, 12, 15), intent="billing"),
        item("i", utc(2026, 3, 13, 15), intent="billing"),
        item("old", utc(2026, 2, 20, 15), intent="delivery"),  # five weeks back: out
        item("next", utc(2026, 4, 1, 4, 30), intent="delivery"),  # Apr 1 in New York: after
    ]
    pause, billing = intent_patterns(items, as_of, NY)
    assert (pause.this_week, pause.baseline, pause.trend) == (3, 1.0, "up")
    assert pause.sentence() == "pause/skip: 3, up from an average of 1"
    assert pause.examples[0] == "Can I skip April?"
    assert pause.examples[1].startswith("<!channel> pause") and len(pause.examples[1]) == 80
    assert (billing.this_week, billing.baseline, billing.trend) == (0, 0.5, "down")
    assert intent_patterns([], as_of, NY) == []


def test_outcomes_of_nothing_is_nothing(repos: Repos) -> None:
    book = Book.load(repos, NY)
    assert outreach_outcomes(book, date(2026, 1, 1), date(2026, 3, 1), date(2026, 3, 1)).logged == 0
    assert reached_vs_not(book, [], date(2026, 1, 1), date(2026, 3, 1), date(2026, 3, 1)) == []
