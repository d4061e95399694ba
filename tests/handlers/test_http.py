"""The embedded server: clients that hold connections open cannot starve Slack's requests."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from config import ConfigError
from tests.handlers.conftest import fake_settings
from tests.slackreq import SlackSender

HELD = 64  # more connections than the server has worker threads (16)


def hold_connections(port: int, count: int = HELD) -> list[socket.socket]:
    """Connections that announce a 500-byte body and send 8 bytes of it (slowloris)."""
    held = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\n"
            b"command="
        )
        held.append(s)
    return held


def dropped(s: socket.socket) -> bool:
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_held_connections_take_no_worker_and_slack_is_still_answered(bots):
    bot = bots(HTTP_READ_TIMEOUT="30")
    threads_before = threading.active_count()
    held = hold_connections(bot.runtime.server.port)
    try:
        sender = SlackSender(bot.sender.bot_url, bot.sender.signing_secret, timeout=3)

        status, _, text = sender.command("help", user_id="U1")

        assert status == 200 and "/care claim" in text
        assert threading.active_count() - threads_before < 8  # not one thread per connection
    finally:
        for s in held:
            s.close()


def test_connections_that_never_send_their_body_are_dropped_after_the_read_timeout(bots):
    bot = bots(HTTP_READ_TIMEOUT="1")
    held = hold_connections(bot.runtime.server.port, 8)
    try:
        for s in held:
            s.settimeout(8)  # timeout 1 s, checked every second
        assert all(dropped(s) for s in held)
        status, _, _ = bot.sender.command("help", user_id="U1")
        assert status == 200
    finally:
        for s in held:
            s.close()


def test_stop_closes_held_connections_and_returns(bots):
    bot = bots()
    held = hold_connections(bot.runtime.server.port, 8)
    started = time.monotonic()

    bot.stop()

    assert time.monotonic() - started < 10
    for s in held:
        s.settimeout(5)
        assert dropped(s)
        s.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", bot.runtime.server.port), timeout=2).close()


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_read_timeout_must_be_a_positive_whole_number(fake_slack, tmp_path, value):
    with pytest.raises(ConfigError, match="HTTP_READ_TIMEOUT"):
        fake_settings(fake_slack, tmp_path, HTTP_READ_TIMEOUT=value)


def test_start_returns_once_every_worker_waits_so_a_first_request_queues_behind_none(caplog):
    """A request sent the moment `start()` returns finds idle workers: no queue-depth warning.

    Waitress counts a worker as busy until it first waits; before the fix a request sent right
    after start could be queued behind workers still starting, and waitress logged "Task queue
    depth is 1", the warning that under real load says the server has too few workers.
    """
    import http.client
    import logging

    from handlers.http import HttpServer, ServerLimits
    from handlers.webhooks import WebApp, reply

    web = WebApp()
    web.get("/ping", lambda: reply(200, ok=True))
    for _ in range(5):
        server = HttpServer(web, "127.0.0.1", 0, ServerLimits(threads=64))
        with caplog.at_level(logging.DEBUG, logger="waitress"):
            server.start()
            assert server.workers_waiting()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/ping")
            assert conn.getresponse().status == 200
            conn.close()
        server.stop()
    assert not [r for r in caplog.records if r.name == "waitress.queue"]


def test_a_signed_slack_request_is_in_flight_until_answered_and_other_paths_are_not(bots):
    """Each signed request to /slack/events is reported to the bot's activity tracker while
    its answer is computed (`handlers.slack_http`); /healthz is not Slack."""
    from datetime import timedelta

    from tests.handlers.conftest import TODAY, add_checkins, add_task

    bot = bots()
    activity = bot.runtime.activity
    add_checkins(bot.repos, 1)
    task = add_task(bot.repos, "cus_000", "checkin_30", TODAY, bot.clock.now())
    minute = timedelta(seconds=60)
    assert activity.lull(minute)  # nothing since the start
    answers: list[tuple[int, str]] = []
    with bot.repos.store.lock:  # the claim's handler waits for the store inside the request
        claimer = threading.Thread(
            target=lambda: answers.append(bot.sender.command(f"claim {task.id}")[::2])
        )
        claimer.start()
        assert bot.fake.wait_for(lambda: activity.in_flight == 1)
        assert not activity.lull(minute)
    claimer.join(10)
    assert answers and answers[0][0] == 200 and "You claimed" in answers[0][1]
    assert activity.in_flight == 0 and not activity.lull(minute)  # answered just now
    bot.clock.advance(seconds=60)
    assert activity.lull(minute)
    with socket.create_connection(("127.0.0.1", bot.runtime.server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 ")
    assert activity.lull(minute)  # a health check is not a person


def test_unsigned_badly_signed_and_replayed_requests_are_no_slack_activity(bots):
    """Only a request that passes Slack's signature check counts (`handlers.slack_http` reports
    it after the check): forged ones neither end a lull nor pause background work."""
    from datetime import timedelta

    from tests.slackreq import command_body

    bot = bots()
    activity, minute = bot.runtime.activity, timedelta(seconds=60)
    body = command_body("/care", "help", user_id="U1")
    guessed = SlackSender(bot.sender.bot_url, "a-guessed-secret")
    tampered = {"X-Slack-Signature": "v0=" + "0" * 64}

    statuses = [
        bot.sender.post(body, signed=False)[0],
        guessed.post(body)[0],
        bot.sender.post(body, headers_extra=tampered)[0],
        bot.sender.post(body, timestamp=int(time.time()) - 6 * 60)[0],  # a replay
        bot.sender.post(body, timestamp=int(time.time()) + 6 * 60)[0],
    ]

    assert statuses == [401] * 5
    assert activity.lull(minute) and activity.in_flight == 0  # none of them began
    assert bot.sender.post(body)[0] == 200  # the same body, signed now: Slack at work
    assert not activity.lull(minute)
