"""Every list a manager reads follows bot.priority: `/care mine`, the App Home, `/care triage`.

Overdue first, then risk, then value at stake, then longest since the customer was last
reached; high churn risk above `[digest] must_show_value` is never pushed off the Home page.
"""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta

from bot.models import Outreach, Task
from handlers.home import MAX_ROWS
from tests.bot.inbox.mail import make_email
from tests.handlers.conftest import (
    MONDAY_MORNING,
    TODAY,
    CareBot,
    add_subscriber,
    message_text,
    start_bot,
)
from tests.handlers.test_triage import SECRET, post_inbox
from tests.slackreq import app_home_opened

LONG_AGO = date(2025, 1, 10)  # no lifecycle milestone near today


def put_task(
    bot: CareBot,
    sid: str,
    kind: str = "checkin_30",
    *,
    due: date = TODAY,
    risk: int = 0,
    value: float = 20.0,
    amount: float | None = None,
) -> Task:
    """A customer worth `amount` (default `value`) a month with one open task."""
    add_subscriber(
        bot.repos,
        sid,
        f"Name {sid}",
        f"{sid}@example.com",
        LONG_AGO,
        amount=value if amount is None else amount,
    )
    band = "high" if risk >= 60 else "medium" if risk >= 30 else "low"
    key = f"{sid}:{kind}"
    task = Task(
        id=bot.repos.tasks.new_id(key),
        key=key,
        kind=kind,
        subscriber_id=sid,
        due=due,
        created_at=MONDAY_MORNING - timedelta(days=1),
        reason=f"{kind} due",
        risk_score=risk,
        risk_band=band,
        risk_reasons=[f"risk reason of {sid}"] if risk else [],
        value=value,
    )
    assert bot.repos.tasks.create(task)
    return task


def reached(bot: CareBot, sid: str, days_ago: int) -> None:
    at = MONDAY_MORNING - timedelta(days=days_ago)
    bot.repos.outreach.add(
        Outreach(
            id=f"o_{sid}",
            subscriber_id=sid,
            task_id="",
            by="U1",
            channel="call",
            outcome="reached",
            at=at,
        )
    )


def home_text(bot: CareBot, user: str = "U1") -> str:
    before = len(bot.fake.calls("views.publish"))
    assert bot.sender.event(app_home_opened(user))[0] == 200
    bot.fake.wait_for(lambda: len(bot.fake.calls("views.publish")) > before)
    return message_text(bot.fake.home(user) or {})


def test_care_mine_lists_claimed_work_overdue_then_risk_value_and_time_since_reached(care_bot):
    bot = care_bot
    tasks = {
        "recent": put_task(bot, "c_recent", value=50),
        "never": put_task(bot, "c_never", value=50),
        "rich": put_task(bot, "c_rich", value=400),
        "risky": put_task(bot, "c_risky", "churn_risk", risk=45, value=5),
        "late": put_task(bot, "c_late", due=TODAY - timedelta(days=9), value=1),
    }
    reached(bot, "c_recent", 3)
    for task in tasks.values():
        status, _, body = bot.sender.command(f"claim {task.id}", user_id="U2")
        assert status == 200 and "You claimed" in body
    status, _, body = bot.sender.command("mine", user_id="U2")
    text = message_text(json.loads(body))
    order = sorted(tasks, key=lambda name: text.index(f"`{tasks[name].id}`"))
    assert order == ["late", "risky", "rich", "never", "recent"]


