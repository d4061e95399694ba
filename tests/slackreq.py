"""What Slack sends to the bot, built and signed the way Slack does, and a client that sends it.

Payload factories return the dicts Slack sends (``command_payload``, ``block_actions_payload``,
``view_submission_payload``, ``event_payload``): Socket Mode tests push them in envelopes. The
``*_body`` functions encode them as the HTTP bodies of Slack's requests: a form for slash
commands, ``payload=<json>`` for interactivity, JSON for events. ``sign`` adds Slack's v0
signature and ``SlackSender`` POSTs to the bot's real ``/slack/events`` with http.client.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import time
import uuid
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

TEAM_ID, TEAM_DOMAIN, APP_ID, BOT_USER_ID = "T0CARE", "proactive-care", "A0CARE", "UBOT"
VERIFICATION_TOKEN = "deprecated-verification-token"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_serial = itertools.count(1)


def _team() -> dict[str, str]:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def _user(user_id: str) -> dict[str, str]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}


def placeholder_trigger_id() -> str:
    """A trigger_id the fake did not issue (views.open with it fails, loudly)."""
    return f"{next(_serial)}.{int(time.time())}.unissued{uuid.uuid4().hex[:8]}"


# -- slash commands ------------------------------------------------------------------------


def command_payload(
    command: str = "/care",
    text: str = "",
    *,
    user_id: str = "U1",
    channel_id: str = "C1",
    response_url: str | None = None,
    trigger_id: str | None = None,
    channel_name: str = "general",
) -> dict[str, str]:
    """The fields of a slash command invocation, in Slack's order."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url
        or f"https://hooks.slack.com/commands/{TEAM_ID}/{next(_serial)}/unissued",
        "trigger_id": trigger_id or placeholder_trigger_id(),
    }


def command_body(command: str = "/care", text: str = "", **fields: Any) -> str:
    """A slash command as Slack POSTs it: form-encoded (see ``command_payload`` for fields)."""
    return urlencode(command_payload(command, text, **fields))


# -- interactivity -------------------------------------------------------------------------


def _find_action(blocks: list[dict[str, Any]], action_id: str) -> tuple[str | None, dict[str, Any]]:
    """The block_id and element with ``action_id`` in the blocks, or (None, {})."""
    for block in blocks:
        elements = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if key in block:
                elements.append(block[key])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return None, {}


