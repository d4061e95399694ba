"""The churn-risk holdout through the running bot, Monday to Wednesday with a restart each morning.

Held-out tasks never reach the digest (today's or the carried list), the Home tab or the team's
numbers; a customer who wrote in is never held out; a held-out customer who writes in is shown
from the next digest on, and stays in the held-out group of the report.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from bot.holdout import in_holdout
from bot.metrics.history import Book
from bot.metrics.outcomes import reached_vs_not
from bot.repos import Repos
from bot.stats import team_stats
from tests.bot.inbox.mail import make_email
from tests.bot.metrics.histories import event, item
from tests.handlers.conftest import (
    MONDAY_MORNING,
    TODAY,
    CareBot,
    add_subscriber,
    digest_task_ids,
    wait_posted,
)
from tests.handlers.test_home import _open_home
from tests.handlers.test_triage import SECRET, post_inbox

ROOT = Path(__file__).resolve().parents[2]
TUESDAY, WEDNESDAY = TODAY + timedelta(days=1), TODAY + timedelta(days=2)
WROTE_IN = {"cus_00", "cus_01", "cus_02"}  # an inbox conversation, a helpdesk ticket, a cancel


def config_with_holdout(tmp_path: Path, percent: int) -> str:
    text = (ROOT / "config" / "care.toml").read_text(encoding="utf-8")
    changed = re.sub(r"(?m)^holdout_percent = 0", f"holdout_percent = {percent}", text)
    assert changed != text
    path = tmp_path / "care.toml"
    path.write_text(changed, encoding="utf-8")
    return str(path)


def start(bots, tmp_path: Path, before: CareBot | None = None, day: date = TODAY) -> CareBot:
    """Start (or restart on `day`, 09:30 local) the bot with a 50% holdout and the inbox on."""
    env = {
        "CARE_CONFIG": config_with_holdout(tmp_path, 50),
        "CARE_TRIAGE_CHANNEL": "C0TRIAGE",
        "INBOX_WEBHOOK_SECRET": SECRET,
    }
    if before is None:
        return bots(**env)
    before.stop()
    before.clock.advance(days=(day - before.clock.now().date()).days)
    return bots(clock=before.clock, data_dir=before.data_dir, **env)


def leaving_customers(repos: Repos, count: int) -> None:
    """Customers scheduled to cancel at the period end: high risk, a churn-risk task each."""
    for n in range(count):
        add_subscriber(
            repos,
            f"cus_{n:02d}",
            f"Customer {n:02d}",
            f"c{n:02d}@example.com",
            date(2025, 1, 1),
            cancel_at_period_end=True,
        )
    found = item("i0", MONDAY_MORNING - timedelta(days=40))
    found.subscriber_id = "cus_00"
    repos.inbox.create_item(found)
    ago = MONDAY_MORNING - timedelta(days=100)
    repos.events.add_many(
        [
            event("cus_01", "support_contact", ago, source="zendesk"),
            event("cus_02", "cancel_request", ago),
        ]
    )


def churn_tasks(repos: Repos) -> dict[str, str]:
    """Task id -> subscriber id of every churn-risk task."""
    return {t.id: t.subscriber_id for t in repos.tasks.all() if t.kind == "churn_risk"}


def test_held_out_tasks_stay_hidden_across_days_until_the_customer_writes_in(bots, tmp_path):
    monday = start(bots, tmp_path)
    leaving_customers(monday.repos, 24)
    monday.runtime.scheduler.run_all()
    wait_posted(monday)

    churn = churn_tasks(monday.repos)
    assert len(churn) == 24
    tasks = {t.id: t for t in monday.repos.tasks.all()}
    held = {tid for tid in churn if tasks[tid].holdout}
    expected = {tid for tid, sid in churn.items() if in_holdout(tasks[tid].key, 50)}
    assert held == {tid for tid in expected if churn[tid] not in WROTE_IN}
    assert 4 <= len(held) <= 18  # about half of 21, decided by the key
    assert not {churn[tid] for tid in held} & WROTE_IN
    assert set(digest_task_ids(monday)) == set(churn) - held
    home = _open_home(monday, "U1")
    assert f"Unclaimed today ({len(churn) - len(held)})" in home
    assert not any(f"Customer {churn[tid][4:]}" in home for tid in held)
    week = team_stats(monday.repos, monday.clock.now(), 7)
    assert (week.due, week.open_now) == (len(churn) - len(held), len(churn) - len(held))

    # Tuesday, after a restart: nothing re-planned, the held-out tasks are not carried either
    tuesday = start(bots, tmp_path, monday, TUESDAY)
    tuesday.runtime.scheduler.run_all()
    wait_posted(tuesday, TUESDAY)
    assert churn_tasks(tuesday.repos) == churn
    assert set(digest_task_ids(tuesday, TUESDAY)) == set(churn) - held
    assert all(tuesday.repos.tasks.require(tid).holdout for tid in held)

    # a held-out customer writes in: their task is before the team from now on
    writer = min(held)
    sid = churn[writer]
    email = make_email(
        subject="Please cancel my subscription",
        body="I want to cancel, thanks.",
        sender=f"Someone <c{sid[4:]}@example.com>",
        date="Tue, 16 Jun 2026 13:00:00 +0000",
    )
    status, answer = post_inbox(tuesday, email)
    assert status == 200 and answer["status"] == "posted"
    lifted = tuesday.repos.tasks.require(writer)
    assert lifted.holdout and lifted.holdout_ended == TUESDAY and not lifted.held_out
    assert churn_tasks(tuesday.repos) == churn  # the held-out task is reused, not a new one

    wednesday = start(bots, tmp_path, tuesday, WEDNESDAY)
    wednesday.runtime.scheduler.run_all()
    wait_posted(wednesday, WEDNESDAY)
    listed = set(digest_task_ids(wednesday, WEDNESDAY))
    assert writer in listed and not listed & (held - {writer})
    assert f"Customer {sid[4:]}" in _open_home(wednesday, "U2")

    # the report: the lifted task stays in the group it was drawn into
    book = Book.load(wednesday.repos, wednesday.services.settings.timezone)
    later = TODAY + timedelta(days=61)
    [row] = reached_vs_not(book, wednesday.repos.tasks.raw(), TODAY, TODAY, later)
    assert row.held_out is not None and row.held_out.n == len(held)
