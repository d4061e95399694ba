"""Signals and activity events, sharded by subscriber; an event's id is its content hash."""

from __future__ import annotations

from bot.models import Event
from bot.repos.records import ShardedRecords
from bot.store import Store


class EventRepo(ShardedRecords[Event]):
    name = "events"

    def __init__(self, store: Store) -> None:
        super().__init__(store, Event)