def test_home_lists_by_priority_with_value_and_keeps_churn_risk_on_the_page(care_bot):
    bot = care_bot
    # More overdue low-value check-ins than a page holds, then two churn risks due today.
    late = [
        put_task(bot, f"c_late{i:02d}", due=TODAY - timedelta(days=9), value=10 + i)
        for i in range(MAX_ROWS + 5)
    ]
    churn = put_task(bot, "c_churn", "churn_risk", risk=80, value=350)
    small = put_task(bot, "c_small", "churn_risk", risk=80, value=20)  # below must_show_value
    text = home_text(bot)
    queue = text.partition(f"Waiting in the queue ({len(late) + 2})")[2]
    assert f"`{churn.id}`" in queue  # pinned: high risk worth $350/mo
    assert f"`{small.id}`" not in queue  # below the must-show value: ranked after the overdue
    assert "$350/mo  ·  risk 80 high  ·  never reached" in queue
    assert "Risk :red_circle: 80 (high)" in queue
    shown = [t for t in late if f"`{t.id}`" in queue]
    assert len(shown) == MAX_ROWS - 1  # the churn risk took one row of the page
    # Overdue first, most valuable first among them.
    positions = [queue.index(f"`{t.id}`") for t in sorted(shown, key=lambda t: -t.value)]
    assert positions == sorted(positions)
    assert queue.index(f"`{shown[-1].id}`") < queue.index(f"`{churn.id}`")
    assert "and 7 more: `/care queue` lists them" in queue


def test_triage_lists_overdue_then_risky_then_valuable(fake_slack, tmp_path):
    from bot.clock import FixedClock

    bot = start_bot(
        fake_slack,
        tmp_path / "data",
        FixedClock(MONDAY_MORNING),
        CARE_TRIAGE_CHANNEL="C0TRIAGE",
        INBOX_WEBHOOK_SECRET=SECRET,
    )
    try:
        add_subscriber(bot.repos, "c_cheap", "Cheap", "cheap@example.com", LONG_AGO, amount=9)
        add_subscriber(bot.repos, "c_rich", "Rich", "rich@example.com", LONG_AGO, amount=300)
        add_subscriber(
            bot.repos,
            "c_leaving",
            "Leaving",
            "leaving@example.com",
            LONG_AGO,
            amount=15,
            cancel_at_period_end=True,
            current_period_end=TODAY + timedelta(days=9),
        )
        mails = [
            ("First, from cheap", "Cheap <cheap@example.com>"),
            ("Later, from rich", "Rich <rich@example.com>"),
            ("Later still, leaving", "Leaving <leaving@example.com>"),
        ]
        for n, (subject, sender) in enumerate(mails):
            sent = (
                "Mon, 15 Jun 2026 13:30:00 +0000" if n == 0 else "Mon, 15 Jun 2026 16:00:00 +0000"
            )
            email = make_email(subject=subject, sender=sender, message_id=f"<m{n}@x>", date=sent)
            status, _ = post_inbox(bot, email)
            assert status == 200
            if n == 0:
                bot.clock.advance(minutes=150)  # the first one waits past its reminder
        status, _, body = bot.sender.command("triage", user_id="U1")
        text = message_text(json.loads(body))
        order = sorted(mails, key=lambda m: text.index(m[0]))
        assert [s for s, _ in order] == [
            "First, from cheap",  # overdue: waited past its reminder
            "Later still, leaving",  # high risk: a scheduled cancellation
            "Later, from rich",  # then value
        ]
    finally:
        bot.stop()


def test_last_reached_counts_the_teams_days_not_utc_days(care_bot):
    # The team is in New York. Both customers were reached yesterday, New York time: one in
    # the morning, one at 21:00, which is already today in UTC. Both were reached one day
    # ago, so they tie, and the tie falls to the customer's id.
    bot = care_bot
    evening, morning = put_task(bot, "c_a_evening"), put_task(bot, "c_b_morning")
    for sid, hours_ago in (("c_a_evening", 12.5), ("c_b_morning", 23.5)):
        at = MONDAY_MORNING - timedelta(hours=hours_ago)
        bot.repos.outreach.add(
            Outreach(
                id=f"o_{sid}", subscriber_id=sid, task_id="", by="U1", channel="call",
                outcome="reached", at=at,
            )
        )  # fmt: skip
    assert (MONDAY_MORNING - timedelta(hours=12.5)).astimezone(UTC).date() == TODAY

    text = home_text(bot)
    assert text.count("last reached 1 days ago") == 2 and "last reached 0 days" not in text
    for task in (evening, morning):
        assert bot.sender.command(f"claim {task.id}", user_id="U2")[0] == 200
    status, _, body = bot.sender.command("mine", user_id="U2")
    text = message_text(json.loads(body))
    assert text.index(f"`{evening.id}`") < text.index(f"`{morning.id}`")
