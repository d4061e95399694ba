"""The Socket Mode harness, with slack_sdk's builtin SocketModeClient and Bolt's handler over ws://."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from tests.fakeslack import FakeSlack, SocketModeServer
from tests.fakeslack.socket import close_client
from tests.slackreq import app_home_opened, command_payload, event_payload


@pytest.fixture
def sdk_client(fake_slack: FakeSlack, socket_mode: SocketModeServer) -> Iterator[SocketModeClient]:
    web = WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    client = SocketModeClient(
        app_token=fake_slack.app_token, web_client=web, auto_reconnect_enabled=False
    )
    yield client
    close_client(client)


def test_builtin_client_connects_through_apps_connections_open_and_acks_a_command(
    fake_slack, socket_mode, sdk_client
):
    received: list[SocketModeRequest] = []

    def on_request(client: SocketModeClient, req: SocketModeRequest) -> None:
        received.append(req)
        client.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload={"text": "got it"})
        )

    sdk_client.socket_mode_request_listeners.append(on_request)
    sdk_client.connect()
    socket_mode.wait_connected()

    envelope_id = socket_mode.push_command(command_payload("/care", "help", user_id="U2"))
    ack = socket_mode.wait_for_ack(envelope_id)

    assert ack == {"envelope_id": envelope_id, "payload": {"text": "got it"}}
    assert received[0].type == "slash_commands"
    assert received[0].payload["text"] == "help" and received[0].payload["user_id"] == "U2"
    assert [c.method for c in fake_slack.calls()] == ["apps.connections.open"]


def test_wait_for_ack_fails_clearly_when_the_client_never_acks(socket_mode, sdk_client):
    sdk_client.connect()
    socket_mode.wait_connected()
    envelope_id = socket_mode.push_event(event_payload(app_home_opened("U1")))
    with pytest.raises(AssertionError, match=f"no ack for envelope {envelope_id}"):
        socket_mode.wait_for_ack(envelope_id, timeout=0.2)


def test_wait_connected_fails_clearly_when_nobody_connects(socket_mode):
    with pytest.raises(AssertionError, match="0 client\\(s\\) connected"):
        socket_mode.wait_connected(timeout=0.1)


def test_bolt_app_in_socket_mode_answers_a_command_and_an_event(fake_slack, socket_mode):
    app = App(
        client=WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url),
        signing_secret="unused-in-socket-mode",
    )
    opened: list[str] = []

    @app.command("/care")
    def care(ack, command):
        ack(f"You said {command['text']}")

    @app.event("app_home_opened")
    def home_opened(event, client):
        opened.append(event["user"])
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
            },
        )

    handler = SocketModeHandler(app, fake_slack.app_token)
    handler.connect()
    try:
        socket_mode.wait_connected()
        command_ack = socket_mode.wait_for_ack(
            socket_mode.push_command(command_payload("/care", "mine"))
        )
        socket_mode.wait_for_ack(socket_mode.push_event(event_payload(app_home_opened("U3"))))
        fake_slack.wait_for(lambda: fake_slack.home("U3"))
    finally:
        close_client(handler.client)

    assert command_ack["payload"]["text"] == "You said mine"
    assert opened == ["U3"]
