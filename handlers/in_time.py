"""Answer a slash command within Slack's 3 seconds, however long the work behind it takes.

Slack waits 3 s for a command's answer; after that Bolt gives up on the listener, answers 404
"unhandled request", and the manager sees "/care failed" while the command may well go on and
succeed. A `/care claim` is answered once the claim is stored, and storing it waits for one
`fdatasync` of the store's journal (`bot.journal`). On a disk busy writing back other files
(ext4 commits their data with its journal) that one call took 1.6 s in the slack bench beside a
600 MB copy, and over 3 s once in CI: the flake of the bench's claims.

The answer is true only once the claim is stored, so it cannot go out earlier. Instead,
`InTime` gives the work `ANSWER_WITHIN` seconds: answered by then, the answer is the ack, as
always; if not, Slack gets a holding answer then, and the real one follows through the
command's `response_url` (30 minutes, five posts) as soon as it is ready. A modal's submission
has no response_url: its holding answer closes the modal, and the outcome follows as a private
message (`handlers.views`). One thread keeps
every command's deadline (`Deadlines`): starting a thread per command cost 0.15 ms (median)
and 3.4 ms at the 95th percentile on a loaded machine, on the claim's own path.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from slack_bolt import Ack, Respond

from bot.blocks import replies

log = logging.getLogger(__name__)
# Seconds from the listener's start to the holding answer: Slack's 3 s run from its send, and
# the network, the server's queue and Bolt's own steps come before the listener.
ANSWER_WITHIN = 2.0
HOLDING = "Still working on it: the answer follows here in a moment."
FAILED = "That did not go through: something went wrong on our side. Try again in a minute."
_EPHEMERAL = {"response_type": "ephemeral"}


class Deadlines:
    """One daemon thread that calls each callback at its time (`time.monotonic`), unless it
    was cancelled before. Registering takes a lock and a heap push, and wakes the thread only
    when the new deadline is the nearest: never a thread start on the caller's path."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._heap: list[tuple[float, int, list[Callable[[], None]]]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def call_at(self, when: float, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` at `when` (on the deadlines' thread); returns a cancel function."""
        entry = [callback]  # cancelled: emptied
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="care-deadlines")
                self._thread.daemon = True
                self._thread.start()
            heapq.heappush(self._heap, (when, next(self._order), entry))
            if self._heap[0][2] is entry:
                self._changed.notify()
        return entry.clear

    def _run(self) -> None:
        while True:
            for callback in self._next_due():
                try:
                    callback()
                except Exception:
                    log.exception("A deadline's callback failed")

    def _next_due(self) -> list[Callable[[], None]]:
        with self._changed:
            while True:
                while self._heap and not self._heap[0][2]:
                    heapq.heappop(self._heap)  # cancelled
                if not self._heap:
                    self._changed.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait <= 0:
                    return list(heapq.heappop(self._heap)[2])
                self._changed.wait(wait)


DEADLINES = Deadlines()


class InTime:
    """One request's answer (a command's, a modal submission's), sent within `within` seconds.

    Use as a context manager around the work; call it with the answer's fields (as `ack`
    takes them). The first of the answer and the deadline wins: an answer in time is the ack;
    past the deadline Slack was acked with `holding` and the answer goes by `respond`. Work
    that raises past the deadline sends `failed`, and the error goes on to Bolt.
    """

    def __init__(
        self,
        ack: Ack,
        respond: Respond | Callable[..., None],
        within: float | None = None,
        *,
        holding: dict[str, Any] | None = None,
        failed: dict[str, Any] | None = None,
    ) -> None:
        """The answer's deadline and how to answer at it and after it.

        Args:
            ack: Bolt's ack for the request.
            respond: sends a late answer (a command's response_url, a modal's private note).
            within: seconds before the holding answer (`ANSWER_WITHIN`).
            holding: the ack's fields at the deadline: by default an ephemeral `HOLDING` (a
                command); `{}` closes a modal.
            failed: what `respond` is sent when the work raises past the deadline (`FAILED`).
        """
        self._ack, self._respond = ack, respond
        self._lock = threading.Lock()
        self._answered = self.late = False
        self.within = ANSWER_WITHIN if within is None else within
        self._holding = _EPHEMERAL | replies.build_info(HOLDING) if holding is None else holding
        self._failed = _EPHEMERAL | replies.build_error(FAILED) if failed is None else failed
        self._cancel: Callable[[], None] = lambda: None

    def __enter__(self) -> InTime:
        self._cancel = DEADLINES.call_at(time.monotonic() + self.within, self._hold)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._cancel()
        with self._lock:  # the deadline may be passing right now: after this it finds us done
            late, answered, self._answered = self.late, self._answered, True
        if kind is not None and late and not answered:
            self._send_late(self._failed)

    def __call__(self, later: dict[str, Any] | None = None, **answer: Any) -> None:
        """Send the answer: the ack when in time, else by `respond`: `later` when given (a
        modal's field errors cannot go in a message), else the same fields; `{}` sends none."""
        with self._lock:
            self._answered = True
            if not self.late:
                self._ack(**answer)
                return
        self._send_late(answer if later is None else later)

    def _hold(self) -> None:
        with self._lock:
            if self._answered:
                return
            self.late = True
            self._ack(**self._holding)
        log.warning("Work took over %.1f s: Slack was answered, the outcome follows", self.within)

    def _send_late(self, answer: dict[str, Any]) -> None:
        if not answer:
            return
        try:
            self._respond(**answer)
        except Exception:
            log.exception("A late answer could not be sent: %s", answer.get("text"))
