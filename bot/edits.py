"""Edits of posted Slack messages, made off the answer path and retried until they land.

A claim's answer goes to Slack first; editing the digest message and its parent comes after,
here. `EditQueue.request` only queues (it never waits on Slack and never raises); one worker
thread makes the edits in order, rendering each from the store when it runs, so an edit
queued twice is made once with the latest state. An edit that fails stays pending and is
tried again by `retry` (a scheduler job): it lands once the message is editable again. Slack
answers that say it never will be (message deleted, channel gone) drop it with a logged error,
and so does failing `max_attempts` times in a row.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)


class EditFailed(Exception):
    """Slack did not make an edit. `permanent`: it never will (the message or channel is gone)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class EditQueue:
    """Queued message edits, made by one worker thread.

    Args:
        apply: makes one edit (renders from the store, calls Slack); raises `EditFailed`.
        max_attempts: failures in a row after which an edit is dropped (with a logged error).
    """

    def __init__(self, apply: Callable[[Hashable], None], max_attempts: int = 60) -> None:
        self._apply = apply
        self.max_attempts = max_attempts
        self._queue: deque[Hashable] = deque()
        self._queued: set[Hashable] = set()
        self._failures: dict[Hashable, int] = {}
        self._busy = False
        self._closed = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> dict[Hashable, int]:
        """Edits that failed and wait for `retry`, with their failures so far."""
        with self._cond:
            return {t: n for t, n in self._failures.items() if t not in self._queued}

    @property
    def busy(self) -> bool:
        """An edit is being made now."""
        with self._cond:
            return self._busy

    def request(self, *targets: Hashable) -> None:
        """Queue edits (in order); one already queued is not queued twice."""
        with self._cond:
            if self._closed:
                return
            for target in targets:
                if target not in self._queued:
                    self._queued.add(target)
                    self._queue.append(target)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="care-edits", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def retry(self) -> None:
        """Queue every failed edit again (the scheduler's turn)."""
        self.request(*self.pending)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being made; True if so within `timeout`."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Make what is queued, then stop the worker (before the store closes)."""
        self.drain(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                target = self._queue.popleft()
                self._queued.discard(target)
                self._busy = True
            try:
                self._make(target)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _make(self, target: Hashable) -> None:
        try:
            self._apply(target)
        except EditFailed as exc:
            self._failed(target, str(exc), exc.permanent)
        except Exception as exc:
            log.exception("Editing %s failed", target)
            self._failed(target, repr(exc), False)
        else:
            with self._cond:
                self._failures.pop(target, None)

    def _failed(self, target: Hashable, reason: str, permanent: bool) -> None:
        with self._cond:
            failures = self._failures.get(target, 0) + 1
            if permanent or failures >= self.max_attempts:
                self._failures.pop(target, None)
                dropped = True
            else:
                self._failures[target] = failures
                dropped = False
        if dropped:
            log.error("Gave up editing %s after %d tries: %s", target, failures, reason)
        else:
            log.warning("Editing %s failed (%s); it is retried later", target, reason)
