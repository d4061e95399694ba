"""The care report in Slack: `/care report`, the weekly post with its charts (exactly once,
across restarts and a lost answer), and the App Home headline, against the fake Slack."""

from __future__ import annotations

import json
import struct
import time
from datetime import UTC, date, datetime, timedelta

from bot.clock import FixedClock
from bot.metrics.headline import DEFER_AT_MOST, LULL
from bot.models import Subscriber, Subscription
from bot.repos import Repos
from bot.repos.reports import HeadlineRepo
from tests.handlers.conftest import DIGEST, add_checkins, message_text, post_digest, wait_posted
from tests.slackreq import SlackSender, app_home_opened, command_body

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
    for job in ("weekly_report_job", "headline_job"):
        thread = bot.services.extras[job].last_thread
        if thread is not None:
            thread.join(timeout=60)


def post_digest_on(bot, day: date) -> None:  # noqa: ANN001
    status, _, text = bot.sender.command("digest now", user_id="U1", channel_id="C1")
    assert status == 200, text
    wait_posted(bot, day)
    assert bot.fake.wait_for(lambda: not bot.services.publisher.posting)


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


def run(job) -> None:  # noqa: ANN001
    """Run a scheduled job's turn and wait for it (`bot.jobs.SingleFlight`)."""
    job()
    job.last_thread.join(timeout=60)
    assert not job.last_thread.is_alive()


def keeper(bot):  # noqa: ANN001, ANN201
    return bot.services.extras["headline"]


def home_text(bot, user: str = "U1") -> str:  # noqa: ANN001
    bot.services.home.publish(user)
    home = bot.fake.home(user)
    assert home is not None
    return message_text(home)


def test_home_shows_the_headline_once_computed_with_its_time(care_bot):
    seed(care_bot.repos)
    assert "Computed once a day, after today's digest is posted" in home_text(care_bot)
    keeper(care_bot).refresh()
    text = home_text(care_bot)
    assert "Churn rate: *20.0%* (of 10)" in text
    assert "As of Mon Jun 15, 09:30." in text  # 13:30 UTC, New York time


def test_the_headline_is_computed_after_the_digest_is_posted_never_by_a_view(care_bot):
    """The headline reads every subscriber and event: at a million subscribers it took the
    posting bot to 4.4 GB when a Home view started it after posting, beside the claims. A view
    never starts it; the daily job computes it once the day's digest is posted. `/care report`
    starts no report while the digest posts either."""
    seed(care_bot.repos)
    add_checkins(care_bot.repos, 2)
    job, cache = care_bot.services.extras["headline_job"], care_bot.services.extras["reports"]
    run(job)  # the 5-minute check: 09:30 on a digest day, the digest due and not posted
    assert keeper(care_bot).current() is None and not keeper(care_bot).due()
    release = care_bot.fake.hold("chat.postMessage")
    try:
        status, _, _ = care_bot.sender.command("digest now", user_id="U1", channel_id="C1")
        assert status == 200
        assert care_bot.fake.wait_for(lambda: care_bot.services.publisher.posting)
        care_bot.sender.event(app_home_opened("U1"))
        assert care_bot.fake.wait_for(lambda: care_bot.fake.home("U1") is not None)
        assert "Computed once a day" in message_text(care_bot.fake.home("U1"))
        _, _, body = care_bot.sender.command("report 30d", user_id="U1")
        assert "being computed" in message_text(json.loads(body))
        run(job)
        assert not keeper(care_bot).due()
        time.sleep(0.5)  # a report of ten customers takes milliseconds once started
        assert cache.fresh("30d") is None and keeper(care_bot).current() is None
    finally:
        release.set()
    wait_posted(care_bot)
    assert care_bot.fake.wait_for(lambda: not care_bot.services.publisher.posting)
    assert "they appear here within the hour" in home_text(care_bot)
    assert keeper(care_bot).current() is None  # views start nothing
    assert keeper(care_bot).current() is None
    care_bot.clock.advance(seconds=LULL.total_seconds())  # a lull after the last request
    run(job)
    text = home_text(care_bot)
    assert "Churn rate: *16.7%* (of 12)" in text and "Computed once a day" not in text
    computed = keeper(care_bot).current()
    run(job)  # once a day
    assert keeper(care_bot).current() is computed and not keeper(care_bot).due()


def test_the_kept_headline_survives_a_restart_and_is_computed_again_after_the_next_digest(bots):
    bot = bots()
    seed(bot.repos)
    post_digest(bot)
    first = keeper(bot).refresh()
    bot.stop()

    # Tuesday 08:00 in New York: the same numbers, read from the store, with their time
    tuesday_0800 = datetime(2026, 6, 16, 12, 0, tzinfo=UTC)
    bot = bots(clock=FixedClock(tuesday_0800), data_dir=bot.data_dir)
    assert keeper(bot).current() == first
    assert not keeper(bot).due()  # the day's digest time has not come
    text = home_text(bot)
    assert "Churn rate: *20.0%* (of 10)" in text and "As of Mon Jun 15, 09:30." in text
    bot.stop()

    # Tuesday 09:30: a third customer left on Monday; due again once the day's digest is posted
    bot = bots(clock=FixedClock(datetime(2026, 6, 16, 13, 30, tzinfo=UTC)), data_dir=bot.data_dir)
    gone = bot.repos.subscribers.get("cus_2")
    assert gone is not None
    gone.subscriptions[0].status = "canceled"
    gone.subscriptions[0].ended_at = date(2026, 6, 15)
    bot.repos.subscribers.put(gone)
    assert not keeper(bot).due()  # the digest is due and not posted
    post_digest_on(bot, date(2026, 6, 16))
    assert keeper(bot).due()
    bot.clock.advance(seconds=LULL.total_seconds())
    keeper(bot).tick()
    now = keeper(bot).current()
    assert now is not None and now.as_of == date(2026, 6, 16)
    assert now.figures["churn_rate"].value == 30.0
    text = home_text(bot)
    assert "Churn rate: *30.0%* (of 10)" in text and "As of Tue Jun 16, 09:31." in text


