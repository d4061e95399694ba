"""The daily digest end to end: `/care digest now` against the fake Slack, exactly once.

Posting, a second `/care digest now`, restarts, crashes between a post and its record,
Slack failing past the client's retries, 429 with Retry-After, and a 200-task digest.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta

import pytest

from bot.blocks import ids
from bot.blocks.limits import MAX_BLOCKS_MESSAGE, MAX_SECTION_TEXT
from bot.posting import POST_ATTEMPTS
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    TODAY,
    CareBot,
    add_checkins,
    add_subscriber,
    digest_messages,
    digest_task_ids,
    entry_buttons,
    join_digest_jobs,
    message_text,
    post_digest,
    posted_record,
    thread_replies,
    wait_posted,
)


def _seed(bot: CareBot) -> None:
    """Two day-30 check-ins, one churn risk with an owner, one customer with both."""
    repos = bot.repos
    add_checkins(repos, 2)
    add_subscriber(
        repos,
        "cus_risk",
        "Rita Risk",
        "rita@example.com",
        TODAY - timedelta(days=200),
        plan="Gold Box",
        amount=89.0,
        owner="Dana Owner",
        cancel_at_period_end=True,
    )
    add_subscriber(
        repos, "cus_both", "Bo Both", "bo@example.com", DAY_30, cancel_at_period_end=True
    )


def _digest_keys(bot: CareBot) -> Counter[str]:
    """How many messages in the digest channel (threads included) carry each metadata key."""
    history = []
    for top in bot.fake.messages(DIGEST):
        history.extend(bot.fake.thread(DIGEST, top["ts"]))
    return Counter(
        m["metadata"]["event_payload"]["key"]
        for m in history
        if (m.get("metadata") or {}).get("event_type") == "care_digest"
    )


def _assert_posted_once_and_recorded(bot: CareBot) -> None:
    record = posted_record(bot)
    assert record is not None
    keys = _digest_keys(bot)
    messages = digest_messages(bot)
    expected = {f"{TODAY}:parent"} | {f"{TODAY}:{i}" for i in range(len(messages))}
    assert set(keys) == expected
    assert all(n == 1 for n in keys.values()), f"posted twice: {keys}"
    replies = {m["ts"] for m in thread_replies(bot, record)}
    assert {m.ts for m in messages} == replies
    for task_id in digest_task_ids(bot):
        task = bot.repos.tasks.require(task_id)
        assert task.slack["ts"] in replies and task.slack["thread_ts"] == record.parent_ts


def test_digest_now_posts_parent_with_date_counts_and_instructions(care_bot):
    _seed(care_bot)
    record = post_digest(care_bot)

    parents = care_bot.fake.messages(DIGEST)
    assert [m["ts"] for m in parents] == [record.parent_ts]
    text = message_text(parents[0])
    assert "Monday Jun 15" in text
    assert "5 proactive touches due today" in text
    assert "Churn risk: *2*" in text and "Check-ins: *3*" in text
    assert "*0* claimed" in text and "*5* still open" in text
    assert "/care claim" in text and "Log outreach" in text


def test_thread_replies_group_entries_by_kind_with_everything_a_manager_needs(care_bot):
    _seed(care_bot)
    record = post_digest(care_bot)
    replies = thread_replies(care_bot, record)

    assert [m.kind for m in digest_messages(care_bot)] == ["churn_risk", "checkin_30"]
    assert len(replies) == 2
    assert replies[0]["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Churn risk"},
    }
    assert "check-in" in replies[1]["blocks"][0]["text"]["text"]
    risky = message_text(replies[0])
    assert "*Rita Risk*  ·  rita@example.com" in risky
    assert "Gold Box" in risky and "customer for 6 mo" in risky and "$89/mo" in risky
    assert "owner Dana Owner" in risky
    # Why now in one line (the churn task's band), then the evidence: each reason said once.
    assert ":rotating_light: *Churn risk* :red_circle: 60 (high), due today" in risky
    assert "*Evidence*\n• Scheduled to cancel at the end of the period" in risky
    assert risky.count("Scheduled to cancel at the end of the period") == 2  # Rita, Bo: once each
    assert "Churn risk: Churn risk" not in risky and "*Risk*" not in risky
    for task_id in digest_task_ids(care_bot):
        message = care_bot.fake.message(DIGEST, care_bot.repos.tasks.require(task_id).slack["ts"])
        buttons = entry_buttons(message, task_id)
        assert set(buttons) == {
            ids.ACTION_CLAIM,
            ids.ACTION_LOG,
            ids.ACTION_EMAIL,
            ids.ACTION_SNOOZE,
        }
        assert [b["text"]["text"] for b in buttons.values() if b["type"] == "button"] == [
            "Claim",
            "Log outreach",
            "Email",
        ]
        assert f"`{task_id}`" in message_text(message)


def test_one_customer_with_two_tasks_is_one_entry_with_both_ids_on_its_buttons(care_bot):
    _seed(care_bot)
    post_digest(care_bot)
    both = sorted(t.id for t in care_bot.repos.tasks.for_subscriber("cus_both"))
    assert len(both) == 2
    messages = digest_messages(care_bot)
    assert sorted(next(e for m in messages for e in m.entries if both[0] in e)) == both
    message = care_bot.fake.message(DIGEST, messages[0].ts)
    claim = entry_buttons(message, both[0])[ids.ACTION_CLAIM]
    assert sorted(ids.decode_ids(claim["value"])) == both


def test_second_digest_now_posts_nothing_and_says_where_the_digest_is(care_bot):
    _seed(care_bot)
    record = post_digest(care_bot)
    posts = len(care_bot.fake.calls("chat.postMessage"))

    status, _, body = care_bot.sender.command("digest now", user_id="U2")

    assert status == 200
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    assert "already posted" in answer["text"]
    permalink = f"/archives/{DIGEST}/p{record.parent_ts.replace('.', '')}"
    assert permalink in json.dumps(answer["blocks"])
    assert len(care_bot.fake.calls("chat.postMessage")) == posts


def test_restart_on_the_same_data_does_not_post_the_digest_again(bots):
    first = bots()
    _seed(first)
    post_digest(first)
    posts = len(first.fake.calls("chat.postMessage"))
    first.stop()

    second = bots(clock=first.clock, data_dir=first.data_dir)
    second.runtime.scheduler.run_all()  # what run_bot does at start: catch up a missed digest
    status, _, body = second.sender.command("digest now")

    assert status == 200 and "already posted" in body
    join_digest_jobs(second)
    assert len(second.fake.calls("chat.postMessage")) == posts
    _assert_posted_once_and_recorded(second)


@pytest.mark.parametrize(
    ("write", "fail_at", "posted"),
    [("save", 2, 1), ("save_message", 2, 3)],
    ids=["after-parent", "after-a-reply"],
)
def test_crash_between_a_post_and_its_record_resumes_without_posting_twice(
    bots, monkeypatch, write, fail_at, posted
):
    """The day's record is saved before posting and after the parent (`save`), each reply's
    document right after its post (`save_message`): crash at the n-th of one of them."""
    first = bots()
    add_checkins(first.repos, 12)  # 3 replies of 5, 5, 2 entries
    real_save = getattr(first.repos.digests, write)
    saves = Counter[str]()

    def save_then_crash(record):  # noqa: ANN001, ANN202
        saves["n"] += 1
        if saves["n"] == fail_at:
            raise RuntimeError("killed between chat.postMessage and writing its ts")
        return real_save(record)

    monkeypatch.setattr(first.repos.digests, write, save_then_crash)
    with pytest.raises(RuntimeError, match="killed"):
        first.publisher.publish()
    posted_before = len(first.fake.calls("chat.postMessage"))
    assert posted_before == posted  # the message whose ts was lost is in Slack
    first.stop()

    second = bots(clock=first.clock, data_dir=first.data_dir)
    second.runtime.scheduler.run_all()
    wait_posted(second)

    assert len(second.fake.calls("chat.postMessage")) == 4  # parent + 3 replies, once each
    _assert_posted_once_and_recorded(second)


def _fail_at_waits(bot: CareBot, faults: dict[int, dict]) -> None:
    """Inject `fail_next(**faults[n])` just before the publisher's n-th paced post (1-based)."""
    waits = Counter[str]()
    real_wait = bot.publisher.pacer.wait

    def wait(channel: str) -> None:
        waits["n"] += 1
        if waits["n"] in faults:
            bot.fake.fail_next("chat.postMessage", **faults[waits["n"]])
        real_wait(channel)

    bot.publisher.pacer.wait = wait


