"""tests/slackreq.py: bodies Slack sends, its signature, and SlackSender against a real Bolt app."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from tests.fakeslack import FakeSlack
from tests.slackreq import (
    SlackSender,
    app_home_opened,
    block_actions_payload,
    command_body,
    event_body,
    sign,
    static_select,
    text_input,
    url_verification_body,
    view_submission_body,
)

SECRET = "test-signing-secret"


def test_signature_is_accepted_by_slack_sdks_verifier():
    body = command_body("/care", "claim T12")
    headers = sign(body, SECRET)
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET).is_valid_request(body + "&x=1", headers)


def test_signature_with_a_stale_timestamp_is_refused_by_the_verifier():
    body = command_body()
    assert not SignatureVerifier(SECRET).is_valid_request(
        body, sign(body, SECRET, int(time.time()) - 600)
    )


def test_command_body_is_the_form_slack_posts():
    fields = {
        k: v[0]
        for k, v in parse_qs(command_body("/care", "log T1 email reached", user_id="U2")).items()
    }
    assert fields["command"] == "/care"
    assert fields["text"] == "log T1 email reached"
    assert fields["user_id"] == "U2" and fields["team_id"] == "T0CARE"
    assert fields["response_url"].startswith("https://") and fields["trigger_id"]


def test_block_actions_payload_takes_block_id_type_text_and_value_from_the_message():
    message = {
        "ts": "1700000000.000100",
        "blocks": [
            {
                "type": "actions",
                "block_id": "task:T12",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "claim",
                        "value": "T12",
                        "text": {"type": "plain_text", "text": "Claim"},
                    }
                ],
            }
        ],
    }
    payload = block_actions_payload("claim", user_id="U3", message=message, channel_id="C0DIGEST")
    action = payload["actions"][0]
    assert (action["block_id"], action["type"], action["value"]) == ("task:T12", "button", "T12")
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C0DIGEST",
        "is_ephemeral": False,
    }
    assert payload["user"]["id"] == "U3" and payload["message"] is message


def test_block_actions_payload_in_a_view_has_the_view_and_no_response_url():
    view = {
        "id": "V1",
        "blocks": [
            {
                "type": "actions",
                "block_id": "b",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "go",
                        "text": {"type": "plain_text", "text": "Go"},
                    }
                ],
            }
        ],
    }
    payload = block_actions_payload("go", view=view)
    assert payload["container"] == {"type": "view", "view_id": "V1"}
    assert "response_url" not in payload and payload["view"] is view


# -- a real Bolt app behind a real HTTP port --------------------------------------------------


class _BoltHTTP(BaseHTTPRequestHandler):
    app: App

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        headers = {k.lower(): [v] for k, v in self.headers.items()}
        resp = self.app.dispatch(BoltRequest(body=body, headers=headers))
        data = resp.body.encode()
        self.send_response(resp.status)
        for name, values in resp.headers.items():
            for value in values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def bolt(fake_slack: FakeSlack) -> Iterator[tuple[App, SlackSender, list]]:
    app = App(
        client=WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url),
        signing_secret=SECRET,
    )
    seen: list = []
    handler = type("Handler", (_BoltHTTP,), {"app": app})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    yield app, SlackSender(url, SECRET, fake=fake_slack), seen
    server.shutdown()
    server.server_close()


def test_signed_command_reaches_bolt_and_its_ack_comes_back(bolt):
    app, sender, seen = bolt

    @app.command("/care")
    def care(ack, command):
        seen.append(command)
        ack(f"ok {command['text']}")

    status, _, text = sender.command("mine", user_id="U2")
    assert (status, text) == (200, "ok mine")
    assert seen[0]["user_id"] == "U2"


def test_unsigned_wrongly_signed_and_stale_requests_are_refused_by_bolt(bolt):
    app, sender, seen = bolt
    app.command("/care")(lambda ack: (seen.append(1), ack()))

    assert sender.post(command_body(), signed=False)[0] == 401
    assert sender.post(command_body(), headers_extra={"X-Slack-Signature": "v0=00"})[0] == 401
    assert sender.post(command_body(), timestamp=int(time.time()) - 600)[0] == 401
    assert seen == []


def test_action_opens_a_modal_with_the_trigger_id_the_sender_got_from_the_fake(bolt, fake_slack):
    app, sender, _ = bolt

    @app.action("log")
    def log(ack, body, client):
        ack()
        client.views_open(
            trigger_id=body["trigger_id"],
            view={"type": "modal", "title": {"type": "plain_text", "text": "Log"}, "blocks": []},
        )

    assert sender.action("log", "T12", user_id="U2")[0] == 200
    modals = fake_slack.wait_for(lambda: fake_slack.modals("U2"))  # the listener runs after ack
    assert modals[0]["title"]["text"] == "Log"


def test_view_submission_carries_state_values_and_metadata(bolt):
    app, sender, seen = bolt

    @app.view("log_outreach")
    def submitted(ack, view):
        seen.append(view)
        ack()

    values = {
        "channel": {"channel": static_select("email")},
        "note": {"note": text_input("Called")},
    }
    status, _, _ = sender.submit("log_outreach", values, private_metadata="T12", user_id="U1")
    assert status == 200
    assert seen[0]["private_metadata"] == "T12"
    assert seen[0]["state"]["values"]["channel"]["channel"]["selected_option"]["value"] == "email"


def test_event_and_its_retry_carry_the_same_event_id_and_retry_headers(bolt, fake_slack):
    app, sender, seen = bolt

    @app.event("app_home_opened")
    def opened(body, request):  # runs after Bolt's automatic ack
        seen.append((body["event_id"], request.headers.get("x-slack-retry-num", [None])[0]))

    assert sender.event(app_home_opened("U1"), event_id="Ev1")[0] == 200
    assert sender.event(app_home_opened("U1"), event_id="Ev1", retry_num=1)[0] == 200
    fake_slack.wait_for(lambda: len(seen) == 2)
    assert sorted(seen, key=str) == [("Ev1", "1"), ("Ev1", None)]


def test_url_verification_is_answered_with_the_challenge(bolt):
    _, sender, _ = bolt
    status, _, text = sender.post(url_verification_body("abc"), "application/json")
    assert status == 200 and json.loads(text)["challenge"] == "abc"


def test_bodies_are_valid_json_where_slack_sends_json():
    assert json.loads(event_body({"type": "app_home_opened"}))["type"] == "event_callback"
    assert view_submission_body("cb", {}).startswith("payload=")
