"""Counting an email's failures and parking it once they are too many (the dead-letter list).

A failure that is not Slack's (a bug the email triggers, a write that fails) is counted per
email, by a digest of its raw bytes, in the store, and in memory too in case the store is what
fails. Below `max_attempts` the failure is raised again, so the connector or the webhook's
sender retries; at `max_attempts` the email is parked with its bytes and the caller moves on.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.inbox.models import DeadLetter
from bot.inbox.parse import ParsedEmail
from bot.repos.deadletters import DeadLetters

log = logging.getLogger(__name__)


class Parking:
    """The failure counts and the parking decision of one `Ingestor`."""

    def __init__(self, dead: DeadLetters, clock: Clock, max_attempts: int) -> None:
        self.dead = dead
        self.clock = clock
        self.max_attempts = max_attempts
        self._failures: dict[str, int] = {}

    def failed(
        self,
        raw: bytes,
        key: str,
        parsed: ParsedEmail,
        source: str,
        uid: int,
        exc: Exception,
        retrying: bool,
    ) -> DeadLetter:
        """Count one failure; park the email at `max_attempts` (or on a manual retry).

        Raises:
            The failure itself while the email has attempts left.
        """
        error = f"{type(exc).__name__}: {exc}"[:500]
        now = self.clock.now()
        attempts = self._failures[key] = self._failures.get(key, 0) + 1
        try:
            attempts = max(attempts, self.dead.note_failure(key, error, now))
        except Exception:
            log.exception("inbox: could not count the failure of %s", parsed.message_id)
        log.warning(
            "inbox: %s from %s failed (%d of %d): %s",
            parsed.message_id,
            source,
            attempts,
            self.max_attempts,
            error,
            exc_info=exc,
        )
        if attempts < self.max_attempts and not retrying:
            raise exc
        letter = DeadLetter(
            id="",
            key=key,
            parked_at=now,
            attempts=attempts,
            error=error,
            message_id=parsed.message_id,
            subject=parsed.subject[:200],
            sender=parsed.from_address,
            source=source,
            uid=uid,
            size=len(raw),
        )
        letter = self.dead.park(letter, raw)
        self._failures.pop(key, None)
        log.error(
            "inbox: parked %s as %s after %d failures", parsed.message_id, letter.id, attempts
        )
        return letter

    def succeeded(self, key: str) -> None:
        """The email went through: forget its failures."""
        if self._failures.pop(key, 0) or self.dead.failures(key):
            self.dead.clear_failures(key)
