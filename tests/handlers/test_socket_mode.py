"""Socket Mode: with SLACK_APP_TOKEN set the bot takes commands and clicks over a websocket."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator

import pytest

from bot.blocks import ids
from tests.fakeslack import FakeSlack, SocketModeServer, close_client
from tests.handlers.conftest import (
    DIGEST,
    CareBot,
    add_checkins,
    entry_buttons,
    entry_message,
    message_text,
    posted_record,
    tasks_of,
)
from tests.slackreq import block_actions_payload, command_payload


@pytest.fixture
def socket_bot(
    bots: Callable[..., CareBot], fake_slack: FakeSlack, socket_mode: SocketModeServer
) -> Iterator[CareBot]:
    bot = bots(SLACK_APP_TOKEN=fake_slack.app_token)
    socket_mode.wait_connected()
    yield bot
    close_client(bot.runtime.socket.client)  # type: ignore[attr-defined]


def _command(sm: SocketModeServer, text: str, user: str = "U1") -> dict:
    envelope_id = sm.push_command(command_payload("/care", text, user_id=user))
    return sm.wait_for_ack(envelope_id)


def test_connects_with_the_app_token_and_a_command_ack_carries_the_reply(
    socket_bot, socket_mode, fake_slack
):
    ack = _command(socket_mode, "help")

    assert ack["payload"]["response_type"] == "ephemeral"
    assert "/care claim" in message_text(ack["payload"])
    opens = fake_slack.calls("apps.connections.open")
    assert [c.status for c in opens] == [200]


def test_digest_and_a_claim_click_over_the_socket(socket_bot, socket_mode):
    add_checkins(socket_bot.repos, 2)
    ack = _command(socket_mode, "digest now")
    assert ack["payload"]["text"] == f"Posting today's digest in <#{DIGEST}> now."
    socket_bot.fake.wait_for(lambda: posted_record(socket_bot))
    task = tasks_of(socket_bot.repos, "cus_001")[0].id
    message = entry_message(socket_bot, task)
    value = entry_buttons(message, task)[ids.ACTION_CLAIM]["value"]

    envelope_id = socket_mode.push_interactive(
        block_actions_payload(
            ids.ACTION_CLAIM, value, user_id="U2", channel_id=DIGEST, message=message
        )
    )

    assert socket_mode.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    socket_bot.fake.wait_for(
        lambda: "Claimed by <@U2>" in message_text(entry_message(socket_bot, task))
    )
    assert socket_bot.repos.tasks.require(task).claimed_by == "U2"


def test_http_events_endpoint_is_closed_in_socket_mode_but_health_answers(socket_bot):
    conn = http.client.HTTPConnection("127.0.0.1", socket_bot.runtime.server.port, timeout=5)  # type: ignore[attr-defined]
    try:
        conn.request("GET", "/healthz")
        health = conn.getresponse()
        health.read()
        assert health.status == 200
        conn.request("POST", "/slack/events", body=b"command=%2Fcare", headers={})
        assert conn.getresponse().status == 404
    finally:
        conn.close()


def test_a_request_over_the_socket_is_in_flight_until_acknowledged(socket_bot, socket_mode):
    """In Socket Mode too, background work sees each Slack request (`bot.activity`): the
    headline waits for a lull in them and its passes pause while one is answered."""
    import threading
    from datetime import timedelta

    from tests.handlers.conftest import TODAY, add_task

    activity = socket_bot.runtime.activity
    add_checkins(socket_bot.repos, 1)
    task = add_task(socket_bot.repos, "cus_000", "checkin_30", TODAY, socket_bot.clock.now())
    minute = timedelta(seconds=60)
    assert activity.lull(minute)
    acks: list[dict] = []
    with socket_bot.repos.store.lock:  # the claim waits for the store inside the request
        claimer = threading.Thread(
            target=lambda: acks.append(_command(socket_mode, f"claim {task.id}"))
        )
        claimer.start()
        assert socket_bot.fake.wait_for(lambda: activity.in_flight == 1)
        assert not activity.lull(minute)
    claimer.join(10)
    assert acks and "You claimed" in message_text(acks[0]["payload"])
    # it ends once the acknowledgement is sent: the test may read the ack a moment before
    assert socket_bot.fake.wait_for(lambda: activity.in_flight == 0)
    assert not activity.lull(minute)
    socket_bot.clock.advance(seconds=60)
    assert activity.lull(minute)
