"""`POST /slack/events` on the signed-route server: Slack's v0 signature, then Bolt.

The signature is checked on the raw bytes with slack_sdk's `SignatureVerifier` before anything
decodes the body. Then the body becomes Bolt's request, as Bolt's WSGI adapter builds it, and
Bolt parses it (JSON, or a form whose `payload` is JSON): a body that is not UTF-8 or that Bolt
cannot parse is not what Slack sends, and gets 400 and one log line instead of a traceback.
Bolt's answer goes out through the WSGI adapter's response conversion.

Each request that passed the signature check is reported to the bot's `bot.activity.Activity`
while Bolt computes its answer: background work waits for a lull in them and pauses while one
is in flight. Counted here, after the check, a flood of forged or replayed requests (401) is
no activity and defers nothing, and no request is verified a second time to count it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.activity import Activity
from handlers.webhooks import Malformed, Reply, SignedRequest, Verifier, WebApp

PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack's largest payloads (a modal's state) are far below this
MAX_AGE = 5 * 60  # seconds; older requests are replays


def slack_verifier(signing_secret: str) -> Verifier:
    """Slack's request signature (v0 HMAC of `v0:<timestamp>:<body>`, timestamp within 5 min)."""
    verifier = SignatureVerifier(signing_secret)

    def verify(body: bytes, headers: Mapping[str, str]) -> str | None:
        timestamp = headers.get("X-Slack-Request-Timestamp") or ""
        signature = headers.get("X-Slack-Signature") or ""
        if not timestamp or not signature:
            return "Missing X-Slack-Request-Timestamp or X-Slack-Signature."
        if not (timestamp.isascii() and timestamp.isdigit()):
            return "X-Slack-Request-Timestamp is not a number."
        if abs(verifier.clock.now() - int(timestamp)) > MAX_AGE:
            return "X-Slack-Request-Timestamp is more than 5 minutes off: a replay, or a bad clock."
        try:
            valid = verifier.is_valid(body, timestamp, signature)
        except UnicodeDecodeError:  # Slack signs UTF-8 text: such a body cannot be from Slack
            raise Malformed("The body is not UTF-8.") from None
        return None if valid else "Wrong X-Slack-Signature."

    return verify


def register_slack(
    web: WebApp, bolt: App, signing_secret: str, activity: Activity | None = None
) -> None:
    """Serve Bolt at `/slack/events` behind Slack's signature.

    Args:
        activity: where each signed request is reported in flight until answered; None:
            nowhere.
    """

    def dispatch(signed: SignedRequest) -> Reply:
        if activity is None:
            return handle(signed)
        with activity.serving():
            return handle(signed)

    def handle(signed: SignedRequest) -> Reply:
        try:
            text = signed.body.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("The body is not UTF-8.") from None
        headers: dict[str, str | Sequence[str]] = dict(signed.headers.items())
        try:  # Bolt parses the body (JSON, or a form with a JSON `payload`) as it builds this
            bolt_request = BoltRequest(body=text, query=signed.query, headers=headers)
        except Exception as exc:
            raise Malformed(f"The body is not what Slack sends: {_short(exc)}") from None
        check_shape(bolt_request.body)
        answer = bolt.dispatch(bolt_request)
        wsgi = WsgiHttpResponse(answer.status, answer.headers, answer.body)  # Bolt's WSGI adapter
        return Reply(answer.status, b"".join(wsgi.get_body()), wsgi.get_headers())

    web.signed_route(
        PATH, verifier=slack_verifier(signing_secret), max_body=MAX_BODY, handler=dispatch
    )


# Top-level fields Bolt's built-in middleware reads as objects, and as lists of objects.
_OBJECTS = ("event", "view", "function_data", "assistant_thread")
_LISTS_OF_OBJECTS = ("authorizations", "actions")


def check_shape(body: dict[str, Any]) -> None:
    """Raise `Malformed` for a payload whose fields Bolt would dereference with the wrong type."""
    for key in _OBJECTS:
        if key in body and not isinstance(body[key], dict):
            raise Malformed(f"The body's `{key}` is not an object.")
    for key in _LISTS_OF_OBJECTS:
        value = body.get(key)
        if value is not None and not (
            isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ):
            raise Malformed(f"The body's `{key}` is not a list of objects.")


def _short(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return f"{type(exc).__name__}: {str(exc)[:200]}"
