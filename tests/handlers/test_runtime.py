"""The running bot as a whole: shutting down does not cut off work Slack was already told about."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from bot.blocks import ids
from bot.clock import FixedClock
from bot.models import Task
from bot.repos import Repos
from bot.repos import tasks as tasks_module
from bot.store import Store
from tests.handlers.conftest import add_checkins, click, post_digest, tasks_of


def test_stop_lets_listeners_in_flight_finish_before_closing_the_store(care_bot, monkeypatch):
    add_checkins(care_bot.repos, 1)
    post_digest(care_bot)
    task = tasks_of(care_bot.repos, "cus_000")[0].id
    order: list[str] = []
    closing = threading.Event()
    real_refresh, real_close = care_bot.publisher.refresh, care_bot.repos.store.close

    def refresh_after_stop_began(tasks):  # noqa: ANN001, ANN202
        closing.wait(0.5)  # without a graceful stop, the store closes while this waits
        try:
            return real_refresh(tasks)
        finally:
            order.append("edited the digest message")

    def close() -> None:
        order.append("closed the store")
        closing.set()
        real_close()

    monkeypatch.setattr(care_bot.publisher, "refresh", refresh_after_stop_began)
    monkeypatch.setattr(care_bot.repos.store, "close", close)
    status, _, _ = click(care_bot, ids.ACTION_CLAIM, task)
    assert status == 200
    care_bot.fake.wait_for(lambda: care_bot.repos.tasks.require(task).claimed_by == "U1")

    care_bot.stop()

    assert order == ["edited the digest message", "closed the store"]
    assert care_bot.fake.calls("chat.update")


def test_start_up_spreads_the_tasks_of_an_old_directory_before_any_claim(
    bots, tmp_path, monkeypatch
):
    data = tmp_path / "data"
    made = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with Store(data, shards=2) as store:  # written by a version that never spread its tasks
        Repos.open(store).tasks.create_many(
            [
                Task(
                    f"t{n:04d}",
                    f"cus_{n}:checkin_30",
                    "checkin_30",
                    f"cus_{n}",
                    date(2026, 6, 1),
                    made,
                )
                for n in range(7)
            ]
        )
    monkeypatch.setattr(tasks_module, "SPREAD_ABOVE", 2)
    monkeypatch.setattr(tasks_module, "SPREAD_TO", 1)

    bot = bots(clock=FixedClock(made), data_dir=data)

    assert bot.repos.store.shard_count("tasks") == 8
    assert not (data / "tasks" / "00.json").exists()
    assert sorted(t.id for t in bot.repos.tasks.all()) == [f"t{n:04d}" for n in range(7)]
