"""Tech touch end to end: the daily digest run by the real bot (app.build) against the fake
Slack, its emails sent through the session's real SMTP server (tests/smtp_server.py, aiosmtpd)
and filed in a real Dovecot's Sent folder; days pass on the bot's clock and the bot restarts.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from bot.inbox.models import ITEM_AWAITING, ITEM_OPEN, SOURCE_OUTREACH
from bot.models import TASK_DONE, TASK_OPEN
from bot.outbox.models import MAIL_SENDING, SentMail
from bot.preview import run_preview
from bot.repos import Repos
from bot.stats import team_stats
from bot.store import Store
from bot.techtouch import BOT_USER, KEY_PREFIX
from config.techtouch import TechTouchRules
from handlers.triage_jobs import remind
from tests.bot.builders import days_ago, event, member
from tests.bot.inbox.mail import make_email, reply_to
from tests.handlers.conftest import (
    DAY_30,
    DIGEST,
    MONDAY_MORNING,
    TODAY,
    CareBot,
    add_subscriber,
    bots,  # noqa: F401 - the fixture
    digest_task_ids,
    dovecot_server,  # noqa: F401 - the fixture
    message_text,
    post_digest,
    tasks_of,
    wait_posted,
)
from tests.handlers.test_reply import TRIAGE, mail_bot  # noqa: F401 - the fixture
from tests.handlers.test_triage import by_hand, post_inbox
from tests.inbox_server import USERS

pytestmark = pytest.mark.imap

RULES = """
[tech_touch]
checkin_30 = { auto_email_below_value = 30 }
"""


def config(tmp_path: Path, text: str = RULES) -> str:
    path = tmp_path / "care.toml"
    path.write_text('timezone = "America/New_York"\n' + text)
    return str(path)


def seed(bot: CareBot, *, ann_name: str = "Ann Lee") -> None:
    """Ann pays 20 a month (below the rule's 30), Bob 49: both have their day-30 check-in due."""
    add_subscriber(bot.repos, "cus_ann", ann_name, "ann@example.com", DAY_30, amount=20.0)
    add_subscriber(bot.repos, "cus_bob", "Bob Roy", "bob@example.com", DAY_30, amount=49.0)


def parent_text(bot: CareBot, day: date = TODAY) -> str:
    record = wait_posted(bot, day)
    [parent] = [m for m in bot.fake.messages(DIGEST) if m["ts"] == record.parent_ts]
    return message_text(parent)


def sent_to(smtp_server, since: int, address: str) -> list:  # noqa: ANN001
    return [(m, e) for m, e in smtp_server.received(since) if address in e["rcpt_tos"]]


def test_off_by_default_nothing_is_emailed_and_everyone_is_posted(mail_bot, smtp_server):  # noqa: F811
    bot = mail_bot()
    seed(bot)
    before = smtp_server.count()

    post_digest(bot)

    assert smtp_server.count() == before
    [ann], [bob] = tasks_of(bot.repos, "cus_ann"), tasks_of(bot.repos, "cus_bob")
    assert {ann.id, bob.id} <= set(digest_task_ids(bot))
    assert "Tech touch" not in parent_text(bot)
    assert list(bot.repos.outreach.all()) == []


def test_below_value_customer_gets_one_email_logged_by_the_bot_and_is_not_posted(
    mail_bot,  # noqa: F811
    smtp_server,
    dovecot_server,  # noqa: F811
    tmp_path,
):
    bot = mail_bot(
        CARE_CONFIG=config(tmp_path),
        IMAP_HOST=dovecot_server.host,
        IMAP_PORT=str(dovecot_server.port),
        IMAP_USER="care",
        IMAP_PASSWORD=USERS["care"],
        IMAP_SSL="false",
        CARE_TRIAGE_CHANNEL=TRIAGE,
    )
    seed(bot)
    before = smtp_server.count()

    post_digest(bot)

    [(msg, envelope)] = smtp_server.wait_for(before)
    assert envelope["rcpt_tos"] == ["ann@example.com"]
    assert msg["To"] == "Ann Lee <ann@example.com>"
    assert msg["Subject"] == "A month in with Pro: how are we doing?"
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("Hi Ann,") and "The customer care team" in text
    assert msg.get_body(("html",)) is not None
    assert sent_to(smtp_server, before, "bob@example.com") == []
    # logged as outreach by the bot, on channel email, and the task closed by it
    [ann_task], [bob_task] = tasks_of(bot.repos, "cus_ann"), tasks_of(bot.repos, "cus_bob")
    [logged] = bot.repos.outreach.for_subscriber("cus_ann")
    assert (logged.by, logged.channel, logged.outcome) == (BOT_USER, "email", "reached")
    assert logged.task_id == ann_task.id
    assert (ann_task.status, ann_task.closed_by) == (TASK_DONE, BOT_USER)
    [record] = bot.repos.sent.with_key_prefix(KEY_PREFIX)
    assert record.message_id == msg["Message-ID"] and record.outreach_id == logged.id
    # Bob is above the value: posted for a person as before; Ann takes no place in the digest
    assert bob_task.status == TASK_OPEN
    assert digest_task_ids(bot) == [bob_task.id]
    parent = parent_text(bot)
    assert "Tech touch: *1* sent by email automatically" in parent
    assert "*1 proactive touch due today*" in parent
    # the copy is in Sent
    with dovecot_server.client() as conn:
        conn.select("Sent", readonly=True)
        _, found = conn.uid("SEARCH", "HEADER", "Message-ID", f'"{msg["Message-ID"]}"')
        assert len(found[0].split()) == 1
    # counted apart from the team's work
    stats = team_stats(bot.repos, bot.clock.now() + timedelta(minutes=1), 7)
    assert (stats.automated, stats.done) == (1, 0)
    assert BOT_USER not in stats.per_manager
    # Ann's answer comes back to triage, threaded under the email, like any outreach's answer
    reply = make_email(
        subject="Re: " + msg["Subject"],
        body="All good, thanks!",
        headers={"In-Reply-To": msg["Message-ID"], "References": msg["Message-ID"]},
    )
    status, answer = post_inbox(bot, reply)
    assert status == 200 and answer["status"] == "threaded"
    [item] = [i for i in bot.repos.inbox.items() if i.subscriber_id == "cus_ann"]
    assert item.key == msg["Message-ID"] and item.message_count == 1  # under the email sent


def test_an_answer_to_an_automatic_email_lands_in_triage_threaded_and_linked_days_later(
    mail_bot,  # noqa: F811
    smtp_server,
    dovecot_server,  # noqa: F811
    tmp_path,
):
    imap = {
        "CARE_CONFIG": config(tmp_path),
        "IMAP_HOST": dovecot_server.host,
        "IMAP_PORT": str(dovecot_server.port),
        "IMAP_USER": "care",
        "IMAP_PASSWORD": USERS["care"],
        "IMAP_SSL": "false",
        "IMAP_POLL_SECONDS": "3600",
    }
    bot = by_hand(mail_bot(**imap))
    seed(bot, ann_name="Ann <!channel> Lee")
    before = smtp_server.count()

    post_digest(bot)

    [(msg, _)] = smtp_server.wait_for(before)
    [ann_task] = tasks_of(bot.repos, "cus_ann")
    item = bot.repos.inbox.item_by_key(msg["Message-ID"])  # recorded, not posted
    assert (item.source, item.status, item.subscriber_id) == (
        SOURCE_OUTREACH,
        ITEM_AWAITING,
        "cus_ann",
    )
    assert (item.outreach_by, item.outreach_tasks, item.slack) == ("", [ann_task.id], {})
    assert bot.repos.inbox.message(msg["Message-ID"]).item_id == item.id
    assert remind(bot.services.triage) == 0  # the minute job leaves it for the answer
    assert bot.fake.messages(TRIAGE) == []  # a hundred automatic emails bury no channel

    # two days later, after a restart, Ann answers from her mail client
    bot.stop()
    bot = by_hand(mail_bot(**imap))
    bot.clock.set(MONDAY_MORNING + timedelta(days=2))
    answer = reply_to(msg.as_bytes(), "Going well! Can I skip the July box?")
    dovecot_server.append(answer)
    assert bot.services.triage.connector.poll_once().handled == 1

    [post] = bot.fake.wait_for(lambda: bot.fake.messages(TRIAGE))  # one item, not two
    [first] = [  # posted first as the email, then turned into the answer's card
        c.args
        for c in bot.fake.calls("chat.postMessage")
        if c.args.get("channel") == TRIAGE and not c.args.get("thread_ts") and not c.error
    ]
    shown = json.dumps(first)
    assert "Sent automatically to Ann &lt;!channel&gt; Lee" in shown and "<!channel>" not in shown
    assert msg["Subject"] in shown
    [threaded] = bot.fake.wait_for(
        lambda: [
            c.args
            for c in bot.fake.calls("chat.postMessage")
            if c.args.get("thread_ts") == post["ts"] and not c.error
        ]
    )
    assert threaded["channel"] == TRIAGE and "Can I skip the July box?" in json.dumps(threaded)
    item = bot.repos.inbox.item(item.id)
    assert (item.status, item.message_count, item.subscriber_id) == (ITEM_OPEN, 1, "cus_ann")
    assert item.slack == {"channel": TRIAGE, "ts": post["ts"]}
    assert [i.id for i in bot.repos.inbox.items()] == [item.id]
    card = bot.fake.message(TRIAGE, post["ts"])  # a triage card for Ann's answer now
    assert "Can I skip the July box?" in message_text(card)


def test_a_failed_send_is_posted_for_a_person_and_sent_once_the_next_day_after_a_restart(
    mail_bot,  # noqa: F811
    smtp_server,
    tmp_path,
):
    bot = mail_bot(CARE_CONFIG=config(tmp_path), SMTP_PASSWORD="wrong")
    seed(bot)
    before = smtp_server.count()

    post_digest(bot)

    assert smtp_server.count() == before  # the login was refused: nothing left
    [ann_task] = tasks_of(bot.repos, "cus_ann")
    assert ann_task.status == TASK_OPEN and ann_task.id in digest_task_ids(bot)
    parent = parent_text(bot)
    assert "*0* sent by email automatically; *1* not sent" in parent
    [failed] = bot.repos.sent.with_key_prefix(KEY_PREFIX)
    assert failed.status == "failed" and "SMTP_PASSWORD" in failed.error

    # the password is fixed and the bot restarts; the next morning's digest retries
    bot.stop()
    tomorrow = TODAY + timedelta(days=1)
    bot = mail_bot(CARE_CONFIG=config(tmp_path))
    bot.clock.set(MONDAY_MORNING + timedelta(days=1))
    bot.publisher.publish(tomorrow)

    [(msg, envelope)] = smtp_server.wait_for(before)
    assert envelope["rcpt_tos"] == ["ann@example.com"]
    assert msg["Message-ID"] == failed.message_id  # the same message, sent once
    assert bot.repos.tasks.require(ann_task.id).status == TASK_DONE
    assert "Tech touch: *1* sent" in parent_text(bot, tomorrow)

    # another restart and two more days: nothing is sent again
    bot.stop()
    bot = mail_bot(CARE_CONFIG=config(tmp_path))
    bot.clock.set(MONDAY_MORNING + timedelta(days=2))
    bot.publisher.publish(TODAY + timedelta(days=2))
    assert len(sent_to(smtp_server, before, "ann@example.com")) == 1
    assert len(bot.repos.outreach.for_subscriber("cus_ann")) == 1


def test_an_email_that_may_have_left_is_never_sent_again_and_goes_to_a_person(
    mail_bot,  # noqa: F811
    smtp_server,
    tmp_path,
):
    bot = mail_bot(CARE_CONFIG=config(tmp_path))
    seed(bot)
    # the engine's tasks exist; a run that died mid-send left its record at "sending"
    from bot.engine import run_engine

    run_engine(TODAY, bot.repos, bot.services.settings, bot.clock)
    [ann_task] = tasks_of(bot.repos, "cus_ann")
    bot.repos.sent.put(
        SentMail(
            key=KEY_PREFIX + ann_task.id,
            message_id="<crashed@example.com>",
            status=MAIL_SENDING,
            to="ann@example.com",
            subject="A month in",
            by=BOT_USER,
            created_at=MONDAY_MORNING,
        )
    )
    bot.stop()
    bot = mail_bot(CARE_CONFIG=config(tmp_path))
    before = smtp_server.count()

    post_digest(bot)

    assert sent_to(smtp_server, before, "ann@example.com") == []
    assert ann_task.id in digest_task_ids(bot)
    assert "*1* not sent, listed here for a person instead" in parent_text(bot)
    assert bot.repos.tasks.require(ann_task.id).status == TASK_OPEN


def test_a_customer_reached_in_the_quiet_days_or_without_email_is_not_emailed(
    mail_bot,  # noqa: F811
    smtp_server,
    tmp_path,
):
    bot = mail_bot(CARE_CONFIG=config(tmp_path))
    seed(bot)
    add_subscriber(bot.repos, "cus_cy", "Cy", "", DAY_30, amount=10.0)
    bot.services.care.log_outreach("cus_ann", "U1", "call", "reached", close=False)
    before = smtp_server.count()

    post_digest(bot)

    assert smtp_server.count() == before
    assert "*0* sent by email automatically" in parent_text(bot)
    [cy_task] = tasks_of(bot.repos, "cus_cy")
    assert cy_task.id in digest_task_ids(bot)


@pytest.mark.parametrize(
    "name",
    [
        "Ann\r\nBcc: evil@example.com",
        'Ann" <evil@example.com>, "x',
        "Ann\nSubject: hacked\n\nbody",
        "=?utf-8?q?Ann=0D=0ABcc=3A_evil=40example.com?=",
    ],
)
def test_a_hostile_name_cannot_add_a_recipient_or_a_header(
    mail_bot,  # noqa: F811
    smtp_server,
    tmp_path,
    name: str,
):
    bot = mail_bot(CARE_CONFIG=config(tmp_path))
    seed(bot, ann_name=name)
    before = smtp_server.count()

    post_digest(bot)

    [(msg, envelope)] = smtp_server.wait_for(before)
    assert envelope["rcpt_tos"] == ["ann@example.com"]
    assert msg["Bcc"] is None and msg["Cc"] is None
    assert [a.addr_spec for a in msg["To"].addresses] == ["ann@example.com"]
    assert len(msg.get_all("Subject")) == 1 and "hacked" not in msg["Subject"]
    assert all("evil@example.com" not in str(v) for k, v in msg.items() if k != "To")


# -- digest --preview: what would be sent, without sending ---------------------------------


@pytest.fixture
def tail(tmp_path: Path, settings):  # noqa: ANN001, ANN201
    """Twenty day-30 check-ins worth $20..$39 and one customer asking to cancel (worth $5)."""
    with Store(settings.data_dir) as store:
        repos = Repos.open(store)
        repos.subscribers.put_many(
            [member(f"cus_{i:02d}", tenure=30, amount=20.0 + i) for i in range(20)]
            + [member("cus_bye", tenure=200, amount=5.0)]
        )
        repos.events.add(event("cus_bye", "cancel_request", days_ago(1)))
    return replace(settings, tech_touch=TechTouchRules({"checkin_30": 30.0}, max_per_day=200))


def test_preview_counts_what_would_be_emailed_and_posts_only_the_rest(tail, smtp_server):  # noqa: ANN001
    before = smtp_server.count()
    console = Console(record=True, width=200)

    assert run_preview(tail, TODAY, False, console) == 0

    text = console.export_text()
    # $20..$29 (ten customers) are below 30; the churn risk has no rule: posted
    assert "Tech touch: 10 customers would be emailed automatically, not posted" in text
    assert "Day-30 check-in 10" in text.partition("Tech touch")[2]
    assert "11 tasks for 11 customers posted" in text
    assert smtp_server.count() == before
    with Store(tail.data_dir, read_only=True) as store:
        assert Repos.open(store).sent.all() == []


def test_preview_all_lists_each_customer_the_bot_would_email(tail):  # noqa: ANN001
    out = io.StringIO()
    assert run_preview(tail, TODAY, False, Console(), True, out) == 0
    rows = [line.split("\t") for line in out.getvalue().splitlines()[1:]]
    emailed = sorted(r[10] for r in rows if r[0] == "email")
    assert emailed == [f"cus_{i:02d}" for i in range(10)]
    assert all(float(r[7]) < 30 for r in rows if r[0] == "email")
    assert {r[0] for r in rows} == {"posted", "email"}


def test_preview_json_marks_the_automatic_tasks_not_posted(tail):  # noqa: ANN001
    out = io.StringIO()
    assert run_preview(tail, TODAY, True, Console(), out=out) == 0
    tasks = json.loads(out.getvalue())["tasks"]
    auto = [t for t in tasks if t["automatic"]]
    assert len(auto) == 10 and not any(t["posted"] for t in auto)
    assert sum(t["posted"] for t in tasks) == 11


def test_preview_caps_the_emails_at_max_per_day_best_first(tail):  # noqa: ANN001
    capped = replace(tail, tech_touch=replace(tail.tech_touch, max_per_day=3))
    out = io.StringIO()
    assert run_preview(capped, TODAY, False, Console(), True, out) == 0
    rows = [line.split("\t") for line in out.getvalue().splitlines()[1:]]
    emailed = [float(r[7]) for r in rows if r[0] == "email"]
    assert emailed == [29.0, 28.0, 27.0]  # the most valuable first; the rest are posted


def test_a_template_that_does_not_render_fails_that_email_only_and_the_digest_posts(
    mail_bot,  # noqa: F811
    smtp_server,
    tmp_path,
):
    ours = tmp_path / "templates"
    ours.mkdir()
    (ours / "anniversary.txt").write_text("Subject: {{ broken\n\nHi")
    rules = RULES + "anniversary = { auto_email_below_value = 30 }\n"
    bot = mail_bot(CARE_CONFIG=config(tmp_path, f'[outreach]\ntemplates_dir = "{ours}"\n{rules}'))
    seed(bot)
    add_subscriber(
        bot.repos, "cus_cy", "Cy Doe", "cy@example.com", TODAY.replace(year=2025), amount=10.0
    )
    before = smtp_server.count()

    post_digest(bot)

    [(msg, envelope)] = smtp_server.wait_for(before)
    assert envelope["rcpt_tos"] == ["ann@example.com"]  # the check-in went; the anniversary not
    [cy_task] = tasks_of(bot.repos, "cus_cy")
    assert cy_task.kind == "anniversary" and cy_task.id in digest_task_ids(bot)
    assert "*1* sent by email automatically; *1* not sent" in parent_text(bot)


def test_without_smtp_set_up_nothing_is_sent_and_everyone_is_posted_with_the_reason(
    bots,  # noqa: F811
    tmp_path,
):
    bot = bots(CARE_CONFIG=config(tmp_path))
    seed(bot)

    post_digest(bot)

    [ann], [bob] = tasks_of(bot.repos, "cus_ann"), tasks_of(bot.repos, "cus_bob")
    assert {ann.id, bob.id} <= set(digest_task_ids(bot))
    assert ann.status == TASK_OPEN and bot.repos.sent.all() == []
    assert "*0* sent by email automatically; *1* not sent" in parent_text(bot)
