"""The HTTP front door: `/slack/events` (Bolt), `GET /healthz`, and `POST /inbox`.

A threading server so that a slow request never holds up Slack's 3-second acks. Bolt's own
development server is single-threaded and cannot host the health check or the inbox webhook.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest

log = logging.getLogger(__name__)
MAX_SLACK_BODY = 1024 * 1024

# (body, headers) -> (status, json-able body)
InboxHandler = Callable[[bytes, dict[str, str]], tuple[int, dict[str, Any]]]


class CareHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Slack sends clicks of a whole team at once; the default backlog of 5 resets the rest.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        bolt: App | None,
        inbox: InboxHandler | None = None,
        inbox_max_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.bolt = bolt
        self.inbox = inbox
        self.inbox_max_bytes = inbox_max_bytes
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed request instead of printing it; a client that hung up is not an error."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            log.debug("client %s went away: %s", client_address, exc)
        else:
            log.exception("request from %s failed", client_address)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to this long
            name="care-http",
            daemon=True,
        )
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: CareHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("http: " + format, *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        path = self.path.partition("?")[0]
        if path == "/healthz":
            self._send(200, {"ok": True})
        else:
            self._send(404, {"ok": False, "error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if path == "/slack/events" and self.server.bolt is not None:
            if length > MAX_SLACK_BODY:
                self._send(413, {"ok": False, "error": "body_too_large"})
                return
            body = self.rfile.read(length).decode("utf-8")
            response = self.server.bolt.dispatch(
                BoltRequest(body=body, query=query, headers=dict(self.headers))
            )
            payload = response.body if isinstance(response.body, str) else json.dumps(response.body)
            self._send_raw(response.status, payload.encode(), response.headers)
        elif path == "/inbox" and self.server.inbox is not None:
            if length > self.server.inbox_max_bytes:
                self.close_connection = True
                self._send(
                    413, {"ok": False, "error": "The message is over 10 MB; it was not accepted."}
                )
                return
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                status, answer = self.server.inbox(raw, headers)
            except Exception:
                log.exception("inbox webhook failed")
                status, answer = (
                    500,
                    {"ok": False, "error": "internal error; the sender should retry"},
                )
            self._send(status, answer)
        else:
            self._send(404, {"ok": False, "error": "not_found"})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        self._send_raw(status, json.dumps(body).encode(), {"content-type": ["application/json"]})

    def _send_raw(self, status: int, body: bytes, headers: dict[str, Any]) -> None:
        self.send_response(status)
        for key, values in headers.items():
            if key.lower() == "content-length":
                continue
            for value in values if isinstance(values, list | tuple) else [values]:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
