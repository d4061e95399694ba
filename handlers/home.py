"""The App Home tab: my claimed tasks, today's unclaimed ones, the team's week."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from bot.blocks.entry import EntryView
from bot.blocks.home import build_home
from bot.models import TASK_OPEN, Task
from bot.stats import team_stats
from handlers.context import Services
from handlers.present import stats_view
from handlers.report import headline

log = logging.getLogger(__name__)


class HomeTabs:
    """Publishes Home views, and republishes them for everyone who opened one when tasks change."""

    def __init__(self, services: Services, max_viewers: int = 200) -> None:
        self.services = services
        self.max_viewers = max_viewers
        self._viewers: dict[str, None] = {}
        self._lock = threading.Lock()

    def opened(self, user: str) -> None:
        with self._lock:
            self._viewers.pop(user, None)
            self._viewers[user] = None
            while len(self._viewers) > self.max_viewers:
                self._viewers.pop(next(iter(self._viewers)))
        self.publish(user)

    def refresh_for(self, tasks: Iterable[Task], actor: str = "") -> None:
        """After tasks changed: the Home of everyone watching shows today's open list."""
        if not list(tasks):
            return
        with self._lock:
            viewers = list(self._viewers)
        for user in viewers:
            self.publish(user)

    def view(self, user: str) -> dict:
        s = self.services
        today = s.care.today()
        active = list(s.repos.tasks.active())
        mine = [t for t in active if t.claimed_by == user]
        unclaimed = [
            t
            for t in active
            if t.status == TASK_OPEN
            and t.due <= today
            and not (t.snoozed_until and t.snoozed_until > today)
        ]
        week = stats_view(s, team_stats(s.repos, s.clock.now(), 7))
        return build_home(
            user,
            self._entries(mine),
            self._entries(unclaimed),
            week,
            s.clock.now(),
            s.settings.timezone,
            headline=headline(s),
        )

    def publish(self, user: str) -> None:
        try:
            self.services.client.views_publish(user_id=user, view=self.view(user))
        except Exception:
            log.exception("Publishing the Home tab for %s failed", user)

    def _entries(self, tasks: list[Task]) -> list[EntryView]:
        by_sub: dict[str, list[Task]] = {}
        for task in sorted(tasks, key=lambda t: (t.due, t.id)):
            by_sub.setdefault(task.subscriber_id, []).append(task)
        entries = []
        for sid, group in by_sub.items():
            sub = self.services.repos.subscribers.get(sid)
            if sub is not None:
                entries.append(EntryView(subscriber=sub, tasks=group))
        return entries
