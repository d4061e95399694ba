"""The digest publisher's renderer: `bot.publisher.Renderer` over the pure builders.

The publisher decides which entries go in which message and when; this class only turns
them into Block Kit, with the clock's time and the team's timezone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.digest import DigestProgress, build_digest_parent, build_entry_message
from bot.blocks.entry import EntryLike
from bot.clock import Clock, local_today


class DigestRenderer:
    """Renders the digest parent and its thread replies for `bot.publisher.DigestPublisher`."""

    def __init__(self, tz: ZoneInfo, clock: Clock, channel_hint: str | None = None) -> None:
        self.tz = tz
        self.clock = clock
        self.channel_hint = channel_hint

    def parent(
        self, day: date, counts: Mapping[str, int], progress: Mapping[str, int] | DigestProgress
    ) -> dict[str, Any]:
        """The parent message: see `build_digest_parent`."""
        return build_digest_parent(day, counts, progress, self.channel_hint)

    def batch(self, kind: str, entries: Sequence[EntryLike], first_of_kind: bool) -> dict[str, Any]:
        """One thread reply holding `entries` of `kind`, headed when it is the kind's first."""
        now = self.clock.now()
        today = local_today(self.clock, self.tz)
        return build_entry_message(
            list(entries), today, self.tz, now, header_kind=kind if first_of_kind else None
        )