def test_a_kept_headline_that_cannot_be_read_is_computed_again(bots, caplog):
    bot = bots()
    seed(bot.repos)
    post_digest(bot)
    HeadlineRepo(bot.repos.store).save({"as_of": "2026-06-15", "figures": {"nps": "junk"}})
    bot.stop()
    bot = bots(data_dir=bot.data_dir)
    assert keeper(bot).current() is None
    assert "The kept headline cannot be read" in caplog.text
    assert "they appear here within the hour" in home_text(bot)
    keeper(bot).tick()
    assert "Churn rate: *20.0%* (of 10)" in home_text(bot)
    bot.stop()
    assert keeper(bots(data_dir=bot.data_dir)).current() is not None


def test_the_headline_waits_for_a_lull_in_slack_requests_then_starts(care_bot):
    """At each minute's turn after posting, a signed request in the last minute defers the
    headline (claims come first); the first turn after a quiet minute computes it."""
    seed(care_bot.repos)
    post_digest(care_bot)
    assert care_bot.fake.wait_for(lambda: not care_bot.services.publisher.posting)
    job = care_bot.services.extras["headline_job"]
    for _ in range(6):  # the team works the digest: a request every 30 s
        status, _, _ = care_bot.sender.command("mine", user_id="U2")
        assert status == 200
        care_bot.clock.advance(seconds=30)
        run(job)
        assert keeper(care_bot).due() and keeper(care_bot).current() is None
    assert "they appear here within the hour" in home_text(care_bot)
    care_bot.clock.advance(seconds=LULL.total_seconds() - 30)
    run(job)
    assert "Churn rate: *20.0%* (of 10)" in home_text(care_bot)


def test_a_headline_deferred_by_requests_for_its_whole_bound_is_computed_anyway(care_bot):
    seed(care_bot.repos)
    post_digest(care_bot)
    assert care_bot.fake.wait_for(lambda: not care_bot.services.publisher.posting)
    job = care_bot.services.extras["headline_job"]
    started = care_bot.clock.now()
    while care_bot.clock.now() - started < DEFER_AT_MOST:  # never a quiet minute
        status, _, _ = care_bot.sender.command("mine", user_id="U2")
        assert status == 200
        run(job)
        assert keeper(care_bot).current() is None
        care_bot.clock.advance(minutes=10)
    care_bot.sender.command("mine", user_id="U2")
    run(job)
    assert "Churn rate: *20.0%* (of 10)" in home_text(care_bot)


def forged_flood(bot, rounds: int = 20) -> set[int]:  # noqa: ANN001
    """`/care mine` as a forger sends it: unsigned, signed with a guessed secret, and a signed
    request replayed six minutes later. Returns the statuses the bot answered."""
    body = command_body("/care", "mine", user_id="U2")
    guessed = SlackSender(bot.sender.bot_url, "a-guessed-secret")
    stale = int(time.time()) - 6 * 60
    statuses = set()
    for _ in range(rounds):
        statuses.add(bot.sender.post(body, signed=False)[0])
        statuses.add(guessed.post(body)[0])
        statuses.add(bot.sender.post(body, timestamp=stale)[0])
    return statuses


def test_a_flood_of_forged_requests_does_not_defer_the_headline(care_bot):
    """Only requests that pass Slack's signature check are people at work (`handlers.slack_http`
    counts them after the check): a flood of forged ones right before the turn defers nothing."""
    seed(care_bot.repos)
    post_digest(care_bot)
    assert care_bot.fake.wait_for(lambda: not care_bot.services.publisher.posting)
    care_bot.clock.advance(seconds=LULL.total_seconds())  # a quiet minute after the digest
    assert forged_flood(care_bot) == {401}
    run(care_bot.services.extras["headline_job"])
    assert "Churn rate: *20.0%* (of 10)" in home_text(care_bot)


def test_a_headline_deferred_across_a_restart_is_computed_an_hour_after_its_wait_began(bots):
    """When the wait began is kept in the store: a bot restarted every 50 minutes (a crash
    loop) would otherwise start its hour again each time and never compute the headline."""
    bot = bots()
    seed(bot.repos)
    post_digest(bot)
    assert bot.fake.wait_for(lambda: not bot.services.publisher.posting)
    began = bot.clock.now()
    for _ in range(5):  # a request every 10 minutes: 0 to 40 minutes deferred
        assert bot.sender.command("mine", user_id="U2")[0] == 200
        run(bot.services.extras["headline_job"])
        assert keeper(bot).current() is None
        bot.clock.advance(minutes=10)
    bot.stop()

    bot = bots(clock=FixedClock(bot.clock.now()), data_dir=bot.data_dir)
    assert keeper(bot).deferred_since == began
    assert bot.sender.command("mine", user_id="U2")[0] == 200
    run(bot.services.extras["headline_job"])  # 50 minutes deferred
    assert keeper(bot).current() is None
    bot.clock.advance(minutes=10)
    assert bot.sender.command("mine", user_id="U2")[0] == 200
    run(bot.services.extras["headline_job"])  # an hour: computed beside the requests
    assert "Churn rate: *20.0%* (of 10)" in home_text(bot)
    assert bot.clock.now() - began == DEFER_AT_MOST
    bot.stop()
    assert keeper(bots(data_dir=bot.data_dir)).deferred_since is None
