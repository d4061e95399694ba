"""The running bot as a whole: shutting down does not cut off work Slack was already told about."""

from __future__ import annotations

import threading

from bot.blocks import ids
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
