"""Patterns from service: this week's inbox intents against the four weeks before.

"pause/skip questions: 23, up from an average of 9", with two recent example subjects each.
Subjects are outside text: they are cut to `SUBJECT_CHARS` here and escaped by every view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import local_day
from bot.inbox.models import TriageItem

SUBJECT_CHARS = 80
BASELINE_WEEKS = 4


@dataclass
class Pattern:
    intent: str
    this_week: int
    baseline: float  # average per week over the previous four
    examples: list[str] = field(default_factory=list)

    @property
    def trend(self) -> str:
        if self.this_week > self.baseline:
            return "up"
        return "down" if self.this_week < self.baseline else "flat"

    def sentence(self) -> str:
        label = self.intent.replace("_", "/")
        word = {"up": "up from", "down": "down from", "flat": "as in"}[self.trend]
        return f"{label}: {self.this_week}, {word} an average of {self.baseline:g}"

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "this_week": self.this_week,
            "previous_weeks_average": self.baseline,
            "trend": self.trend,
            "examples": self.examples,
        }


def intent_patterns(items: Iterable[TriageItem], as_of: date, tz: ZoneInfo) -> list[Pattern]:
    """Per intent seen in the last five weeks: this week's count (the 7 days to `as_of`), the
    average of the four weeks before, and the two latest subjects of this week."""
    week_start = as_of - timedelta(days=6)
    base_start = week_start - timedelta(days=7 * BASELINE_WEEKS)
    now: dict[str, list[TriageItem]] = {}
    before: dict[str, int] = {}
    for item in items:
        day = local_day(item.created_at, tz)
        if week_start <= day <= as_of:
            now.setdefault(item.intent or "other", []).append(item)
        elif base_start <= day < week_start:
            before[item.intent or "other"] = before.get(item.intent or "other", 0) + 1
    patterns = []
    for intent in set(now) | set(before):
        latest = sorted(now.get(intent, ()), key=lambda i: i.created_at, reverse=True)
        examples = [_short(i.subject) for i in latest[:2]]
        patterns.append(
            Pattern(intent, len(latest), round(before.get(intent, 0) / BASELINE_WEEKS, 1), examples)
        )
    return sorted(patterns, key=lambda p: (-p.this_week, -p.baseline, p.intent))


def _short(subject: str) -> str:
    text = " ".join(subject.split())
    return text if len(text) <= SUBJECT_CHARS else text[: SUBJECT_CHARS - 1] + "…"
