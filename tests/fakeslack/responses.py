"""response_url support for the fake: URLs handed out with commands and actions, and their effects.

A POST to one is recorded and acts as Slack does: ``ephemeral`` (the default) shows a private
message to the user, ``in_channel`` posts to the channel, ``replace_original`` edits the message
the action came from and ``delete_original`` removes it. A URL takes 5 posts within 30 minutes.
"""

from __future__ import annotations

import secrets
from typing import Any

from tests.fakeslack.blockkit import check_blocks
from tests.fakeslack.state import SlackError, Workspace

MAX_POSTS = 5
LIFETIME = 30 * 60.0


class ResponseUrls:
    """The response URLs one fake server has issued, and everything posted to them."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.urls: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []

    def new(self, base: str, channel: str, user: str, message_ts: str | None) -> str:
        """Issue a URL on the fake server for an interaction by ``user`` in ``channel``."""
        key = f"{self.ws.team_id}/{len(self.urls) + 1}/{secrets.token_hex(12)}"
        url = f"{base}/commands/{key}"
        self.urls[url] = {
            "channel": channel,
            "user": user,
            "message_ts": message_ts,
            "issued": self.ws.now(),
            "posts": 0,
        }
        return url

    def handle(self, url: str, body: Any) -> tuple[int, str, str | None]:
        """Apply one POST; returns (HTTP status, answer text, violation or None)."""
        entry = self.urls.get(url)
        self.posts.append({"url": url, "body": body, "time": self.ws.now()})
        if entry is None:
            return 404, "no_service", f"response_url: {url} was never issued"
        if self.ws.now() - entry["issued"] > LIFETIME:
            return 404, "expired_url", f"response_url: used after {LIFETIME / 60:.0f} minutes"
        if entry["posts"] >= MAX_POSTS:
            return 404, "used_url", f"response_url: more than {MAX_POSTS} posts"
        if not isinstance(body, dict):
            return 400, "invalid_payload", "response_url: the body is not a JSON object"
        try:
            self._apply(entry, body)
        except SlackError as err:
            return 400, err.code, f"response_url: {err.detail or err.code}"
        entry["posts"] += 1
        return 200, "ok", None

    def _apply(self, entry: dict[str, Any], body: dict[str, Any]) -> None:
        ws, channel, user = self.ws, entry["channel"], entry["user"]
        if body.get("delete_original"):
            if entry["message_ts"] and ws.find(channel, entry["message_ts"]) is not None:
                ws.delete(channel, entry["message_ts"])
            return
        content = _content(body)
        if body.get("replace_original"):
            if entry["message_ts"] and ws.find(channel, entry["message_ts"]) is not None:
                ws.update(channel, entry["message_ts"], content)
                return
            for eph in reversed(ws.ephemerals):
                if eph["channel"] == channel and eph["user"] == user:
                    eph.setdefault("replaced", []).append(
                        {k: eph.get(k) for k in ("text", "blocks")}
                    )
                    eph.update(content)
                    return
        if body.get("response_type") == "in_channel":
            ws.post(channel, ws.bot_user_id, content, thread_ts=body.get("thread_ts"))
            return
        ws.ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "message_ts": ws.next_ts(),
                "thread_ts": body.get("thread_ts"),
                "source": "response_url",
                **content,
            }
        )


def _content(body: dict[str, Any]) -> dict[str, Any]:
    content = {k: body[k] for k in ("text", "blocks", "attachments") if body.get(k) is not None}
    if "blocks" in content:
        problems = check_blocks(content["blocks"], surface="message")
        if problems:
            raise SlackError("invalid_blocks", "; ".join(problems))
    if not content.get("text") and not content.get("blocks"):
        raise SlackError("no_text", "a response needs text or blocks")
    return content
