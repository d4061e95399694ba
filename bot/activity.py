"""People first: what the bot's background work asks before it takes the interpreter.

The HTTP layer reports every Slack request to an `Activity` (`handlers.http.HttpServer`):
when a worker takes it and when its answer is ready. Background work reads it two ways:

- a long daily computation (the App Home headline, `bot.metrics.headline.HeadlineKeeper`)
  starts only after a lull, no Slack request for a while (`lull`), and is deferred at most
  so long before it runs anyway;
- while it runs, its passes (`bot.bulk.yielding`) stop between two records whenever a
  request is in flight (`pause`), and go on once it is answered. A claim's answer crosses
  several threads (the HTTP loop, a worker, Bolt's), and CPython hands the interpreter to a
  waiting thread only every 5 ms: a pass that keeps computing costs each of them that much.

The lull is read on the injected clock (the scheduler's time, tests move it); a pause waits
in real time, and never longer than `patience` for one request, so a pass always finishes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from bot.clock import Clock

PATIENCE = 0.5  # seconds a pass waits for one request's answer (Slack's own limit is 3 s)


class Activity:
    """Slack requests in flight, and when the last one came or was answered.

    Args:
        clock: the time of the last request, for `lull`.
        patience: one pause waits at most this long (seconds), and never for a request
            that began longer ago than that.
        monotonic: the real clock pauses are timed with (replaced in tests).
    """

    def __init__(
        self,
        clock: Clock,
        *,
        patience: float = PATIENCE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock, self.patience, self._monotonic = clock, patience, monotonic
        self._began: dict[int, float] = {}  # request number -> when it began (monotonic)
        self._count = 0
        self._last: datetime | None = None  # the clock's time of the last begin or end
        self._changed = threading.Condition()

    def begin(self) -> int:
        """A request was taken by a worker; returns its number for `end`."""
        with self._changed:
            self._count += 1
            self._began[self._count] = self._monotonic()
            self._last = self.clock.now()
            return self._count

    def end(self, number: int) -> None:
        """Request `number` was answered (or failed)."""
        with self._changed:
            self._began.pop(number, None)
            self._last = self.clock.now()
            self._changed.notify_all()

    @contextmanager
    def serving(self) -> Iterator[None]:
        """`begin` on entry, `end` on exit, whatever happens in between."""
        number = self.begin()
        try:
            yield
        finally:
            self.end(number)

    @property
    def in_flight(self) -> int:
        with self._changed:
            return len(self._began)

    def lull(self, length: timedelta) -> bool:
        """No request in flight, and none began or ended in the last `length` (by the clock).
        True before the first request."""
        with self._changed:
            if self._began:
                return False
            return self._last is None or self.clock.now() - self._last >= length

    def pause(self) -> bool:
        """Wait while a request that began less than `patience` ago is in flight, for at most
        `patience` in all (a stream of requests cannot hold a pass for ever: after a pause,
        `bot.bulk.yielding` runs its share before it asks again).

        Returns:
            Whether it waited (False: nothing in flight, or only requests held too long).
        """
        waited = False
        with self._changed:
            until = self._monotonic() + self.patience
            while True:
                now = self._monotonic()
                recent = [t for t in self._began.values() if now - t < self.patience]
                if not recent or now >= until:
                    return waited
                waited = True
                self._changed.wait(min(until, max(recent) + self.patience) - now)
