"""Socket Mode: Slack's requests come over a websocket instead of `POST /slack/events`.

Each one is reported to the bot's `bot.activity.Activity` from when Bolt takes it until its
acknowledgement is sent, as `/slack/events` reports each signed request (`handlers.slack_http`):
background work waits for a lull in them and pauses while one is in flight, in both modes.
Nothing over the socket needs a signature check first: the bot opened the connection to Slack
itself, with the app-level token, and only Slack speaks on it.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.activity import Activity


class WatchedSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler, each request counted in flight in `activity`."""

    def __init__(self, app: App, app_token: str, activity: Activity) -> None:
        self.activity = activity
        super().__init__(app, app_token)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        with self.activity.serving():
            super().handle(client, req)  # type: ignore[arg-type]
