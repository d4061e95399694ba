"""The HTTP front door: waitress serving the bot's `WebApp` from a thread of the bot's process.

The bot keeps its state in memory (store, scheduler, inbox poller), so the server runs embedded
rather than as a separate gunicorn master. Waitress reads each request (headers and body) in its
I/O loop and hands it to a worker thread only once it is complete, so a client that announces a
body and never sends it holds no worker; it is dropped after `read_timeout` seconds without
activity. Bodies over the largest route limit are refused with 413 from `Content-Length` before
they are read, and a malformed request line or `Content-Length` gets 400 from waitress itself.

Slack's requests are reported to the bot's `bot.activity.Activity` by the route that checks
their signature (`handlers.slack_http`), not here: a request is counted only once it is known
to be Slack's.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from waitress import wasyncore
from waitress.server import create_server

from handlers.webhooks import WebApp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerLimits:
    """How much the server lets clients hold."""

    read_timeout: int = 30  # seconds a connection may sit idle or mid-request
    threads: int = 16  # workers running handlers; Bolt acks fast and hands lazy work on
    connection_limit: int = 1000  # open connections (idle ones cost a socket, not a thread)


class HttpServer:
    """Serve `web` on `host:port` (0: any free port) until `stop()`."""

    def __init__(
        self,
        web: WebApp,
        host: str,
        port: int,
        limits: ServerLimits = ServerLimits(),
    ) -> None:
        self.web = web
        self._server = create_server(
            web,
            host=host,
            port=port,
            threads=limits.threads,
            channel_timeout=limits.read_timeout,
            cleanup_interval=max(1, min(30, limits.read_timeout // 2)),
            connection_limit=limits.connection_limit,
            max_request_body_size=web.max_body,
            backlog=128,  # a whole team clicking at once must not be reset
            ident="proactive-care",
            clear_untrusted_proxy_headers=True,
        )
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    def start(self, ready_within: float = 5.0) -> None:
        """Serve from a thread; return once every worker waits for work (at most `ready_within` s).

        Waitress starts its workers when the server is built, and counts a worker as busy until
        it first waits. A request that arrives before then is queued and logged as a queue-depth
        warning, which under real load means "too few workers": a fresh start must not raise it.
        """
        self._thread = threading.Thread(target=self._run, name="care-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + ready_within
        while not self.workers_waiting() and time.monotonic() < deadline:
            time.sleep(0.001)
        if not self.workers_waiting():
            log.warning("HTTP server: workers not all waiting %.0f s after start", ready_within)

    def workers_waiting(self) -> bool:
        """Whether every worker thread is idle, waiting for a request."""
        dispatcher = self._server.task_dispatcher  # type: ignore[union-attr]
        with dispatcher.lock:
            return dispatcher.active_count <= 0 and not dispatcher.queue

    def _run(self) -> None:
        try:
            self._server.run()
        except Exception:
            if self._stopping.is_set():  # sockets closed under the loop by a fallback stop
                log.debug("the HTTP loop ended while stopping", exc_info=True)
            else:
                log.exception("the HTTP server stopped")

    def stop(self, timeout: float = 10) -> None:
        """Stop accepting, close every connection, and wait for the workers to finish."""
        server = self._server
        self._stopping.set()
        if self._thread is not None and self._thread.is_alive():
            # Close the sockets from the I/O loop's own thread, the only one that uses them.
            try:
                server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))  # type: ignore[union-attr]
            except OSError:  # the wake-up pipe is gone: close from here, the loop ends within 1 s
                log.warning("HTTP server: wake-up pipe closed; closing connections directly")
                wasyncore.close_all(server._map)  # type: ignore[union-attr]
            self._thread.join(timeout)
        else:
            wasyncore.close_all(server._map)  # type: ignore[union-attr]
        server.task_dispatcher.shutdown(timeout=timeout)  # type: ignore[union-attr]
