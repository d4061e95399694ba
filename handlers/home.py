"""The App Home tab: my claimed tasks, today's unclaimed ones, the queue, the team's week.

Every list is in `bot.priority` order; must-show work (high churn risk, failed payments above
`[digest] must_show_value`) is never pushed off the page by lower-value work.

After tasks change, the Homes of everyone who opened one are redrawn by one worker thread
(`bot.edits.EditQueue`), never in the listener that answered: claims arrive faster than views
are drawn while a digest posts. A view reads the viewer's claimed tasks and the week's numbers
from a `bot.ledger.TaskLedger` kept current from the task repository's change reports (reading
every task for them was seconds of CPU per redraw at a million subscribers). A viewer already
waiting for a redraw is not queued twice, so a burst of claims costs one redraw each, drawn
from the latest state; and after each redraw the worker rests `REST_FACTOR` times as long as
it took (at most `MAX_REST_S`), so however much a view costs, redraws take at most a third of
the CPU from claims' answers (threads share one interpreter lock: a busy redraw thread delays
every answer's steps).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import date

from bot import queue
from bot.blocks.home import MAX_ROWS, build_home
from bot.edits import EditQueue
from bot.ledger import TaskLedger
from bot.models import Task
from bot.priority import must_show, select
from handlers.context import Services
from handlers.present import stats_view
from handlers.report import headline_view, keeper_of

log = logging.getLogger(__name__)
REST_FACTOR = 2.0  # after a redraw, rest twice as long as it took ...
MAX_REST_S = 10.0  # ... up to this long


class HomeTabs:
    """Publishes Home views, and republishes them for everyone who opened one when tasks change."""

    def __init__(self, services: Services, max_viewers: int = 200) -> None:
        self.services = services
        self.max_viewers = max_viewers
        # The viewer's tasks and the week's numbers (shared with /care mine when built by app.py)
        self.ledger: TaskLedger = services.ledger or TaskLedger(services.repos)
        self._viewers: dict[str, None] = {}
        self._lock = threading.Lock()
        self._redraws = EditQueue(self._redraw, max_attempts=1)
        self._closing = threading.Event()  # cuts a rest short
        self.rested: list[float] = []  # the last rests taken, in seconds (newest last)

    def close(self) -> None:
        """Make the redraws still queued, then stop (before the store closes)."""
        self._closing.set()
        self._redraws.close()

    def opened(self, user: str) -> None:
        with self._lock:
            self._viewers.pop(user, None)
            self._viewers[user] = None
            while len(self._viewers) > self.max_viewers:
                self._viewers.pop(next(iter(self._viewers)))
        self.publish(user)

    def refresh_for(self, tasks: Iterable[Task], actor: str = "") -> None:
        """After tasks changed: the Home of everyone watching shows today's open list.

        Only queued (the actor's first): never waits for a view to be drawn.
        """
        if not list(tasks):
            return
        with self._lock:
            viewers = list(self._viewers)
        if actor in viewers:
            viewers.remove(actor)
            viewers.insert(0, actor)
        self._redraws.request(*viewers)

    def warm(self, today: date) -> None:
        """Bring what a view reads up to date now: the ledger and today's ranked lists.

        Called before a digest's first post (`DigestPublisher.before_posting`): built on a
        Home's first view instead, at a million subscribers they took half a minute of CPU
        beside the posting and the claims' answers.
        """
        self.ledger.refresh()
        self.services.worklist.page(today, MAX_ROWS)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued redraw is made; True if so within `timeout`."""
        return self._redraws.drain(timeout)

    @property
    def redrawing(self) -> bool:
        """A Home is being redrawn (or the worker rests after one) now."""
        return self._redraws.busy

    def _redraw(self, user: object) -> None:
        start = time.monotonic()
        self.publish(str(user))
        rest = min(REST_FACTOR * (time.monotonic() - start), MAX_REST_S)
        self.rested = [*self.rested[-99:], rest]
        self._closing.wait(rest)

    def view(self, user: str) -> dict:
        s = self.services
        today, grace = s.care.today(), s.settings.lifecycle.grace_days
        mine = self.ledger.claimed_by(user)
        mine_ranked = queue.rank(s.repos, mine, today, grace, s.settings.timezone)
        in_digest, queued, n_digest, n_queued = s.worklist.page(today, MAX_ROWS)
        week = stats_view(s, self.ledger.stats(s.clock.now(), 7))
        lines, computed_at = headline_view(s)
        keeper = keeper_of(s) if lines is None else None
        return build_home(
            user,
            self._page(mine_ranked),
            queue.with_subscribers(s.repos, in_digest),
            week,
            s.clock.now(),
            s.settings.timezone,
            headline=lines,
            queued=queue.with_subscribers(s.repos, queued),
            totals=(len(mine_ranked), n_digest, n_queued),
            headline_at=computed_at,
            headline_soon=keeper is not None and keeper.due(),
        )

    def _page(self, ranked: list[queue.WorkEntry]) -> list[queue.WorkEntry]:
        """The rows a list shows: must-show entries always, then the best of the rest."""
        floor = self.services.settings.digest.must_show_value
        shown, _ = select(ranked, MAX_ROWS, lambda e: must_show(e.priority, floor))
        return queue.with_subscribers(self.services.repos, shown[:MAX_ROWS])

    def publish(self, user: str) -> None:
        try:
            self.services.client.views_publish(user_id=user, view=self.view(user))
        except Exception:
            log.exception("Publishing the Home tab for %s failed", user)
