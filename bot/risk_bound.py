"""The most a customer's risk can score today, from what a plan reads cheaply.

Planning (`bot.engine`, `bot.sizing`) scores only the customers who could reach the band
that matters: `UpperBound` bounds the score of `bot.risk.score` from the facts of a stored
subscriber document (`doc_flags`, bits the plan index keeps) and a slim read of the types and
times of their stored events (`Mark`s), without parsing either. It may overestimate, never
underestimate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import msgspec

from bot.compact import decode_doc
from bot.models import ENDED_STATUSES, Subscriber
from bot.risk import MAX_SCORE
from config.rules import RiskRules

# What `UpperBound` reads of a subscriber document, as bits (`doc_flags`).
HAS_SUBS, LIVE, SCHEDULED, LATE, PAUSED, LAST_ORDER = 1, 2, 4, 8, 16, 32


def doc_flags(doc: Mapping[str, Any]) -> int:
    """The facts of a stored subscriber document that bound its risk score, as bits."""
    subs = doc.get("subscriptions") or ()
    return subscription_flags(
        ((s.get("status"), s.get("cancel_at_period_end")) for s in subs),
        bool(doc.get("last_order")),
    )


def subscriber_flags(sub: Subscriber) -> int:
    """`doc_flags` of a subscriber read from their document (the same facts, as `score`
    reads them)."""
    subs = ((s.status, s.cancel_at_period_end) for s in sub.subscriptions)
    return subscription_flags(subs, bool(sub.last_order))


def subscription_flags(subs: Iterable[tuple[Any, Any]], last_order: bool) -> int:
    """`doc_flags` from each subscription's (status, cancel_at_period_end)."""
    flags = LAST_ORDER if last_order else 0
    for status, cancels in subs:
        flags |= HAS_SUBS
        if status not in ENDED_STATUSES:
            flags |= LIVE
        if status in ("past_due", "unpaid"):
            flags |= LATE
        if status == "paused":
            flags |= PAUSED
        if status == "non_renewing" or cancels:
            flags |= SCHEDULED
    return flags


