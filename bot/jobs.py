"""Scheduled jobs, registered on an injected `schedule.Scheduler`.

Jobs run in a worker thread so that posting a digest at Slack's 1 message per second never
blocks the scheduler loop, and a job already running is not started twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import schedule

from bot.publisher import DigestPublisher
from config import Settings

if TYPE_CHECKING:  # the metrics load only with the bot, not with `digest --preview`
    from bot.metrics.headline import HeadlineKeeper

log = logging.getLogger(__name__)
DAY_NAMES = {
    "mon": "monday",
    "tue": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}


class SingleFlight:
    """Run `job` in a daemon thread unless the previous run is still going."""

    def __init__(self, name: str, job: Callable[[], object]) -> None:
        self.name = name
        self.job = job
        self._running = threading.Lock()
        self.last_thread: threading.Thread | None = None

    def __call__(self) -> None:
        if not self._running.acquire(blocking=False):
            log.info("%s is still running; skipping this turn", self.name)
            return
        self.last_thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.last_thread.start()

    def _run(self) -> None:
        try:
            self.job()
        except Exception:
            log.exception("%s failed; it will be retried at its next turn", self.name)
        finally:
            self._running.release()


def digest_tick(publisher: DigestPublisher) -> None:
    """Post today's digest if it is due and not (fully) posted: on time, after a restart, after a crash."""
    if publisher.is_due():
        publisher.publish()


def register_digest(
    scheduler: schedule.Scheduler, settings: Settings, publisher: DigestPublisher
) -> SingleFlight:
    """Digest at the configured local time on the configured weekdays, plus a catch-up every 5 minutes.

    The catch-up turns are no-ops unless the day's digest is due and incomplete, which covers a
    bot started after 09:00 and a posting run cut short by a crash or a Slack outage.
    """
    tick = SingleFlight("digest", lambda: digest_tick(publisher))
    at = settings.digest.time.strftime("%H:%M")
    tz = settings.timezone.key
    for day in settings.digest.weekdays:
        getattr(scheduler.every(), DAY_NAMES[day]).at(at, tz).do(tick).tag("digest")
    scheduler.every(5).minutes.do(tick).tag("digest-catch-up")
    # Edits Slack refused (message not editable for now, outage) are tried again every minute.
    scheduler.every(1).minutes.do(publisher.edits.retry).tag("digest-edits")
    return tick


def register_headline(scheduler: schedule.Scheduler, keeper: HeadlineKeeper) -> SingleFlight:
    """Every minute, compute the App Home headline if it is due: once per team day, after
    the day's digest is posted (`HeadlineKeeper.due`), in its own thread, never beside a post,
    at the first turn after a lull in Slack requests (`HeadlineKeeper.tick`): a turn a minute
    finds a lull of `LULL` soon after it begins."""
    tick = SingleFlight("headline", keeper.tick)
    scheduler.every(1).minutes.do(tick).tag("headline")
    return tick
