"""The one ordering of work (bot.priority): overdue, risk, value, longest since reached."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import priority
from bot.models import Risk, RiskReason, Task
from bot.priority import Priority, last_reached_on, must_show, select, sort_key

TODAY = date(2026, 6, 15)


def key(p: Priority, ident: str = "c") -> tuple:
    return sort_key(p, TODAY, TODAY, ident)


def test_overdue_beats_risk_beats_value_beats_time_since_reached() -> None:
    reached_long_ago = Priority(value=10, last_reached=TODAY - timedelta(days=300))
    never = Priority(value=10)
    recent = Priority(value=10, last_reached=TODAY - timedelta(days=2))
    valuable = Priority(value=500, last_reached=TODAY)
    risky = Priority(risk=40, band="medium", value=1)
    overdue = Priority(overdue=True)
    items = [recent, reached_long_ago, valuable, never, overdue, risky]
    ranked = sorted(items, key=key)
    assert ranked == [overdue, risky, valuable, never, reached_long_ago, recent]


def test_ties_fall_to_the_oldest_due_date_then_the_customer_id() -> None:
    same = Priority(risk=10, value=5)
    keys = [
        sort_key(same, TODAY, TODAY, "b"),
        sort_key(same, TODAY, TODAY - timedelta(days=3), "z"),
        sort_key(same, TODAY, TODAY, "a"),
    ]
    assert sorted(keys) == [keys[1], keys[2], keys[0]]


def test_reasons_say_why_in_the_order_the_facts_count() -> None:
    p = Priority(overdue=True, risk=65, band="high", last_reached=TODAY - timedelta(days=40))
    assert p.reasons(TODAY) == ["overdue", "risk 65 high", "last reached 40 days ago"]
    assert Priority().reasons(TODAY) == ["never reached"]


def test_last_reached_counts_only_outreach_that_reached_the_customer() -> None:
    docs = [
        {"outcome": "reached", "at": "2026-05-01T10:00:00+00:00"},
        {"outcome": "no_answer", "at": "2026-06-10T10:00:00+00:00"},
        {"outcome": "saved", "at": "2026-05-20T10:00:00+00:00"},
        {"outcome": "left_message", "at": "2026-06-12T10:00:00+00:00"},
    ]
    assert last_reached_on(docs, UTC) == date(2026, 5, 20)
    assert last_reached_on(docs[1::2], UTC) is None
    assert last_reached_on([{"outcome": "reached", "at": "not a date"}], UTC) is None


def test_last_reached_is_the_day_in_the_teams_timezone() -> None:
    late = [{"outcome": "reached", "at": "2026-06-15T01:00:00Z"}]  # 21:00 in New York
    assert last_reached_on(late, ZoneInfo("America/New_York")) == date(2026, 6, 14)
    assert last_reached_on(late, ZoneInfo("Asia/Tokyo")) == date(2026, 6, 15)
    assert last_reached_on([{"outcome": "reached", "at": "2026-06-15T01:00:00"}], UTC) == date(
        2026, 6, 15
    )  # an old document without an offset is UTC


def _task(risk: int = 0, band: str = "low", value: float = 0.0, due: date = TODAY, **kw) -> Task:
    return Task(
        id="t1",
        key="c:k",
        kind="checkin_30",
        subscriber_id="c",
        due=due,
        created_at=datetime(2026, 6, 1, tzinfo=UTC),
        risk_score=risk,
        risk_band=band,
        value=value,
        **kw,
    )


def test_of_tasks_uses_todays_risk_when_known_else_what_the_tasks_noted() -> None:
    tasks = [_task(risk=30, band="medium", value=20, risk_reasons=["2 failed payments"])]
    noted = priority.of_tasks(tasks, TODAY, 7)
    assert (noted.risk, noted.band, noted.value, noted.payment_failed) == (30, "medium", 20, True)
    live = Risk(70, "high", [RiskReason("scheduled_cancellation", 60, "Cancels on Jul 1")])
    today = priority.of_tasks(tasks, TODAY, 7, risk=live, value=99.0)
    assert (today.risk, today.band, today.value, today.payment_failed) == (70, "high", 99, False)
    late = priority.of_tasks([_task(due=TODAY - timedelta(days=8))], TODAY, 7)
    assert (
        late.overdue
        and not priority.of_tasks([_task(due=TODAY - timedelta(days=7))], TODAY, 7).overdue
    )


def test_must_show_is_a_high_risk_or_a_failed_payment_at_or_above_the_value() -> None:
    assert must_show(Priority(risk=60, band="high", value=100), 100)
    assert not must_show(Priority(risk=60, band="high", value=99.99), 100)
    assert must_show(Priority(risk=15, band="low", value=300, payment_failed=True), 100)
    assert not must_show(Priority(risk=45, band="medium", value=300), 100)


def test_select_keeps_every_pinned_item_and_fills_the_rest_by_rank() -> None:
    ranked = list(range(10))
    shown, waiting = select(ranked, 4, lambda n: n in (7, 9))
    assert shown == [0, 1, 7, 9] and waiting == [2, 3, 4, 5, 6, 8]
    assert select(ranked, None, lambda n: False) == (ranked, [])
    shown, waiting = select(ranked, 1, lambda n: n > 5)  # more pins than room
    assert shown == [6, 7, 8, 9] and waiting == [0, 1, 2, 3, 4, 5]


@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 100)), max_size=40),
    st.integers(0, 50),
)
def test_select_loses_nothing_and_keeps_the_order(items, limit) -> None:
    ranked = list(enumerate(items))
    shown, waiting = select(ranked, limit, lambda item: item[1][0])
    assert sorted(shown + waiting) == ranked
    assert shown == sorted(shown) and waiting == sorted(waiting)
    assert not any(pinned for _, (pinned, _) in waiting)
    assert len(shown) == max(min(limit, len(ranked)), sum(1 for i in ranked if i[1][0]))


@settings(max_examples=200, deadline=None)
@given(
    overdue=st.booleans(),
    risk=st.integers(0, 100),
    value=st.floats(0, 1e6, allow_nan=False),
    reached=st.none() | st.integers(-5, 400),
    due=st.integers(0, 90),
)
def test_the_key_from_facts_is_the_priority_key(overdue, risk, value, reached, due) -> None:
    # The sized plan keys every customer due without building a Priority (bot.sizing).
    today = date(2026, 6, 15)
    last = None if reached is None else today - timedelta(days=reached)
    first_due = today - timedelta(days=due)
    built = priority.Priority(overdue, risk, value=value, last_reached=last)
    assert priority.facts_key(
        overdue, risk, value, last, today, first_due, "cus_1"
    ) == priority.sort_key(built, today, first_due, "cus_1")
