"""A digest sized to the team, and the queue beyond it, over several days (issue 13 item 1).

Two managers with a capacity of 2 touches a day: 4 unclaimed entries are posted each day (plus
must-show ones and claimed work), the rest wait in the queue. The bot runs on the movable clock
with restarts between days; everything is driven by signed requests against the fake Slack.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.blocks import ids
from bot.models import TASK_CLAIMED, TASK_EXPIRED
from config.settings import DEFAULT_CONFIG
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    TODAY,
    CareBot,
    add_checkins,
    add_subscriber,
    click,
    digest_messages,
    message_text,
    posted_record,
    tasks_of,
    wait_posted,
)
from tests.slackreq import app_home_opened
from tests.stored import edit_stored

TUESDAY = TODAY + timedelta(days=1)
EXPIRED_BY = TODAY + timedelta(days=16)  # Wednesday 1 July: due + 14 days has passed
TASK_ID = re.compile(r"`([a-z0-9]{5})`")


def team_env(tmp_path: Path, capacity: int = 2, must_show_value: int = 100) -> dict[str, str]:
    """Two managers (U1, U2), `capacity` touches each a day."""
    text = DEFAULT_CONFIG.read_text()
    text = text.replace("capacity = 15", f"capacity = {capacity}")
    text = text.replace("must_show_value = 300 ", f"must_show_value = {must_show_value} ")
    path = tmp_path / "care.toml"
    path.write_text(text)
    return {"CARE_CONFIG": str(path), "CARE_MANAGERS": "U1,U2"}


def command(bot: CareBot, text: str, user: str = "U1") -> dict[str, Any]:
    status, _, body = bot.sender.command(text, user_id=user)
    assert status == 200, body
    return dict(json.loads(body))


def queue_ids(bot: CareBot, kind: str = "") -> list[str]:
    """The task ids `/care queue` lists, in its order."""
    reply = command(bot, f"queue {kind}".strip())
    return [
        b["accessory"]["value"]
        for b in reply["blocks"]
        if b.get("accessory", {}).get("action_id") == ids.ACTION_CLAIM
    ]


def posted_subscribers(bot: CareBot, day: date) -> set[str]:
    return {
        bot.repos.tasks.require(t).subscriber_id
        for m in digest_messages(bot, day)
        for t in m.task_ids
    }


def parent_text(bot: CareBot, day: date) -> str:
    record = posted_record(bot, day)
    assert record is not None
    return message_text(bot.fake.message(DIGEST, record.parent_ts) or {})


def home_text(bot: CareBot, user: str) -> str:
    before = len(bot.fake.calls("views.publish"))
    status, _, _ = bot.sender.event(app_home_opened(user))
    assert status == 200
    bot.fake.wait_for(lambda: len(bot.fake.calls("views.publish")) > before)
    return message_text(bot.fake.home(user) or {})


def next_morning(bots: Any, before: CareBot, day: date, env: dict[str, str]) -> CareBot:
    before.stop()
    before.clock.advance(days=(day - before.clock.now().date()).days)
    bot = bots(clock=before.clock, data_dir=before.data_dir, **env)
    bot.runtime.scheduler.run_all()
    wait_posted(bot, day)
    return bot


def seed(bot: CareBot) -> None:
    """Eight day-30 check-ins worth $10 to $17 a month; two high churn risks (scheduled
    cancellations), one worth $150 (must show), one worth $20."""
    add_checkins(bot.repos, 8)
    long_ago = DAY_30 - timedelta(days=300)
    for sid, amount in (("cus_rich", 150.0), ("cus_poor", 20.0)):
        add_subscriber(
            bot.repos,
            sid,
            sid.replace("_", " ").title(),
            f"{sid}@example.com",
            long_ago,
            amount=amount,
            cancel_at_period_end=True,
            current_period_end=TODAY + timedelta(days=14),  # the save task is due today
        )


def test_a_digest_sized_to_the_team_with_the_rest_in_the_queue_over_days(bots, tmp_path):
    env = team_env(tmp_path)
    monday = bots(**env)
    seed(monday)
    monday.runtime.scheduler.run_all()
    wait_posted(monday)
    ids_of = {
        sid: tasks_of(monday.repos, sid)[0].id
        for sid in ["cus_rich", "cus_poor", *(f"cus_{i:03d}" for i in range(8))]
    }

    # 2 managers x 2 = 4 entries: both high risks, then the most valuable check-ins.
    assert posted_subscribers(monday, TODAY) == {"cus_rich", "cus_poor", "cus_007", "cus_006"}
    parent = parent_text(monday, TODAY)
    assert "*6 more due* (6 customers) wait in the queue" in parent
    assert "`/care queue`" in parent and "expire" in parent

    # The queue: the rest, most valuable first; by kind; an unknown kind is explained.
    queued = [ids_of[f"cus_{i:03d}"] for i in (5, 4, 3, 2, 1, 0)]
    assert queue_ids(monday) == queued
    assert queue_ids(monday, "checkin") == queued
    assert "Nothing waits in the queue" in str(command(monday, "queue churn_risk"))
    assert "Which kind?" in str(command(monday, "queue parrots"))

    # The App Home lists the same queue in the same order, with value and why.
    home = home_text(monday, "U1")
    waiting = home.partition("Waiting in the queue (6)")[2]
    assert [i for i in TASK_ID.findall(waiting)] == queued
    assert "$15/mo  ·  never reached" in waiting

    # Claiming from the queue works as from the digest: by command and by its button.
    assert "You claimed" in str(command(monday, f"claim {ids_of['cus_005']}"))
    reply = command(monday, "queue", user="U2")
    button = next(b["accessory"] for b in reply["blocks"] if "accessory" in b)
    assert button["value"] == ids_of["cus_004"]
    status, _, _ = monday.sender.action(
        ids.ACTION_CLAIM, button["value"], user_id="U2", channel_id="C1"
    )
    assert status == 200
    monday.fake.wait_for(
        lambda: monday.repos.tasks.require(ids_of["cus_004"]).status == TASK_CLAIMED
    )
    assert monday.repos.tasks.require(ids_of["cus_005"]).claimed_by == "U1"
    assert queue_ids(monday) == queued[2:]
    click(monday, ids.ACTION_CLAIM, ids_of["cus_006"], user="U2")  # from the digest

    # Tuesday: claimed work is posted whatever the bound; 4 unclaimed entries besides it.
    tuesday = next_morning(bots, monday, TUESDAY, env)
    posted = posted_subscribers(tuesday, TUESDAY)
    assert {"cus_006", "cus_005", "cus_004"} <= posted  # claimed
    assert posted - {"cus_006", "cus_005", "cus_004"} == {
        "cus_rich",
        "cus_poor",
        "cus_007",
        "cus_003",
    }
    assert queue_ids(tuesday) == [ids_of[f"cus_{i:03d}"] for i in (2, 1, 0)]
    assert "*3 more due* (3 customers)" in parent_text(tuesday, TUESDAY)

    # Two weeks on, what stayed in the queue unhandled has expired, and is counted.
    later = next_morning(bots, tuesday, EXPIRED_BY, env)
    left = [ids_of[f"cus_{i:03d}"] for i in (2, 1, 0)]
    assert all(later.repos.tasks.require(t).status == TASK_EXPIRED for t in left)
    assert queue_ids(later) == []
    expired = sum(1 for t in later.repos.tasks.all() if t.status == TASK_EXPIRED)
    assert expired >= len(left)
    assert f"*{expired}* expired" in str(command(later, "stats 30d"))


def test_must_show_entries_are_posted_past_the_bound(bots, tmp_path):
    env = team_env(tmp_path, capacity=1, must_show_value=15)
    bot = bots(**env)
    seed(bot)
    bot.runtime.scheduler.run_all()
    wait_posted(bot)
    # A bound of 2: both high risks are worth $15 or more, so both are posted, and nothing else.
    assert posted_subscribers(bot, TODAY) == {"cus_rich", "cus_poor"}
    assert "*8 more due* (8 customers)" in parent_text(bot, TODAY)


def test_without_a_bound_everything_is_posted_and_nothing_queues(bots, tmp_path):
    env = team_env(tmp_path, capacity=0)
    bot = bots(**env)
    seed(bot)
    bot.runtime.scheduler.run_all()
    wait_posted(bot)
    assert len(posted_subscribers(bot, TODAY)) == 10
    assert "more due" not in parent_text(bot, TODAY)
    assert queue_ids(bot) == []


def test_the_queue_mine_and_home_list_the_others_beside_damaged_records(bots, tmp_path):
    """Hand edits that still read as their models (an unknown kind, a year-1 due date or
    claim, a zero billing interval, a price of 1e308): every list keeps answering."""
    env = team_env(tmp_path, capacity=1)
    bot = bots(**env)
    add_checkins(bot.repos, 6)
    bot.runtime.scheduler.run_all()
    wait_posted(bot)
    task_of = {i: tasks_of(bot.repos, f"cus_{i:03d}")[0].id for i in range(6)}
    for i in (5, 4):  # the two posted (most valuable): U1's
        command(bot, f"claim {task_of[i]}")
    bot.stop()
    subscription = {"interval_count": 0, "amount": 1e308}
    edit_stored(bot.data_dir, "tasks", task_of[4], claimed_at="0001-01-01T00:00:00Z")
    edit_stored(bot.data_dir, "tasks", task_of[2], kind="zzz", risk_band="<!channel>")
    edit_stored(bot.data_dir, "tasks", task_of[1], due="0001-01-01")
    edit_stored(bot.data_dir, "subscribers", "cus_000", first_started="9999-12-31")
    edit_stored(
        bot.data_dir, "subscribers", "cus_001", lambda d: d["subscriptions"][0].update(subscription)
    )
    bot = bots(clock=bot.clock, data_dir=bot.data_dir, **env)

    queued = message_text(command(bot, "queue"))
    mine = message_text(command(bot, "mine"))
    home = home_text(bot, "U1")

    assert "Customer 003" in queued and "Customer 005" in mine and "Customer 004" in mine
    assert "Customer 003" in home and "Customer 005" in home
