"""The digest over several days: carry-over, claims on carried tasks, logs, snoozes, expiry.

The bot runs Monday to Wednesday on the fixed clock, posting each morning from its scheduler,
restarted between days. After every action every digest message in the fake Slack, today's and
earlier days', must show each of its tasks in its true state (a task listed by a later digest
shows as moved on), and every parent's counts must equal what its own thread shows.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

from bot.blocks import ids
from bot.digest_view import moved_on, task_state
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    TODAY,
    CareBot,
    add_checkins,
    add_subscriber,
    click,
    digest_messages,
    entry_buttons,
    entry_message,
    message_text,
    posted_record,
    tasks_of,
    wait_posted,
)

TUESDAY, WEDNESDAY = TODAY + timedelta(days=1), TODAY + timedelta(days=2)
TASK_ID = re.compile(r"`([a-z0-9]{5})`")
PROGRESS = re.compile(r"\*(\d+)\* (claimed|done|still open|expired|moved on)")
WORDS = {"still open": "open", "moved on": "moved"}


def shown_states(message: dict[str, Any]) -> dict[str, str]:
    """Each task id a Slack digest message shows, with the state it shows it in."""
    chunks: list[list[dict[str, Any]]] = [[]]
    for block in message.get("blocks", []):
        if block["type"] == "divider" or block.get("block_id", "").startswith(ids.BLOCK_CARRIED):
            chunks.append([])
        chunks[-1].append(block)
    states = {}
    for chunk in chunks:
        text = message_text({"blocks": chunk})
        if "Moved on" in text:
            state = "moved"
        elif ":wastebasket:" in text:
            state = "expired"
        elif ":white_check_mark:" in text:
            state = "done"
        elif "Claimed by" in text or ":raised_hand:" in text:
            state = "claimed"
        else:
            state = "open"
        states.update(dict.fromkeys(TASK_ID.findall(text), state))
    return states


def problems(bot: CareBot) -> list[str]:
    """Where Slack does not show the truth, for every posted digest."""
    found = []
    for record in bot.repos.digests.recent():
        if not record.parent_ts:
            continue
        shown: Counter[str] = Counter()
        for message in digest_messages(bot, record.date):
            in_slack = shown_states(bot.fake.message(DIGEST, message.ts) or {})
            for task_id in message.task_ids:
                task = bot.repos.tasks.require(task_id)
                truth = "moved" if moved_on(task, record.date) else task_state(task)
                if in_slack.get(task_id) != truth:
                    found.append(f"{record.date} {task_id}: Slack {in_slack.get(task_id)}, {truth}")
                shown[in_slack.get(task_id, "missing")] += 1
        parent = message_text(bot.fake.message(DIGEST, record.parent_ts) or {})
        counted = {WORDS.get(w, w): int(n) for n, w in PROGRESS.findall(parent)}
        expected = {k: v for k, v in shown.items() if v}
        if {k: v for k, v in counted.items() if v} != expected:
            found.append(f"{record.date} parent says {counted}, its thread shows {expected}")
    return found


def assert_truth(bot: CareBot) -> None:
    try:
        bot.fake.wait_for(lambda: not problems(bot), timeout=10)
    except AssertionError:
        raise AssertionError("\n".join(problems(bot))) from None


def command(bot: CareBot, text: str, user: str = "U1") -> str:
    status, _, body = bot.sender.command(text, user_id=user)
    assert status == 200, body
    return str(json.loads(body)["text"])


def morning(bots: Any, before: CareBot, day: date) -> CareBot:
    """Stop the bot, move the clock to 09:30 on `day`, start it; its scheduler posts the digest."""
    before.stop()
    before.clock.advance(days=(day - before.clock.now().date()).days)
    bot = bots(clock=before.clock, data_dir=before.data_dir)
    bot.runtime.scheduler.run_all()
    wait_posted(bot, day)
    return bot


def carried_lines(bot: CareBot, day: date) -> list[str]:
    [first, *_] = digest_messages(bot, day)
    assert first.carried
    message = bot.fake.message(DIGEST, first.ts) or {}
    return [
        b["text"]["text"]
        for b in message["blocks"]
        if b.get("block_id", "").startswith(ids.BLOCK_CARRIED)
    ]


def test_three_days_every_message_and_parent_shows_the_truth(bots):
    monday = bots()
    add_checkins(monday.repos, 8)  # cus_000..007, day-30 check-ins due Monday
    add_subscriber(  # its check-in was due 13 days ago: in window until Tuesday
        monday.repos, "cus_old", "Olga Old", "olga@example.com", DAY_30 - timedelta(days=13)
    )
    monday.runtime.scheduler.run_all()
    wait_posted(monday)
    t = {sid: tasks_of(monday.repos, sid)[0].id for sid in [f"cus_{i:03d}" for i in range(8)]}
    old = tasks_of(monday.repos, "cus_old")[0].id
    assert_truth(monday)

    click(monday, ids.ACTION_CLAIM, t["cus_000"], user="U2")
    assert_truth(monday)
    assert "Closed" in command(monday, f"done {t['cus_001']}")
    assert "Snoozed" in command(monday, f"snooze {t['cus_002']} 3")
    assert "Logged" in command(monday, f"log {t['cus_003']} call reached")
    assert_truth(monday)

    # Tuesday: a restart, two new check-ins; Monday's open work is carried over compactly.
    tuesday_date = TUESDAY - timedelta(days=30)
    for i in range(2):
        add_subscriber(monday.repos, f"new_{i}", f"New {i}", f"n{i}@example.com", tuesday_date)
    tuesday = morning(bots, monday, TUESDAY)
    messages = digest_messages(tuesday, TUESDAY)
    carried = [t_id for m in messages if m.carried for t_id in m.task_ids]
    assert carried[0] == old  # oldest first
    assert set(carried) == {old, *(t[f"cus_{i:03d}"] for i in (0, 4, 5, 6, 7))}
    assert len([m for m in messages if m.carried]) == 1
    assert [m.kind for m in messages if not m.carried] == ["checkin_30"]  # only the new ones
    assert "Claimed by" not in message_text(entry_message(tuesday, t["cus_000"]))  # compact
    assert "<@U2>" in carried_lines(tuesday, TUESDAY)[-5]  # cus_000's line, after cus_old
    parent = message_text(tuesday.fake.message(DIGEST, posted_record(tuesday, TUESDAY).parent_ts))
    assert "still open from earlier days: *6*" in parent
    assert_truth(tuesday)

    # Claims on carried tasks edit Tuesday's message and parent, never Monday's again.
    monday_record = posted_record(tuesday, TODAY)
    monday_edits = len(tuesday.fake.edits(DIGEST, monday_record.parent_ts))
    assert "You claimed" in command(tuesday, f"claim {t['cus_004']}", user="U3")
    assert_truth(tuesday)
    click(tuesday, ids.ACTION_CLAIM, t["cus_005"], user="U1")
    tuesday.fake.wait_for(lambda: "<@U1>" in "".join(carried_lines(tuesday, TUESDAY)))
    assert "Released" in command(tuesday, f"release {t['cus_000']}", user="U2")
    assert_truth(tuesday)
    assert "*0* claimed" not in message_text(
        tuesday.fake.message(DIGEST, posted_record(tuesday, TUESDAY).parent_ts)
    )
    assert len(tuesday.fake.edits(DIGEST, monday_record.parent_ts)) == monday_edits
    assert "Logged" in command(tuesday, f"log {t['cus_005']} email no answer", user="U1")
    assert "Snoozed" in command(tuesday, f"snooze {t['cus_006']} 1", user="U1")
    assert_truth(tuesday)
    log_reply = tuesday.fake.thread(DIGEST, posted_record(tuesday, TUESDAY).parent_ts)[-1]
    assert "<@U1>" in message_text(log_reply)  # the log went to Tuesday's thread

    # Wednesday: cus_old's window ended (expired, shown so on Tuesday), cus_006 is back.
    wednesday = morning(bots, tuesday, WEDNESDAY)
    assert wednesday.repos.tasks.require(old).status == "expired"
    carried = [
        t_id for m in digest_messages(wednesday, WEDNESDAY) if m.carried for t_id in m.task_ids
    ]
    assert old not in carried and t["cus_005"] not in carried
    assert {t["cus_000"], t["cus_004"], t["cus_006"], t["cus_007"]} <= set(carried)
    assert_truth(wednesday)
    claim = entry_buttons(entry_message(wednesday, t["cus_007"]), t["cus_007"])
    assert ids.ACTION_CLAIM in claim
    click(wednesday, ids.ACTION_CLAIM, t["cus_007"], user="U3")
    assert "Closed" in command(wednesday, f"done {t['cus_004']}", user="U3")
    assert_truth(wednesday)
    assert wednesday.fake.violations == []
