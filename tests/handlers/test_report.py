"""The care report in Slack: `/care report`, the weekly post with its charts (exactly once,
across restarts and a lost answer), and the App Home headline, against the fake Slack."""

from __future__ import annotations

import json
import struct
import time
from datetime import UTC, date, datetime, timedelta

from bot.clock import FixedClock
from bot.models import Subscriber, Subscription
from bot.repos import Repos
from tests.handlers.conftest import DIGEST, add_checkins, message_text, wait_posted
from tests.slackreq import app_home_opened

# Friday 2026-06-19, 16:05 in New York (UTC-4): the default weekly report time has passed.
FRIDAY_1605 = datetime(2026, 6, 19, 20, 5, tzinfo=UTC)
FRIDAY_1555 = datetime(2026, 6, 19, 19, 55, tzinfo=UTC)


def seed(repos: Repos) -> None:
    """Ten customers since January; two leave in June, one for non-payment."""
    subs = []
    for n in range(10):
        end = {0: date(2026, 6, 5), 1: date(2026, 6, 10)}.get(n)
        subs.append(
            Subscriber(
                id=f"cus_{n}",
                email=f"c{n}@example.com",
                name=f"Customer {n}",
                first_started=date(2026, 1, 5),
                subscriptions=[
                    Subscription(
                        id=f"sub_{n}",
                        status="canceled" if end else "active",
                        started=date(2026, 1, 5),
                        ended_at=end,
                        canceled_at=end,
                        cancellation_reason="payment_failed" if n == 1 else "",
                    )
                ],
            )
        )
    repos.subscribers.put_many(subs)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def run_weekly(bot) -> None:  # noqa: ANN001
    bot.runtime.scheduler.run_all()
    thread = bot.services.extras["weekly_report_job"].last_thread
    if thread is not None:
        thread.join(timeout=60)


def reports(bot) -> list[dict]:  # noqa: ANN001
    return [
        m
        for m in bot.fake.messages(DIGEST)
        if (m.get("metadata") or {}).get("event_type") == "care_weekly_report"
    ]


def test_weekly_report_is_posted_once_with_its_charts_across_restarts(bots, tmp_path):
    early = bots(clock=FixedClock(FRIDAY_1555))
    seed(early.repos)
    run_weekly(early)
    assert reports(early) == []  # 15:55: not yet
    early.stop()

    bot = bots(clock=FixedClock(FRIDAY_1605), data_dir=early.data_dir)
    run_weekly(bot)
    (report,) = reports(bot)
    text = message_text(report)
    assert "Weekly care report: 7 days, Jun 13 to Jun 19, 2026" in text
    assert report["metadata"]["event_payload"] == {"key": "2026-W25:report"}
    (charts,) = bot.fake.thread(DIGEST, report["ts"])[1:]
    assert [f["title"] for f in charts["files"]] == [
        "Retention by start month",
        "Cancellations and saves per week",
        "Median first response per week (business hours)",
    ]
    uploads = bot.fake.uploaded()
    assert [png_size(u.data) for u in uploads] == [(1200, 600)] * 3
    assert all(u.alt_txt for u in uploads)

    run_weekly(bot)  # the 5-minute check keeps running
    bot.stop()
    later = bots(clock=FixedClock(FRIDAY_1605 + timedelta(hours=30)), data_dir=bot.data_dir)
    run_weekly(later)  # Saturday, same ISO week, after a restart
    assert len(reports(later)) == 1 and len(bot.fake.uploaded()) == 3
    assert len(bot.fake.calls("files.completeUploadExternal")) == 1


def test_a_lost_answer_to_the_post_does_not_post_the_report_twice(bots):
    bot = bots(clock=FixedClock(FRIDAY_1605))
    seed(bot.repos)
    bot.fake.fail_next("chat.postMessage", status=500, after_store=True, times=6)
    run_weekly(bot)  # posted, but the bot never learnt its ts
    assert len(reports(bot)) == 1
    run_weekly(bot)  # the next check finds it by its metadata
    assert len(reports(bot)) == 1
    assert len(bot.fake.calls("files.completeUploadExternal")) == 1


def test_care_report_answers_privately_once_computed(care_bot):
    seed(care_bot.repos)
    status, _, body = care_bot.sender.command("report 30d", user_id="U1")
    first = json.loads(body)
    assert status == 200 and first["response_type"] == "ephemeral"
    assert "being computed" in message_text(first)
    cache = care_bot.services.extras["reports"]
    assert care_bot.fake.wait_for(lambda: cache.fresh("30d") is not None, timeout=60)
    status, _, body = care_bot.sender.command("report 30d", user_id="U1")
    answer = json.loads(body)
    text = message_text(answer)
    # 30 days to Jun 15: 10 customers on May 16, two lost: 20%, one of them involuntary
    assert "Churn rate: *20.0%* (of 10)" in text
    assert "Involuntary cancel rate: *10.0%*" in text
    assert "NPS: _n/a (no NPS answers in the period)_" in text
    _, _, body = care_bot.sender.command("report 12d", user_id="U1")
    assert "Usage: `/care report [7d|30d|90d]`" in message_text(json.loads(body))


def test_home_shows_the_headline_once_computed(care_bot):
    seed(care_bot.repos)
    care_bot.services.extras["reports"].compute("30d")
    care_bot.services.home.publish("U1")
    home = care_bot.fake.home("U1")
    assert home is not None
    assert "Churn rate: *20.0%* (of 10)" in message_text(home)


def test_a_home_opened_while_a_digest_posts_starts_no_report_until_it_is_posted(care_bot):
    """The headline's report reads the whole store: at a million subscribers computing it beside
    the posting delayed claims' answers past a second. A Home drawn while the digest posts says
    it is being computed and starts nothing; the first view after posting starts it."""
    seed(care_bot.repos)
    add_checkins(care_bot.repos, 2)
    cache, home = care_bot.services.extras["reports"], care_bot.services.home
    release = care_bot.fake.hold("chat.postMessage")
    try:
        status, _, _ = care_bot.sender.command("digest now", user_id="U1", channel_id="C1")
        assert status == 200
        assert care_bot.fake.wait_for(lambda: care_bot.services.publisher.posting)
        care_bot.sender.event(app_home_opened("U1"))
        assert care_bot.fake.wait_for(lambda: care_bot.fake.home("U1") is not None)
        assert "Being computed" in message_text(care_bot.fake.home("U1"))
        time.sleep(0.5)  # a report of ten customers takes milliseconds once started
        assert cache.fresh("30d") is None
    finally:
        release.set()
    wait_posted(care_bot)
    assert care_bot.fake.wait_for(lambda: not care_bot.services.publisher.posting)
    home.publish("U1")  # the first view after posting starts it
    assert care_bot.fake.wait_for(lambda: cache.fresh("30d") is not None, timeout=60)
    home.publish("U1")
    text = message_text(care_bot.fake.home("U1"))
    assert "Churn rate: *" in text and "Being computed" not in text