def block_actions_payload(
    action_id: str,
    value: str | None = None,
    *,
    user_id: str = "U1",
    message: dict[str, Any] | None = None,
    channel_id: str = "C1",
    container: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    view: dict[str, Any] | None = None,
    block_id: str | None = None,
) -> dict[str, Any]:
    """A click on a button (or another element) in a message, or in a view when ``view`` is given.

    The element is looked up by ``action_id`` in the message's or view's blocks, so the payload
    carries its real block_id, type and text; ``value`` defaults to the element's own value.
    """
    blocks = (view or message or {}).get("blocks") or []
    found_block_id, element = _find_action(blocks, action_id)
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or found_block_id or "block",
        "type": element.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }
    if "text" in element:
        action["text"] = element["text"]
    if value is not None or "value" in element:
        action["value"] = value if value is not None else element["value"]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or placeholder_trigger_id(),
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        payload["container"] = container or {"type": "view", "view_id": view.get("id")}
        payload["view"] = view
        return payload
    msg = message or {"ts": f"{time.time():.6f}", "type": "message", "blocks": []}
    payload["container"] = container or {
        "type": "message",
        "message_ts": msg["ts"],
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    payload.update(
        channel={"id": channel_id, "name": "channel"},
        message=msg,
        state={"values": {}},
        response_url=response_url
        or f"https://hooks.slack.com/actions/{TEAM_ID}/{next(_serial)}/unissued",
    )
    return payload


def block_actions_body(action_id: str, value: str | None = None, **fields: Any) -> str:
    """A button click as Slack POSTs it: ``payload=<url-encoded JSON>``."""
    return interactive_body(block_actions_payload(action_id, value, **fields))


def text_input(value: str | None) -> dict[str, Any]:
    """A plain_text_input's entry in ``view.state.values``."""
    return {"type": "plain_text_input", "value": value}


def static_select(value: str | None, text: str | None = None) -> dict[str, Any]:
    """A static_select's entry in ``view.state.values`` (None: nothing chosen)."""
    option = None
    if value is not None:
        option = {"text": {"type": "plain_text", "text": text or value}, "value": value}
    return {"type": "static_select", "selected_option": option}


def datepicker(selected_date: str | None) -> dict[str, Any]:
    """A datepicker's entry in ``view.state.values`` (``YYYY-MM-DD`` or None)."""
    return {"type": "datepicker", "selected_date": selected_date}


def view_submission_payload(
    callback_id: str,
    state_values: dict[str, dict[str, dict[str, Any]]],
    private_metadata: str = "",
    *,
    user_id: str = "U1",
    view_id: str | None = None,
    view: dict[str, Any] | None = None,
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A modal submitted: ``state_values`` is {block_id: {action_id: text_input(...)...}}.

    ``view`` (e.g. one of ``fake.views``) supplies blocks, title and ids; the arguments win.
    """
    base = dict(view or {})
    view_id = view_id or base.get("id") or f"V{next(_serial):010d}"
    submitted = {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": "modal",
        "blocks": base.get("blocks", []),
        "private_metadata": private_metadata or base.get("private_metadata", ""),
        "callback_id": callback_id,
        "state": {"values": state_values},
        "hash": base.get("hash", f"{int(time.time())}.fakehash"),
        "title": base.get("title", {"type": "plain_text", "text": "Modal"}),
        "clear_on_close": False,
        "notify_on_close": False,
        "close": base.get("close"),
        "submit": base.get("submit", {"type": "plain_text", "text": "Submit"}),
        "previous_view_id": base.get("previous_view_id"),
        "root_view_id": base.get("root_view_id", view_id),
        "app_id": APP_ID,
        "external_id": base.get("external_id", ""),
        "app_installed_team_id": TEAM_ID,
        "bot_id": base.get("bot_id", "B0CARE"),
    }
    return {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or placeholder_trigger_id(),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_submission_body(
    callback_id: str, state_values: dict[str, Any], private_metadata: str = "", **fields: Any
) -> str:
    """A modal submission as Slack POSTs it: ``payload=<url-encoded JSON>``."""
    payload = view_submission_payload(callback_id, state_values, private_metadata, **fields)
    return interactive_body(payload)


def block_suggestion_body(
    action_id: str, block_id: str, value: str, view: dict[str, Any], user_id: str = "U1"
) -> str:
    """What Slack sends as someone types into an external_select of a modal (options load)."""
    payload = {
        "type": "block_suggestion",
        "user": _user(user_id),
        "team": _team(),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "container": {"type": "view", "view_id": view.get("id")},
        "view": view,
    }
    return interactive_body(payload)


def interactive_body(payload: dict[str, Any]) -> str:
    """Any interactivity payload, form-encoded as ``payload=...``."""
    return "payload=" + quote(json.dumps(payload, separators=(",", ":")))


# -- events --------------------------------------------------------------------------------


def app_home_opened(user_id: str = "U1", tab: str = "home", view: dict | None = None) -> dict:
    """An ``app_home_opened`` event (the user opened the bot's Home tab)."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": f"D{user_id}",
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    return event


def event_payload(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """An ``event_callback`` wrapping ``event``, as the Events API sends it."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    """An Events API request body (JSON)."""
    return json.dumps(event_payload(event, event_id))


def url_verification_body(challenge: str = "fake-challenge") -> str:
    """The request Slack sends when the Events request URL is set."""
    return json.dumps(
        {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    )


# -- signing and sending -------------------------------------------------------------------


def sign(body: str | bytes, secret: str, timestamp: int | str | None = None) -> dict[str, str]:
    """Slack's v0 request signature headers for ``body``.

    Args:
        body: The exact request body.
        secret: The app's signing secret.
        timestamp: Epoch seconds (default now); a stale one tests replay protection.

    Returns:
        ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` headers.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    base = f"v0:{ts}:{raw}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class TriggerSource(Protocol):
    """What SlackSender needs from the fake to hand out real trigger ids and response URLs."""

    def issue_trigger_id(self, user: str = ...) -> str: ...

    def new_response_url(
        self, channel: str = ..., user: str = ..., message_ts: str | None = ...
    ) -> str: ...


class SlackSender:
    """POSTs signed requests to the bot's endpoint, as Slack does.

    Args:
        bot_url: The endpoint, e.g. ``http://127.0.0.1:PORT/slack/events``.
        signing_secret: The secret the bot verifies signatures with.
        fake: A FakeSlack; when given, commands and actions carry a trigger_id and response_url
            it issued (so views.open and response_url posts work).
        timeout: Seconds to wait for the bot's answer.
    """

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        *,
        fake: TriggerSource | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.bot_url, self.signing_secret = bot_url, signing_secret
        self.fake, self.timeout = fake, timeout
        parts = urlsplit(bot_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._path = parts.path or "/"

    def post(
        self,
        body: str,
        content_type: str = FORM,
        headers_extra: dict[str, str] | None = None,
        timestamp: int | str | None = None,
        signed: bool = True,
    ) -> tuple[int, dict[str, str], str]:
        """POST ``body``; returns (status, headers with lower-case names, text)."""
        data = body.encode("utf-8")
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if signed:
            headers.update(sign(data, self.signing_secret, timestamp))
        headers.update(headers_extra or {})
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        try:
            conn.request("POST", self._path, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
        finally:
            conn.close()

    def command(
        self, text: str = "", command: str = "/care", **fields: Any
    ) -> tuple[int, dict, str]:
        """Send a slash command (fields as in ``command_payload``)."""
        if self.fake is not None:
            user, channel = fields.get("user_id", "U1"), fields.get("channel_id", "C1")
            fields.setdefault("trigger_id", self.fake.issue_trigger_id(user))
            fields.setdefault("response_url", self.fake.new_response_url(channel, user))
        return self.post(command_body(command, text, **fields))

    def action(
        self, action_id: str, value: str | None = None, **fields: Any
    ) -> tuple[int, dict, str]:
        """Send a block_actions click (fields as in ``block_actions_payload``)."""
        if self.fake is not None:
            user, channel = fields.get("user_id", "U1"), fields.get("channel_id", "C1")
            fields.setdefault("trigger_id", self.fake.issue_trigger_id(user))
            if fields.get("view") is None:
                ts = (fields.get("message") or {}).get("ts")
                fields.setdefault("response_url", self.fake.new_response_url(channel, user, ts))
        return self.post(block_actions_body(action_id, value, **fields))

    def submit(
        self, callback_id: str, state_values: dict[str, Any], **fields: Any
    ) -> tuple[int, dict, str]:
        """Send a view_submission (fields as in ``view_submission_payload``)."""
        if self.fake is not None:
            fields.setdefault("trigger_id", self.fake.issue_trigger_id(fields.get("user_id", "U1")))
        return self.post(view_submission_body(callback_id, state_values, **fields))

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> tuple[int, dict, str]:
        """Send an Events API event; ``retry_num`` makes it one of Slack's retries."""
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.post(event_body(event, event_id), JSON, headers_extra=extra)
