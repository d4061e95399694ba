"""Bolt's listener threads: an acknowledgement never waits in a queue behind work after an ack.

Bolt runs each listener's ack function on its `listener_executor` and gives it 3 s to ack;
lazy listeners (a button's work after its ack: the claim, its edits) go to the same executor.
Every write waits for the store, one journal fdatasync at a time, so while the disk stalls
behind other files' writeback, ten lazy claims held all ten threads of the one pool: the next
click's ack, even a `/care help`, waited in the queue, and Bolt answered 404 after 3 s.

`ListenerPools` gives the two their own threads. Ack functions run on `acks`, which starts a
thread whenever none is idle, up to `ACK_THREADS`: as many as there can be requests awaiting
their ack (the HTTP server's workers) and commands or modal submissions still working after a
holding answer (`handlers.in_time`). Lazy work runs on `lazy`, whose queue may grow during a
stall without holding up any answer.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import App
from slack_bolt.lazy_listener.thread_runner import ThreadLazyListenerRunner

T = TypeVar("T")
ACK_THREADS = 64  # started only when needed: at rest a handful
LAZY_THREADS = 10


class ListenerPools(Executor):
    """Bolt's `listener_executor`: what Bolt submits (ack functions) runs on `acks`; after
    `attach(app)`, the app's lazy listeners run on `lazy`. `shutdown` finishes both."""

    def __init__(self, acks: int = ACK_THREADS, lazy: int = LAZY_THREADS) -> None:
        self.acks = ThreadPoolExecutor(acks, thread_name_prefix="care-listener")
        self.lazy = ThreadPoolExecutor(lazy, thread_name_prefix="care-lazy")

    def attach(self, app: App) -> None:
        """Run `app`'s lazy listeners on `lazy` instead of the ack functions' pool."""
        app.listener_runner.lazy_listener_runner = ThreadLazyListenerRunner(app.logger, self.lazy)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self.acks.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.acks.shutdown(wait, cancel_futures=cancel_futures)
        self.lazy.shutdown(wait, cancel_futures=cancel_futures)
