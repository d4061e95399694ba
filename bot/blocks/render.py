"""The digest publisher's renderer: the builders, bound to the team's timezone and a clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.carried import build_carried_message
from bot.blocks.digest import build_digest_parent, build_entry_message
from bot.blocks.entry import EntryLike
from bot.clock import Clock


class DigestRenderer:
    """`bot.publisher.Renderer`: parent message and thread replies for one team."""

    def __init__(self, tz: ZoneInfo, clock: Clock) -> None:
        self.tz = tz
        self.clock = clock

    def parent(
        self, day: date, counts: Mapping[str, int], progress: Mapping[str, int]
    ) -> dict[str, Any]:
        return build_digest_parent(day, counts, progress)

    def batch(self, kind: str, entries: Sequence[EntryLike], first_of_kind: bool) -> dict[str, Any]:
        now = self.clock.now()
        today = now.astimezone(self.tz).date()
        return build_entry_message(
            list(entries), today, self.tz, now, header_kind=kind if first_of_kind else None
        )

    def carried(self, entries: Sequence[EntryLike], first: bool, total: int) -> dict[str, Any]:
        today = self.clock.now().astimezone(self.tz).date()
        return build_carried_message(entries, today, first, total)
