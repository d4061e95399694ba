"""Freshness: per source, when it last sent, what was applied, what waits, is held (dated
ahead of the bot's clock) or failed, and whether it has gone quiet.

`source_states` reads the journal's counts; a source that has sent before and has been
silent longer than `[alerts] quiet_hours` is `quiet`. `QuietWatch` posts one warning per
quiet spell to the alerts channel (the key is the source and its last delivery, so a
restart never repeats it, and the next delivery starts a new spell).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.models import parse_datetime
from bot.posting import MessageSink
from bot.repos.alerts import AlertRepo, AlertThread
from bot.repos.journal import APPLIED, FAILED, IGNORED, PENDING, WAITING, JournalRepo
from bot.signals.intake import HELD


@dataclass
class SourceState:
    source: str
    last_received: datetime | None = None
    applied: int = 0
    ignored: int = 0
    waiting: int = 0
    pending: int = 0
    failed: int = 0
    held: int = 0
    quiet: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "last_received": self.last_received.isoformat() if self.last_received else None,
            "applied": self.applied,
            "ignored": self.ignored,
            "waiting": self.waiting,
            "pending": self.pending,
            "failed": self.failed,
            "held": self.held,
            "quiet": self.quiet,
        }

    def summary(self) -> str:
        """One line: "last event 2026-06-15 13:30 UTC · 12 applied · 1 waiting · 0 failed"."""
        last = self.last_received.strftime("%Y-%m-%d %H:%M UTC") if self.last_received else "never"
        parts = [f"last event {last}", f"{self.applied} applied", f"{self.waiting} waiting"]
        parts += [f"{self.pending} pending", f"{self.failed} failed"]
        parts += [f"{self.held} held (dated in the future)"] if self.held else []
        return " · ".join(parts) + (" · quiet" if self.quiet else "")


def source_states(
    journal: JournalRepo, sources: Iterable[str], now: datetime, quiet_hours: int
) -> list[SourceState]:
    """Every configured source's state (and any other that has sent), by name."""
    counts = journal.counts()
    states = []
    for source in sorted(set(sources) | set(counts)):
        row = counts.get(source, {})
        last = parse_datetime(row.get("last_received") or None)
        states.append(
            SourceState(
                source,
                last,
                applied=row.get(APPLIED, 0),
                ignored=row.get(IGNORED, 0),
                waiting=row.get(WAITING, 0),
                pending=row.get(PENDING, 0),
                failed=row.get(FAILED, 0),
                held=row.get(HELD, 0),
                quiet=last is not None and now - last > timedelta(hours=quiet_hours),
            )
        )
    return states


class QuietWatch:
    """Posts one warning per quiet spell of a source to the alerts channel."""

    def __init__(
        self, journal: JournalRepo, threads: AlertRepo, sink: MessageSink, channel: str
    ) -> None:
        self._journal = journal
        self._threads = threads
        self._sink = sink
        self._channel = channel

    def check(self, sources: Iterable[str], now: datetime, quiet_hours: int) -> list[str]:
        """Warn about sources newly quiet; returns the sources warned about."""
        warned = []
        for state in source_states(self._journal, sources, now, quiet_hours):
            if not state.quiet or not self._channel or state.last_received is None:
                continue
            key = f"quiet:{state.source}:{state.last_received.isoformat()}"
            record = f"~source:{state.source}"
            thread = self._threads.get(record)
            if thread is not None and key in thread.posted:
                continue
            self._threads.mutate(record, _mark(key, ""))
            hours = int((now - state.last_received).total_seconds() // 3600)
            text = (
                f":zzz: *{state.source.title()} has gone quiet*: no event for {hours} hours "
                f"(last at {state.last_received.strftime('%Y-%m-%d %H:%M UTC')}). Check the "
                "webhook in its settings; see docs/live-signals.md."
            )
            message = {
                "text": text,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            }
            ts = self._sink.post(self._channel, message)
            self._threads.mutate(record, _mark(key, ts))
            warned.append(state.source)
        return warned


def _mark(key: str, ts: str) -> Callable[[AlertThread], None]:
    def mark(thread: AlertThread) -> None:
        thread.posted[key] = ts

    return mark
