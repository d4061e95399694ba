"""The churn-risk holdout: a stable share of churn-risk tasks kept out of the digest, never for a
customer who wrote in, reported as its own group."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from bot.clock import FixedClock
from bot.digest import plan_digest
from bot.engine import run_engine
from bot.holdout import in_holdout
from bot.metrics.history import Book
from bot.metrics.outcomes import reached_vs_not
from bot.models import Subscriber, Subscription, Task
from bot.repos import Repos
from config import ConfigError, load_settings
from tests.bot.metrics.histories import event, item

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 14, tzinfo=UTC)


def leaving(n: int) -> Subscriber:
    """Scheduled to cancel at the period end: 60 points, high risk."""
    return Subscriber(
        id=f"cus_{n:02d}",
        email=f"c{n}@example.com",
        first_started=date(2025, 1, 1),
        subscriptions=[
            Subscription(id=f"sub_{n}", started=date(2025, 1, 1), cancel_at_period_end=True)
        ],
    )


def test_about_the_share_asked_is_held_out_and_left_out_of_the_digest(
    repos: Repos, settings
) -> None:
    settings = dataclasses.replace(settings, holdout_percent=30)
    repos.subscribers.put_many([leaving(n) for n in range(40)])
    # cus_00..cus_04 wrote in: an inbox conversation, or a support contact
    for n in range(3):
        found = item(f"i{n}", NOW)
        found.subscriber_id = f"cus_{n:02d}"
        repos.inbox.create_item(found)
    repos.events.add_many([event(f"cus_{n:02d}", "support_contact", NOW) for n in (3, 4)])
    run_engine(TODAY, repos, settings, FixedClock(NOW))
    churn = [t for t in repos.tasks.all() if t.kind == "churn_risk"]
    assert len(churn) == 40
    wrote_in = {f"cus_{n:02d}" for n in range(5)}
    expected = {t.id for t in churn if in_holdout(t.key, 30) and t.subscriber_id not in wrote_in}
    held = {t.id for t in churn if t.holdout}
    assert held == expected and 4 <= len(held) <= 20  # a third or so of 35, decided by the key
    assert not any(t.holdout for t in churn if t.subscriber_id in wrote_in)
    listed = {t.id for e in plan_digest(TODAY, repos, settings, NOW).entries for t in e.tasks}
    assert listed == {t.id for t in churn} - held
    # the same keys, planned again (a preview, a restart): the same decision
    assert all(in_holdout(t.key, 30) for t in churn if t.holdout)


def test_no_holdout_by_default(repos: Repos, settings) -> None:
    repos.subscribers.put_many([leaving(n) for n in range(20)])
    run_engine(TODAY, repos, settings, FixedClock(NOW))
    assert settings.holdout_percent == 0
    assert not any(t.holdout for t in repos.tasks.all())


def test_held_out_customers_are_reported_as_their_own_group(repos: Repos, settings) -> None:
    settings = dataclasses.replace(settings, holdout_percent=50)
    repos.subscribers.put_many([leaving(n) for n in range(20)])
    run_engine(TODAY, repos, settings, FixedClock(NOW))
    held = sum(t.holdout for t in repos.tasks.all())
    (row,) = reached_vs_not(
        Book.load(repos, settings.timezone), repos.tasks.raw(), TODAY, TODAY, date(2026, 9, 1)
    )
    assert row.held_out is not None and row.held_out.n == held
    assert "held out: 0.0%" in row.sentence()


@pytest.mark.parametrize("value", ["-1", "51", '"ten"', "true"])
def test_holdout_percent_must_be_0_to_50(tmp_path, value) -> None:
    path = tmp_path / "care.toml"
    path.write_text(f"[care]\nholdout_percent = {value}\n")
    with pytest.raises(ConfigError, match="holdout_percent"):
        load_settings({}, dotenv=False, config_path=path)


def test_a_task_stored_before_the_holdout_existed_loads_as_not_held_out() -> None:
    doc = {
        "id": "k7qx2",
        "key": "cus_1:churn_risk:1",
        "kind": "churn_risk",
        "subscriber_id": "cus_1",
        "due": "2026-06-15",
        "created_at": "2026-06-15T14:00:00+00:00",
        "status": "open",
    }
    task = Task.from_doc(doc)
    assert (task.holdout, task.holdout_ended, task.held_out) == (False, None, False)
    assert "holdout" not in task.to_doc()  # the default is left out of stored documents
