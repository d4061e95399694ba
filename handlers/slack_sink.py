"""Posting and editing messages through slack_sdk, for the digest and the triage channel."""

from __future__ import annotations

import http.client
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.edits import EditFailed
from bot.posting import UncertainPost

# chat.update errors after which the message can never be edited: it (or its channel) is gone.
NEVER_EDITABLE = frozenset(
    {"message_not_found", "channel_not_found", "cant_update_message", "edit_window_closed"}
)


def make_client(token: str, base_url: str = "", retries: int = 5) -> WebClient:
    """A WebClient that waits out 429s (Retry-After) and retries 5xx and connection errors."""
    client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL, timeout=30)
    client.retry_handlers.extend(
        [
            RateLimitErrorRetryHandler(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),
        ]
    )
    # slack_sdk installs a one-shot connection retry by default; allow a few more.
    client.retry_handlers[:] = [
        h for h in client.retry_handlers if not isinstance(h, ConnectionErrorRetryHandler)
    ]
    client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=retries))
    return client


def posting_client(client: WebClient, retries: int = 5) -> WebClient:
    """A client for posts that must not be doubled: it retries 429s only.

    Slack can store a message and then answer 5xx, or the answer can be lost on the way back:
    resending the same request then posts the message twice. A 429 is safe to wait out (Slack
    refused the call), anything else is left to the caller, who looks for the message first.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=retries)],
    )


class SlackSink:
    """`bot.posting.MessageSink` over the Web API."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.poster = posting_client(client)

    def post(
        self,
        channel: str,
        message: dict[str, Any],
        thread_ts: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": message["text"],
            "blocks": message.get("blocks"),
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if metadata:
            kwargs["metadata"] = metadata
        try:
            response = self.poster.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            if exc.response.status_code >= 500:
                raise UncertainPost(f"Slack answered {exc.response.status_code}") from exc
            raise
        except (OSError, http.client.HTTPException) as exc:  # sent, maybe stored, answer lost
            raise UncertainPost(f"no answer from Slack ({exc!r})") from exc
        return str(response["ts"])

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        """Edit a message; `EditFailed` (permanent when Slack says it never can) if not done."""
        try:
            self.client.chat_update(
                channel=channel, ts=ts, text=message["text"], blocks=message.get("blocks")
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            raise EditFailed(f"chat.update: {error}", permanent=error in NEVER_EDITABLE) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise EditFailed(f"chat.update: no answer ({exc!r})") from exc

    def find(self, channel: str, metadata: dict[str, Any], thread_ts: str = "") -> dict[str, str]:
        found: dict[str, str] = {}
        cursor = None
        for _ in range(20):  # at most 20 pages: a digest thread or a day of channel history
            if thread_ts:
                page = self.client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                page = self.client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=200, cursor=cursor
                )
            messages: list[dict[str, Any]] = page.get("messages", [])
            for message in messages:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if "key" in payload:
                    found.setdefault(str(payload["key"]), str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor or thread_ts == "":
                break
        return found
