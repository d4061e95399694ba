"""Posting to Slack exactly once through a `MessageSink`, paced to Slack's rate.

Every bot message that must not be posted twice (the digest, alerts, reports) carries Slack
message metadata naming it (a "key"); a post whose answer was lost or a 5xx is checked for by
that key before it is tried again (`post_once`). The sink over slack_sdk is
`handlers/slack_sink.py`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)
POST_ATTEMPTS = 5  # tries per message before the run stops (the catch-up turn resumes it)


class UncertainPost(Exception):
    """A post whose answer was a 5xx or was lost: Slack may or may not have stored it."""


class MessageSink(Protocol):
    def post(
        self,
        channel: str,
        message: dict[str, Any],
        thread_ts: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> str: ...

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None: ...

    def find(self, channel: str, metadata: dict[str, Any], thread_ts: str = "") -> dict[str, str]:
        """Messages already posted with metadata of our type: {metadata "key": ts}."""
        ...


class Pacer:
    """At most one post per `interval` seconds per channel (Slack's ~1 message/second)."""

    def __init__(
        self,
        interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        """Wait for this channel's next turn. A turn is taken under the lock and waited for
        outside it: one channel's wait never holds up a post to another."""
        with self._lock:
            now = self._monotonic()
            last = self._last.get(channel)
            turn = now if last is None else max(now, last + self.interval)
            self._last[channel] = turn
        if turn > now:
            self._sleep(turn - now)

    def backoff(self, attempt: int) -> None:
        """Wait before retry `attempt` (1, 2, ...): 1, 2, 4, 8 intervals."""
        if self.interval > 0:
            self._sleep(self.interval * 2 ** (attempt - 1))


def post_once(
    sink: MessageSink,
    pacer: Pacer,
    channel: str,
    message: dict[str, Any],
    key: str,
    metadata: dict[str, Any],
    thread_ts: str = "",
    attempts: int = POST_ATTEMPTS,
) -> str:
    """Post `message` (its `metadata` names it by `key`) once, however Slack fails; its ts.

    After a 5xx or a lost answer the message may be in Slack already: before each re-post
    (after `pacer.backoff`) the channel (or thread) is searched for `key`, and a message found
    there is used. Any other error of the sink's, posting or searching, is raised as it is.

    Raises:
        UncertainPost: still failing after `attempts` tries; the next run resumes.
    """
    failure: UncertainPost | None = None
    for attempt in range(attempts):
        if failure is not None:
            pacer.backoff(attempt)
            found = sink.find(channel, {"key": key}, thread_ts=thread_ts)
            if key in found:
                log.warning("Slack stored %s but answered %s; not posting it again", key, failure)
                return found[key]
        pacer.wait(channel)
        try:
            return sink.post(channel, message, thread_ts=thread_ts, metadata=metadata)
        except UncertainPost as exc:
            log.warning("Posting %s: %s; checking before trying again", key, exc)
            failure = exc
    assert failure is not None
    raise failure
