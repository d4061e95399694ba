"""The App Home headline: the care and service numbers of the last 30 days, computed once a
day off the claims' path and kept, with the time they were computed, until the next.

Computing them reads every subscriber and event. Started by a Home view, as it was, at a
million subscribers the computation ran right after the digest posted, in the process that
answers claims, and took the bot to 4.4 GB. Now `HeadlineKeeper.tick` (every minute, from
`bot.jobs`) computes them once per team day, when the day's digest is posted (or, on a day
without one, after its time), in one pass over the subscribers' documents that keeps none of
them (`compute_headline`); views only read what is kept. The kept numbers live in the store
(`bot.repos.reports.HeadlineRepo`), so a restart shows them at once. The figures are those
of the full report (`bot.metrics.report`) for the same period: `care_figures` and
`service_figures` of the same book.

Background work yields to people (`bot.activity`): the computation starts at the first turn
after a minute without Slack requests (`LULL`; right after posting, the team is claiming),
or anyway once it has waited `DEFER_AT_MOST`; while it runs, its passes stop whenever a
Slack request is in flight. At 100k subscribers it took 4.6 s beside the claims that come
right after posting, and their p95 from 18 to 46 ms. When the wait began is kept with the
headline in the store: a bot restarted within the hour (a crash loop) does not start its
wait again, and so never goes without its headline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.activity import Activity
from bot.bulk import paused_gc, yielding
from bot.clock import Clock
from bot.metrics.care import Counts, Period, care_figures
from bot.metrics.figures import Figure, figure_from_json
from bot.metrics.history import Book, timelines_of
from bot.metrics.service import service_figures
from bot.repos import Repos
from bot.repos.reports import HeadlineRepo
from config import Settings

log = logging.getLogger(__name__)
HEADLINE_DAYS = 30
# A due headline starts after this long without a Slack request: longer than the gaps
# between one manager's clicks while working the digest (seconds), so the morning's burst of
# claims is over; deferred at most this long (the Home shows yesterday's numbers meanwhile).
LULL = timedelta(seconds=60)
DEFER_AT_MOST = timedelta(hours=1)


@dataclass(frozen=True)
class Headline:
    """The numbers of the `HEADLINE_DAYS` days ending on `as_of` (team day), computed at
    `computed_at` (UTC)."""

    as_of: date
    computed_at: datetime
    figures: dict[str, Figure]

    def to_doc(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "computed_at": self.computed_at.isoformat(),
            "figures": {k: f.to_json() for k, f in self.figures.items()},
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Headline:
        """ValueError (or TypeError) when `doc` is not what `to_doc` wrote."""
        figures = doc["figures"]
        if not isinstance(figures, dict):
            raise ValueError("figures is not a mapping")
        computed_at = datetime.fromisoformat(str(doc["computed_at"]))
        if computed_at.tzinfo is None:
            raise ValueError("computed_at has no timezone")
        return cls(
            date.fromisoformat(str(doc["as_of"])),
            computed_at,
            {str(k): figure_from_json(v) for k, v in figures.items()},
        )


# The signals the headline reads: of these types, those of the period (NPS, CSAT, tickets
# opened); a ticket's replies and solving whenever they came (its first one counts).
IN_PERIOD = frozenset({"nps", "csat", "support_contact"})
ANY_DAY = frozenset({"support_reply", "support_solved"})


def compute_headline(
    repos: Repos, settings: Settings, now: datetime, pause: Callable[[], bool] | None = None
) -> Headline:
    """The headline's figures for the `HEADLINE_DAYS` days ending today (team timezone).

    One pass over the subscribers' documents, one decoded at a time: each customer's
    timeline is counted (`bot.metrics.care.Counts`) and dropped, unless an outreach of the
    period logged them "saved" (the saves figure looks at them). Of the events, it keeps only
    the signals the figures read. Its memory does not grow with the number of customers,
    only with the period's answers and tickets (and each customer's payment events, which
    say whether an end was involuntary). Writes nothing.

    Both passes (events, subscribers) rest beside other threads and stop while a Slack
    request is in flight (`pause`: `bot.activity.Activity.pause`; see `bot.bulk.yielding`).
    """
    tz = settings.timezone
    today = now.astimezone(tz).date()
    period = Period.ending(today, HEADLINE_DAYS)

    def needed(_sid: str, kind: str, day: date) -> bool:
        return kind in ANY_DAY or (kind in IN_PERIOD and period.first <= day <= period.last)

    with paused_gc():  # a bulk pass: see bot.bulk
        book = Book(tz)
        events = repos.events.raw_by_subscriber().items()
        payments = book.read_events(yielding(events, pause=pause), needed)
        book.read_touches(repos)
        touches = book.touches_between(period.first, period.last)
        saved = {t.subscriber_id for t in touches if t.outcome == "saved"}
        counts = Counts(period)
        for sid, timeline, _ in timelines_of(
            yielding(repos.subscribers.iter_raw(), pause=pause), payments
        ):
            if timeline is not None:
                counts.add(timeline)
                if sid in saved:
                    book.timelines[sid] = timeline
        items = list(repos.inbox.items())
        figures = {
            **care_figures(book, period, counts),
            **service_figures(items, book, period, settings.triage, tz),
        }
    return Headline(today, now, figures)


class HeadlineKeeper:
    """Computes the headline once per team day and keeps it (in memory and in the store).

    People first: a due computation starts at a turn after a lull in Slack requests (none
    for `lull`), or once it has been deferred `defer_at_most` (then it runs anyway); while
    it runs, its passes stop whenever a request is in flight (`bot.activity`).

    Args:
        ready: whether a computation may start now; the app answers False while the digest
            is being prepared or posted, or is due and not yet posted (claims come first).
        activity: the Slack requests the HTTP layer reports; None: never deferred or paused.
        lull: how long without a Slack request before the computation starts (`LULL`).
        defer_at_most: how long a due computation may wait for a lull (`DEFER_AT_MOST`).
    """

    def __init__(
        self,
        repos: Repos,
        settings: Settings,
        clock: Clock,
        ready: Callable[[], bool],
        activity: Activity | None = None,
        lull: timedelta = LULL,
        defer_at_most: timedelta = DEFER_AT_MOST,
    ) -> None:
        self.repos, self.settings, self.clock, self.ready = repos, settings, clock, ready
        self.activity, self.lull, self.defer_at_most = activity, lull, defer_at_most
        self.kept = HeadlineRepo(repos.store)
        self._current: Headline | None = None
        self._deferred: datetime | None = None  # due, waiting for a lull since then
        self._loaded = False
        self._lock = threading.Lock()

    def current(self) -> Headline | None:
        """The last headline computed (possibly of an earlier day), or None if none is kept.

        A kept document that cannot be read is logged and taken as none: the next tick
        computes it again.
        """
        with self._lock:
            self._load()
            return self._current

    @property
    def deferred_since(self) -> datetime | None:
        """When the due computation was first deferred for want of a lull (kept in the store
        with the headline, across restarts), or None."""
        with self._lock:
            self._load()
            return self._deferred

    def due(self) -> bool:
        """True when none is kept, or the kept one is of an earlier day and the day's digest
        time has passed; and `ready()`."""
        found = self.current()
        if found is not None:
            local = self.clock.now().astimezone(self.settings.timezone)
            if found.as_of >= local.date() or local.time() < self.settings.digest.time:
                return False
        return self.ready()

    def refresh(self) -> Headline:
        """Compute the headline now and keep it."""
        pause = self.activity.pause if self.activity is not None else None
        headline = compute_headline(self.repos, self.settings, self.clock.now(), pause)
        self._keep(headline, None)
        log.info("Headline numbers for the %d days to %s computed", HEADLINE_DAYS, headline.as_of)
        return headline

    def tick(self) -> bool:
        """Compute the headline if it is due and Slack is in a lull, or it has waited for one
        `defer_at_most` (the scheduler calls this every minute). Returns whether it computed."""
        if not self.due():
            if self.deferred_since is not None:
                self._keep(self.current(), None)
            return False
        now = self.clock.now()
        if self.activity is not None and not self.activity.lull(self.lull):
            since = self.deferred_since
            if since is None or since > now:  # ahead of the clock (set back): from now
                self._keep(self.current(), now)
                log.info(
                    "Headline due; waiting for %d s without Slack requests",
                    self.lull.total_seconds(),
                )
                return False
            if now - since < self.defer_at_most:
                return False
            log.info("Headline deferred since %s: computed now, beside Slack requests", since)
        self.refresh()
        return True

    def _keep(self, headline: Headline | None, deferred: datetime | None) -> None:
        """Keep `headline` and when its next computation was first deferred, in memory and in
        the store (one document; a read-only process keeps them in memory only)."""
        if not self.repos.store.read_only:
            doc = headline.to_doc() if headline is not None else {}
            self.kept.save({**doc, "deferred_since": deferred.isoformat() if deferred else None})
        with self._lock:
            self._current, self._deferred, self._loaded = headline, deferred, True

    def _load(self) -> None:
        """Read the kept document once (the caller holds `_lock`)."""
        if self._loaded:
            return
        doc = self.kept.get() or {}
        only_deferred = set(doc) <= {"key", "deferred_since"}  # deferred before the first
        self._current = None if only_deferred else self._headline_of(doc)
        self._deferred = _deferred_of(doc)
        self._loaded = True

    @staticmethod
    def _headline_of(doc: dict[str, Any]) -> Headline | None:
        try:
            return Headline.from_doc(doc)
        except (KeyError, TypeError, ValueError):
            log.exception("The kept headline cannot be read; it will be computed again")
            return None


def _deferred_of(doc: dict[str, Any]) -> datetime | None:
    """The kept time the due headline was first deferred; None when absent or unreadable."""
    value = doc.get("deferred_since")
    if not value:
        return None
    try:
        since = datetime.fromisoformat(str(value))
    except ValueError:
        since = None
    if since is None or since.tzinfo is None:
        log.warning("The kept headline's deferral time cannot be read (%r): not kept", value)
        return None
    return since
