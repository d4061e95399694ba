"""`POST /slack/events` on the signed-route server: Slack's v0 signature, then Bolt.

The signature is checked on the raw bytes with slack_sdk's `SignatureVerifier` before anything
decodes the body. Then Bolt's Flask adapter turns it into Bolt's request, which parses the body
(JSON, or a form whose `payload` is JSON): a body that is not UTF-8 or that Bolt cannot parse is
not what Slack sends, and gets 400 and one log line instead of a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response, request
from slack_bolt import App
from slack_bolt.adapter.flask.handler import to_bolt_request, to_flask_response
from slack_sdk.signature import SignatureVerifier

from handlers.webhooks import Malformed, SignedRequest, Verifier, WebApp

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


def register_slack(web: WebApp, bolt: App, signing_secret: str) -> None:
    """Serve Bolt at `/slack/events` behind Slack's signature."""

    def dispatch(signed: SignedRequest) -> Response:
        try:
            signed.body.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("The body is not UTF-8.") from None
        try:  # Bolt parses the body (JSON, or a form with a JSON `payload`) as it builds this
            bolt_request = to_bolt_request(request)
        except Exception as exc:
            raise Malformed(f"The body is not what Slack sends: {_short(exc)}") from None
        return to_flask_response(bolt.dispatch(bolt_request))

    web.signed_route(
        PATH, verifier=slack_verifier(signing_secret), max_body=MAX_BODY, handler=dispatch
    )


def _short(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return f"{type(exc).__name__}: {str(exc)[:200]}"