def test_slack_failing_past_the_retries_stops_posting_and_the_next_turn_completes(care_bot):
    add_checkins(care_bot.repos, 12)
    # parent and first reply are out; then Slack answers 500 to every try of the next one
    _fail_at_waits(care_bot, {3: {"status": 500, "times": POST_ATTEMPTS}})
    care_bot.runtime.scheduler.run_all()
    failures = lambda: [c for c in care_bot.fake.calls("chat.postMessage") if c.status == 500]  # noqa: E731
    care_bot.fake.wait_for(lambda: len(failures()) == POST_ATTEMPTS)
    join_digest_jobs(care_bot)
    assert posted_record(care_bot) is None
    assert sum(_digest_keys(care_bot).values()) == 2

    care_bot.runtime.scheduler.run_all()  # the 5-minute catch-up turn
    wait_posted(care_bot)
    join_digest_jobs(care_bot)

    _assert_posted_once_and_recorded(care_bot)
    assert sum(_digest_keys(care_bot).values()) == 4


def test_messages_slack_stored_before_answering_500_or_losing_the_answer_are_posted_once(
    care_bot,
):
    add_checkins(care_bot.repos, 25)  # parent + 5 replies
    stored_then_500 = {"status": 500, "after_store": True}
    stored_then_lost = {"disconnect": True, "after_store": True}
    _fail_at_waits(
        care_bot,
        {
            1: stored_then_500,
            2: stored_then_500,
            3: stored_then_lost,
            5: stored_then_500,
            6: stored_then_500,
        },
    )

    post_digest(care_bot)

    _assert_posted_once_and_recorded(care_bot)
    assert sum(_digest_keys(care_bot).values()) == 6
    calls = care_bot.fake.calls("chat.postMessage")
    assert [c.status for c in calls].count(500) == 4
    assert len(calls) == 6, "a message Slack had stored was posted again"
    assert len(care_bot.fake.calls("conversations.replies")) >= 4  # looked before re-posting


