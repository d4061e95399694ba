"""The events CSV: churn signals and activity for subscribers already imported.

Columns (by name, any order, extra columns ignored): `subscriber` (id or email), `type`,
`timestamp`, optional `value` and `note`. An event's id is a hash of (subscriber, type, time,
value), so importing the same file again adds nothing. `order` events also move the
subscriber's `last_order` forward.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.ids import stable_id
from bot.importers.formats import header_key
from bot.importers.values import RowError, parse_number, parse_when, shown
from bot.models import EVENT_TYPES, Event
from bot.repos.subscribers import SubscriberRepo

COLUMNS: dict[str, tuple[str, ...]] = {
    "subscriber": (
        "subscriber",
        "subscriber_id",
        "subscriber_email",
        "customer_id",
        "customer",
        "email",
        "customer_email",
    ),
    "type": ("type", "event", "event_type"),
    "timestamp": ("timestamp", "at", "occurred_at", "date", "time", "datetime", "created_at"),
    "value": ("value", "score"),
    "note": ("note", "notes", "comment", "description"),
}
REQUIRED = ("subscriber", "type", "timestamp")

_TYPE_ALIASES = {
    "failed_payment": "payment_failed",
    "payment_failure": "payment_failed",
    "recovered_payment": "payment_recovered",
    "payment_succeeded_after_failure": "payment_recovered",
    "skipped": "skip",
    "skip_order": "skip",
    "paused": "pause",
    "resumed": "resume",
    "support": "support_contact",
    "support_ticket": "support_contact",
    "ticket": "support_contact",
    "cancellation_request": "cancel_request",
    "cancel_requested": "cancel_request",
    "downgraded": "downgrade",
    "ordered": "order",
    "bounced": "bounce",
}
# Types whose value is a score and must be present, with its range.
SCORED = {"nps": (0, 10), "csat": (0, 100)}


def missing_columns(headers: Sequence[str]) -> list[str]:
    """The required event columns a header line lacks, as "a or b" descriptions."""
    keys = {header_key(h) for h in headers}
    return [
        " or ".join(COLUMNS[name])
        for name in REQUIRED
        if not any(header_key(a) in keys for a in COLUMNS[name])
    ]


def looks_like_events(headers: Sequence[str]) -> bool:
    """Whether `auto` should read the file as events: the event columns and no status."""
    keys = {header_key(h) for h in headers}
    return not missing_columns(headers) and "status" not in keys


def parse_type(text: str) -> str:
    """An event type in any spelling ("Payment Failed") as one of `EVENT_TYPES`.

    Raises:
        RowError: unknown type; the message lists the known ones.
    """
    key = re.sub(r"[\s\-]+", "_", text.strip().lower())
    key = _TYPE_ALIASES.get(key, key)
    if key not in EVENT_TYPES:
        raise RowError(
            f"type {shown(text)} is not an event type I know: use one of {', '.join(EVENT_TYPES)}"
        )
    return key


@dataclass
class EventRow:
    line: int
    event: Event


class EventReader:
    """Reads rows of an events file into `Event`s, resolving subscribers by id or email."""

    def __init__(
        self, headers: Sequence[str], subscribers: SubscriberRepo, date_order: str | None = None
    ) -> None:
        self.date_order = date_order
        positions: dict[str, int] = {}
        for i, header in enumerate(headers):
            positions.setdefault(header_key(header), i)
        self._index: dict[str, int] = {}
        self._names: dict[str, str] = {}
        for name, aliases in COLUMNS.items():
            found = [positions[k] for k in map(header_key, aliases) if k in positions]
            if found:
                self._index[name], self._names[name] = found[0], headers[found[0]].strip()
        self._subscribers = subscribers
        self._ids: dict[str, str | None] = {}
        self._known: set[str] | None = None

    def date_positions(self) -> list[int]:
        """The column that holds the dates, to decide the file's day/month order from."""
        return [self._index["timestamp"]] if "timestamp" in self._index else []

    def _cell(self, cells: list[str], name: str) -> str:
        i = self._index.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def _subscriber_id(self, ref: str) -> str:
        if ref not in self._ids:
            if self._known is None:
                self._known = set(self._subscribers.ids())
            if ref in self._known:
                self._ids[ref] = ref
            else:
                found = self._subscribers.by_email(ref)
                self._ids[ref] = found.id if found else None
        sid = self._ids[ref]
        if sid is None:
            raise RowError(f"no subscriber with id or email {ref}: import subscribers first")
        return sid

    def read(self, line: int, cells: list[str]) -> EventRow:
        """One data row as an `Event`.

        Raises:
            RowError: unknown subscriber or type, bad time or value.
        """
        ref = self._cell(cells, "subscriber")
        if not ref:
            raise RowError(f"{self._names['subscriber']} is empty: which subscriber is this?")
        kind = parse_type(self._cell(cells, "type"))
        at = parse_when(self._cell(cells, "timestamp"), self._names["timestamp"], self.date_order)
        if at is None:
            raise RowError(f"{self._names['timestamp']} is empty: when did this happen?")
        value = self._value(self._cell(cells, "value"), kind)
        sid = self._subscriber_id(ref)
        event = Event(
            id=stable_id(sid, kind, at, value),
            subscriber_id=sid,
            type=kind,
            at=at,
            value=value,
            source="csv",
            note=self._cell(cells, "note"),
        )
        return EventRow(line=line, event=event)

    def _value(self, text: str, kind: str) -> float | None:
        column = self._names.get("value", "value")
        if not text:
            if kind in SCORED:
                raise RowError(f"a {kind} event needs a {column}")
            return None
        value = parse_number(text, column)
        assert value is not None  # the text is not empty
        if kind in SCORED:
            low, high = SCORED[kind]
            if not low <= value <= high:
                raise RowError(f"{kind} {column} {text} is outside {low}-{high}")
            if kind == "nps" and value != int(value):
                raise RowError(f"nps {column} {text} is not a whole number from 0 to 10")
        return value
