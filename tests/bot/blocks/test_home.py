"""The App Home tab."""

from __future__ import annotations

from bot.blocks import ids
from bot.blocks.cards import Stats
from bot.blocks.home import build_home
from bot.blocks.limits import check_message, walk_strings
from bot.priority import Priority
from bot.queue import WorkEntry
from tests.bot.blocks.factories import (
    ALICE,
    HOSTILE,
    NOW,
    TODAY,
    TZ,
    assert_no_markup_from_input,
    claimed,
    entry,
    subscriber,
    task,
)


def _entries(n: int, prefix: str) -> list:
    return [
        entry(task(f"{prefix}{i}"), sub=subscriber(name=f"Customer {prefix}{i}", id=f"c{i}"))
        for i in range(n)
    ]


def test_home_shows_my_tasks_unclaimed_tasks_and_the_week() -> None:
    mine = [claimed(e) for e in _entries(2, "m")]
    stats = Stats(period_days=7, due=12, claimed=8, done=5, per_manager={ALICE: {"done": 5}})
    view = build_home(ALICE, mine, _entries(3, "u"), stats, NOW, TZ)
    check_message(view)
    assert view["type"] == "home"
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == [
        "Proactive Care",
        "Your claimed tasks (2)",
        "Unclaimed today (3)",
        "Waiting in the queue (0)",
        "The team this week",
        "Care, last 30 days",
    ]
    assert "Computed once a day, after today's digest is posted" in str(view["blocks"][-1])
    soon = build_home(ALICE, mine, [], stats, NOW, TZ, headline_soon=True)
    assert "they appear here within the hour" in str(soon["blocks"][-1])
    accessories = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    assert accessories[0]["action_id"] == ids.ACTION_HOME_REFRESH
    assert [a["action_id"] for a in accessories[1:3]] == [ids.ACTION_LOG] * 2
    assert [a["action_id"] for a in accessories[3:]] == [ids.ACTION_CLAIM] * 3
    assert accessories[3]["value"] == "u0"
    text = "\n".join(t for _, t in walk_strings(view))
    assert "*12* came due" in text and f"<@{ALICE}>: 5 done" in text


def test_home_with_hundreds_of_tasks_stays_under_100_blocks() -> None:
    view = build_home(
        ALICE, [claimed(e) for e in _entries(300, "m")], _entries(300, "u"), None, NOW, TZ
    )
    check_message(view)
    assert len(view["blocks"]) <= 100
    contexts = [b["elements"][0]["text"] for b in view["blocks"] if b["type"] == "context"]
    assert sum("and 280 more" in c for c in contexts) == 2


def test_empty_home_says_what_to_do() -> None:
    view = build_home(ALICE, [], [], None, NOW, TZ)
    text = "\n".join(t for _, t in walk_strings(view))
    assert "Nothing claimed" in text and "Everything in today's digest is claimed" in text
    check_message(view)


def test_home_shows_the_care_headline_numbers() -> None:
    lines = ["Churn rate: *3.0%* (of 1,000)", "NPS: _n/a (no NPS answers in the period)_"]
    view = build_home(ALICE, [], [], None, NOW, TZ, headline=lines, headline_at=NOW)
    check_message(view)
    text = str(view["blocks"])
    assert "Churn rate: *3.0%* (of 1,000)" in text and "no NPS answers" in text
    assert "As of Mon Jun 15, 10:00. `/care report`" in text  # 14:00 UTC in New York


def test_queue_rows_show_value_risk_and_why_in_the_order_given() -> None:
    high = WorkEntry(
        subscriber(name=HOSTILE, id="c1"),
        [task("aaaa1", risk_score=75)],
        Priority(risk=75, band="high", value=49.0),
        "churn_risk",
    )
    old = WorkEntry(
        subscriber(name="Bo", id="c2", subscriptions=[]),
        [task("bbbb2", kind="checkin_30", risk_score=0, risk_reasons=[], value=19.0)],
        Priority(overdue=True, value=19.0, last_reached=TODAY.replace(day=1)),
        "checkin_30",
    )
    view = build_home(ALICE, [], [], None, NOW, TZ, queued=[old, high], totals=(0, 0, 40))
    check_message(view)
    assert_no_markup_from_input(view)
    text = "\n".join(t for _, t in walk_strings(view))
    queue = text.partition("Waiting in the queue (40)")[2]
    first, second = queue.index("`bbbb2`"), queue.index("`aaaa1`")
    assert first < second  # the order given, not re-sorted
    assert "19/mo  ·  overdue  ·  last reached 14 days ago" in queue
    assert "$49/mo  ·  risk 75 high  ·  never reached" in queue
    assert "and 38 more: `/care queue` lists them" in queue