def test_a_post_refused_with_500_is_looked_for_then_posted_again(care_bot):
    add_checkins(care_bot.repos, 5)  # parent + 1 reply
    _fail_at_waits(care_bot, {2: {"status": 500}})  # the reply: refused, not stored

    post_digest(care_bot)

    _assert_posted_once_and_recorded(care_bot)
    assert [c.status for c in care_bot.fake.calls("chat.postMessage")] == [200, 500, 200]


def test_rate_limited_post_waits_retry_after_then_completes(care_bot):
    add_checkins(care_bot.repos, 7)
    care_bot.fake.fail_next("chat.postMessage", status=429, retry_after=1)

    post_digest(care_bot)

    calls = care_bot.fake.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200, 200, 200]
    assert calls[1].time - calls[0].time >= 0.95, "Retry-After was not waited out"
    _assert_posted_once_and_recorded(care_bot)


def test_two_hundred_tasks_every_message_within_block_kit_limits(care_bot):
    add_checkins(care_bot.repos, 200)

    record = post_digest(care_bot, user="U3")

    task_ids = digest_task_ids(care_bot)
    assert len(task_ids) == 200
    replies = thread_replies(care_bot, record)
    assert len(replies) == len(digest_messages(care_bot)) == 40
    shown = Counter[str]()
    for message in [*care_bot.fake.messages(DIGEST), *replies]:
        assert len(message["blocks"]) <= MAX_BLOCKS_MESSAGE
        for block in message["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
        shown.update(re.findall(r"`([a-z0-9]{5})`", message_text(message)))
    assert set(shown) >= set(task_ids)
    assert all(shown[t] == 1 for t in task_ids)
    assert care_bot.fake.violations == []


def test_digest_now_after_a_crash_mid_digest_finishes_it(care_bot, monkeypatch):
    add_checkins(care_bot.repos, 12)
    real_save = care_bot.repos.digests.save_message

    def crash_after_first_reply(message):  # noqa: ANN001, ANN202
        raise RuntimeError("killed after the first reply")

    monkeypatch.setattr(care_bot.repos.digests, "save_message", crash_after_first_reply)
    with pytest.raises(RuntimeError):
        care_bot.publisher.publish()
    monkeypatch.setattr(care_bot.repos.digests, "save_message", real_save)

    status, _, body = care_bot.sender.command("digest now")

    assert status == 200 and "already posted" not in body
    assert f"Today's digest in <#{DIGEST}> was cut short" in json.loads(body)["text"]
    wait_posted(care_bot)
    _assert_posted_once_and_recorded(care_bot)


def test_a_day_with_nothing_due_posts_a_short_parent_and_no_thread(care_bot):
    record = post_digest(care_bot)

    [parent] = care_bot.fake.messages(DIGEST)
    assert "Nothing due today" in message_text(parent)
    assert digest_messages(care_bot) == [] and thread_replies(care_bot, record) == []