class UpperBound:
    """The most a stored subscriber document and its stored events can score on `today`.

    Cheap (string comparisons, no parsing), so planning scores only the subscribers that can
    reach the high band. It may overestimate, never underestimate.
    """

    def __init__(self, today: date, rules: RiskRules) -> None:
        self.rules = rules
        windows = {
            "cancel_request": rules.cancel_request_window_days,
            "nps": rules.nps_window_days,
            "payment_failed": rules.payment_window_days,
            "support_contact": rules.support_window_days,
            "downgrade": rules.downgrade_window_days,
        }
        # Widened by two days: event days are local, stored timestamps are UTC.
        self.starts = {k: (today - timedelta(days=v + 2)).isoformat() for k, v in windows.items()}

    def points(self, doc: dict[str, Any], event_docs: Iterable[dict[str, Any]]) -> int:
        return self.points_of(doc_flags(doc), event_docs)

    def points_of(self, flags: int, event_docs: Iterable[dict[str, Any]]) -> int:
        """`points` from the document's `doc_flags` (what the subscriber index keeps)."""
        return self.points_of_marks(flags, marks(event_docs))

    def points_of_marks(self, flags: int, events: list[Mark]) -> int:
        """`points_of` from the events' `Mark`s."""
        if flags & HAS_SUBS and not flags & LIVE:
            return 0
        if not (events or flags & (SCHEDULED | LATE | PAUSED | LAST_ORDER)):
            return 0
        counts: dict[str, int] = {}
        starts = self.starts
        for kind, at in events:
            start = starts.get(kind)
            if start is None or at >= start:
                counts[kind] = counts.get(kind, 0) + 1
        return self._points(flags, counts)

    def points_of_events(
        self, flags: int, events: Mapping[str, list[dict[str, Any]]], sid: str
    ) -> int:
        """`points_of_marks(flags, event_marks(events, sid))`, in one pass over the events'
        bytes, none read for a customer whose subscriptions have all ended."""
        if flags & HAS_SUBS and not flags & LIVE:
            return 0  # as `points_of_marks`: no event counts for them
        encoded = getattr(events, "encoded", None)
        if encoded is None:
            return self.points_of_marks(flags, event_marks(events, sid))
        raws = encoded(sid)
        if not (raws or flags & (SCHEDULED | LATE | PAUSED | LAST_ORDER)):
            return 0
        counts: dict[str, int] = {}
        starts = self.starts
        for raw in raws:
            try:
                mark = _read_mark(raw)
                kind, at = mark.type, mark.at
                at = at if type(at) is str else str(at)
            except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
                ((kind, at),) = marks([decode_doc(raw)])
            start = starts.get(kind)
            if start is None or at >= start:
                counts[kind] = counts.get(kind, 0) + 1
        return self._points(flags, counts)

    def _points(self, flags: int, counts: dict[str, int]) -> int:
        """The bound from the document's flags and the events counted in their windows."""
        scheduled, late, paused = flags & SCHEDULED, flags & LATE, flags & PAUSED
        weights, rules = self.rules.weights, self.rules
        points = 0
        if scheduled:
            points += weights["scheduled_cancellation"]
        if late:
            points += weights["past_due"]
        if paused or counts.get("pause"):
            points += weights["paused"]
        if flags & LAST_ORDER or counts.get("order"):
            points += weights["no_order"]
        if counts.get("cancel_request"):
            points += weights["cancel_request"]
        if counts.get("nps"):
            points += weights["nps_detractor"]
        failed = counts.get("payment_failed", 0) * weights["payment_failed_each"]
        points += min(failed, weights["payment_failed_max"])
        if counts.get("skip", 0) >= rules.skip_min:
            points += weights["skips"]
        if counts.get("support_contact", 0) >= rules.support_min:
            points += weights["support_contacts"]
        if counts.get("downgrade"):
            points += weights["downgrade"]
        return min(points, MAX_SCORE)

    def payment_possible(self, flags: int, event_docs: Iterable[dict[str, Any]]) -> bool:
        """Whether a payment reason (past_due, payment_failed) can be among the reasons:
        `points_of`'s facts, so it may say yes when the score would not."""
        return self.payment_possible_marks(flags, marks(event_docs))

    def payment_possible_marks(self, flags: int, events: list[Mark]) -> bool:
        """`payment_possible` from the events' `Mark`s."""
        if flags & HAS_SUBS and not flags & LIVE:
            return False
        if flags & LATE:
            return True
        start = self.starts["payment_failed"]
        return any(kind == "payment_failed" and at >= start for kind, at in events)


# What `UpperBound` reads of a stored event: its type ("" if none) and its time as stored.
Mark = tuple[Any, str]


def marks(event_docs: Iterable[dict[str, Any]]) -> list[Mark]:
    """The `Mark`s of stored event documents."""
    return [(e.get("type", ""), str(e.get("at", ""))) for e in event_docs]


class _Mark(msgspec.Struct):
    """What the risk bound reads of a stored event (`Mark`), as `dict.get` would."""

    type: Any = ""
    at: Any = ""


_read_mark = msgspec.json.Decoder(_Mark).decode


def event_marks(events: Mapping[str, list[dict[str, Any]]], sid: str) -> list[Mark]:
    """The `Mark`s of a subscriber's stored events: from a slim decode of each event's bytes
    when `events` holds them (`bot.repos.records.GroupedDocs.encoded`), else of the
    documents."""
    encoded = getattr(events, "encoded", None)
    if encoded is None:
        return marks(events.get(sid, ()))
    found = []
    for raw in encoded(sid):
        try:
            mark = _read_mark(raw)
            found.append((mark.type, str(mark.at)))
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            found.extend(marks([decode_doc(raw)]))
    return found
