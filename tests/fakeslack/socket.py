"""Slack's side of Socket Mode, on a local websocket (port 0), for tests of the bot's Socket Mode.

The fake Web API's apps.connections.open hands out ``server.url``; a client that connects gets
``hello``, and the test pushes envelopes (slash_commands, interactive, events_api) and waits for
the client's ack carrying the same envelope_id:

    fake.socket_mode_url = sm.url
    SocketModeHandler(app, APP_TOKEN).connect()
    sm.wait_connected()
    envelope_id = sm.push_command(command_payload("/care", "help"))
    ack = sm.wait_for_ack(envelope_id)

The server runs the ``websockets`` library on its own asyncio loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import uuid
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class SocketModeServer:
    """A Socket Mode endpoint that plays Slack: hello, envelopes, acks, disconnect.

    Args:
        host: Interface to bind (loopback).
        app_id: The app id sent in ``hello``.
        ping_interval: Seconds between the server's websocket pings.
    """

    def __init__(
        self, host: str = "127.0.0.1", app_id: str = "A0CARE", ping_interval: float = 0.1
    ) -> None:
        self.host, self.app_id, self.ping_interval = host, app_id, ping_interval
        self.port = 0
        self.received: list[Any] = []  # every message from clients, decoded
        self.acks: dict[str, dict[str, Any]] = {}
        self._connections: list[ServerConnection] = []
        self._ticket = uuid.uuid4().hex
        self._counter = itertools.count(1)
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The ws:// URL apps.connections.open should answer with."""
        if not self.port:
            raise RuntimeError("SocketModeServer: call start() before asking for its url")
        return f"ws://{self.host}:{self.port}/link/?ticket={self._ticket}&app_id={self.app_id}"

    def start(self, timeout: float = 5.0) -> SocketModeServer:
        """Start the loop thread and wait until the port is bound."""
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="fake-socket-mode", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout) or not self.port:
            raise RuntimeError("SocketModeServer: the websocket server did not start")
        return self

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve(ready))
        self._loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        self._stopped = asyncio.Event()
        # Frequent pings also wake slack_sdk's builtin client, whose close() otherwise waits
        # out a 3-second socket timeout on ws:// connections.
        async with serve(
            self._handle, self.host, 0, ping_interval=self.ping_interval, ping_timeout=10
        ) as server:
            self._server = server
            self.port = next(iter(server.sockets)).getsockname()[1]
            ready.set()
            await self._stopped.wait()

    def stop(self) -> None:
        """Close every connection and the server."""
        if self._loop is not None and self._stopped is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the connection ----------------------------------------------------------------------

    async def _handle(self, conn: ServerConnection) -> None:
        with self._cond:
            self._connections.append(conn)
            self._cond.notify_all()
        hello = {
            "type": "hello",
            "num_connections": len(self._connections),
            "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        try:
            await conn.send(json.dumps(hello))
            async for raw in conn:
                self._on_message(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                self._connections.remove(conn)
                self._cond.notify_all()

    def _on_message(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = raw
        with self._cond:
            self.received.append(message)
            if isinstance(message, dict) and "envelope_id" in message:
                self.acks[message["envelope_id"]] = message
            self._cond.notify_all()

    @property
    def connection_count(self) -> int:
        """How many clients are connected now."""
        with self._cond:
            return len(self._connections)

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until ``count`` clients are connected.

        Raises:
            AssertionError: When they are not within ``timeout`` seconds.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._connections) >= count, timeout):
                raise AssertionError(
                    f"Socket Mode: {len(self._connections)} client(s) connected after {timeout}s, "
                    f"expected {count}; did apps.connections.open answer with {self.url}?"
                )

    def _send(self, message: dict[str, Any], timeout: float = 5.0) -> None:
        with self._cond:
            if not self._connections:
                raise AssertionError("Socket Mode: no client is connected to send to")
            conn = self._connections[-1]
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(conn.send(json.dumps(message)), self._loop)
        future.result(timeout)

    # -- envelopes ---------------------------------------------------------------------------

    def send_envelope(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int | None = None,
        retry_reason: str = "",
    ) -> str:
        """Push one envelope to the newest connection; returns its envelope_id."""
        envelope_id = f"{next(self._counter):04d}-{uuid.uuid4()}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
        }
        if retry_attempt is not None:
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        self._send(envelope)
        return envelope_id

    def push_command(self, payload: dict[str, Any]) -> str:
        """A slash command (the dict form of what HTTP mode gets form-encoded)."""
        return self.send_envelope("slash_commands", payload, accepts_response_payload=True)

    def push_interactive(self, payload: dict[str, Any]) -> str:
        """A block_actions / view_submission payload."""
        accepts = payload.get("type") == "view_submission"
        return self.send_envelope("interactive", payload, accepts_response_payload=accepts)

    def push_event(
        self, body: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> str:
        """An events_api envelope around an ``event_callback`` body."""
        return self.send_envelope(
            "events_api", body, retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The client's ack for ``envelope_id`` (with its ``payload`` when it sent one).

        Raises:
            AssertionError: When no ack arrives within ``timeout`` seconds.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(
                    f"Socket Mode: no ack for envelope {envelope_id} in {timeout}s"
                )
            return self.acks[envelope_id]

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Tell the client to reconnect, as Slack does every few hours."""
        self._send({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}})


def close_client(client: Any) -> None:
    """Close slack_sdk's builtin ``SocketModeClient`` (or Bolt's handler.client) at once.

    Its message processor polls a queue with a 1-second timeout; waking it with an empty item
    after marking the client closed saves that second in every Socket Mode test.
    """
    client.closed = True
    client.message_queue.put(None)
    client.close()
