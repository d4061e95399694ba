"""The outreach log: who reached out to whom, how, and with what outcome."""

from __future__ import annotations

from datetime import date, tzinfo

from bot.models import Outreach
from bot.priority import last_reached_on
from bot.repos.records import ShardedRecords
from bot.store import Store


class OutreachRepo(ShardedRecords[Outreach]):
    name = "outreach"

    def __init__(self, store: Store) -> None:
        super().__init__(store, Outreach)

    def for_task(self, task_id: str, subscriber_id: str) -> list[Outreach]:
        return [o for o in self.for_subscriber(subscriber_id) if o.task_id == task_id]

    def for_task_ids(self, task_ids: list[str], subscriber_id: str) -> Outreach | None:
        """The latest outreach that closed exactly `task_ids` (one digest entry), if any."""
        wanted = ",".join(task_ids)
        logged = [o for o in self.for_subscriber(subscriber_id) if o.task_id == wanted]
        return max(logged, key=lambda o: o.at, default=None)

    def last_reached(self, subscriber_id: str, tz: tzinfo) -> date | None:
        """The day (in `tz`, the team's timezone) the team last reached the customer (see
        `bot.priority`), None if never."""
        return last_reached_on(self.docs_for_subscriber(subscriber_id), tz)

    def latest(self, subscriber_id: str, limit: int = 5) -> list[Outreach]:
        return sorted(self.for_subscriber(subscriber_id), key=lambda o: o.at, reverse=True)[:limit]
