"""What the stored data says happened, as timelines of days: the input of every metric.

The store keeps each subscriber's subscriptions (start, cancellation and end dates, status),
a history of status changes stamped when an import or a live signal saw them, and events
(payments, NPS, CSAT, support contacts...) stamped when they happened. `Book.load` turns
these into one `Timeline` per customer: the spells during which the customer had a live
subscription, and how each spell ended (voluntary or involuntary). Days are local to the team's
timezone; event timestamps are converted, subscription dates are already days.

Rules (docs/metrics.md says the same for a reader):

- A subscription counts from `started` (else the subscriber's `first_started`) until the day it
  ended (`ended_at`, else `canceled_at`, else the day its status turned ended in the history).
  On its end day it no longer counts. Subscriptions that never became paying (`incomplete`,
  and those `Subscription.never_paid` names: `incomplete_expired`, cancelled before it started,
  a trial ended by its trial end) are left out; so is one whose start or end cannot be told.
- A live subscription that had ended before and was restarted (an ended-to-live change in its
  history) makes two spells: until the end, and from the restart.
- A customer's spells are the union of their subscriptions' spells: a customer is active on a
  day when any subscription is. A gap between spells is a cancellation and a restart.
- A spell's end is involuntary when the subscription whose end closed it ended for a payment
  reason: its cancellation reason names a payment failure, it was past due or unpaid when it
  turned ended, or a failed payment in the 30 days before the end had no recovery after it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, NamedTuple, TypeVar

from bot.clock import local_day
from bot.models import ENDED_STATUSES, LIVE_STATUSES, never_paid
from bot.repos import Repos

NEVER_PAID = frozenset({"incomplete", "incomplete_expired"})
INVOLUNTARY_REASON = re.compile(
    r"payment|not_paid|no_card|unpaid|dunning|max_retries|declin|card|insufficient", re.I
)
INVOLUNTARY_LOOKBACK_DAYS = 30
_Dated = TypeVar("_Dated", "Signal", "Touch")


@dataclass(slots=True)  # a million customers' spells and timelines are held at once
class Spell:
    """Days a customer had a live subscription: `start` up to, not including, `end`."""

    start: date
    end: date | None = None
    involuntary: bool = False

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(slots=True)
class Timeline:
    """One customer's spells, oldest first, never overlapping."""

    subscriber_id: str
    spells: list[Spell] = field(default_factory=list)

    @property
    def first_start(self) -> date | None:
        return self.spells[0].start if self.spells else None

    def active_on(self, day: date) -> bool:
        return any(s.covers(day) for s in self.spells)

    def ends_between(self, first: date, last: date) -> list[Spell]:
        """Spells that ended on a day from `first` to `last`, inclusive."""
        return [s for s in self.spells if s.end is not None and first <= s.end <= last]

    def restarts_between(self, first: date, last: date) -> list[Spell]:
        """Spells after the first that started from `first` to `last`: customers won back."""
        return [s for s in self.spells[1:] if first <= s.start <= last]


class Signal(NamedTuple):
    """An event reduced to what metrics need (a tuple: 100k+ of them are built per report)."""

    subscriber_id: str
    type: str
    at: datetime
    day: date  # local
    value: float | None = None
    source: str = ""
    ticket: str = ""  # the helpdesk ticket a support event belongs to (its note)


TICKET_EVENTS = frozenset({"support_contact", "support_reply", "support_solved"})


class Touch(NamedTuple):
    """A logged outreach, reduced to what metrics need."""

    subscriber_id: str
    task_id: str
    outcome: str
    by: str
    at: datetime
    day: date  # local


@dataclass
class Book:
    """Everything the metrics read, loaded once.

    Attributes:
        tz: the team's timezone.
        timelines: subscriber id -> timeline (customers with at least one known spell).
        skipped: subscriber ids left out, with why ("no start date", ...).
        signals: events by type, each list in time order.
        touches: logged outreach, in time order.
    """

    tz: tzinfo
    timelines: dict[str, Timeline] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    signals: dict[str, list[Signal]] = field(default_factory=dict)
    touches: list[Touch] = field(default_factory=list)
    # per list ("touches", or a signal type): its length when indexed, and its items' days
    _days: dict[str, tuple[int, list[date] | None]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, repos: Repos, tz: tzinfo) -> Book:
        """Read subscribers, events and the outreach log from the repositories (reads only)."""
        book = cls.build(repos.subscribers.iter_raw(), repos.events.raw_by_subscriber(), tz)
        book.read_touches(repos)
        return book

    @classmethod
    def build(
        cls,
        subscriber_docs: Iterable[Mapping[str, Any]],
        event_docs: Mapping[str, Iterable[Mapping[str, Any]]],
        tz: tzinfo,
    ) -> Book:
        """Build from stored documents; one bad document is skipped with its reason."""
        book = cls(tz)
        payments = book.read_events(event_docs)
        for sid, timeline, why in timelines_of(subscriber_docs, payments):
            if timeline is not None:
                book.timelines[sid] = timeline
            else:
                book.skipped[sid] = why
        return book

    def read_events(
        self,
        event_docs: Mapping[str, Iterable[Mapping[str, Any]]]
        | Iterable[tuple[str, Iterable[Mapping[str, Any]]]],
        keep: Callable[[str, str, date], bool] | None = None,
    ) -> dict[str, list[tuple[date, str]]]:
        """Add the events' signals (those `keep(subscriber id, type, local day)` accepts;
        default every one), each type's in time order; unreadable ones are skipped.
        `event_docs`: each subscriber's event documents, as a mapping or (id, documents)
        pairs (a background pass hands them through `bot.bulk.yielding`).

        Returns:
            Each subscriber's payment events (day, type), for `timeline_of`.
        """
        local = LocalDays(self.tz)
        failed_by_sub: dict[str, list[tuple[date, str]]] = {}
        signals, parse = self.signals, local.parse
        pairs = event_docs.items() if isinstance(event_docs, Mapping) else event_docs
        for sid, docs in pairs:
            for doc in docs:  # 100k+ of them: kept to plain operations
                try:
                    at, day = parse(str(doc["at"]))
                except (KeyError, ValueError):
                    continue
                kind, value = str(doc.get("type", "")), doc.get("value", None)
                if kind in _PAYMENTS:
                    failed_by_sub.setdefault(sid, []).append((day, kind))
                if keep is not None and not keep(sid, kind, day):
                    continue
                found = Signal(
                    sid,
                    kind,
                    at,
                    day,
                    float(value) if type(value) in _NUMBERS else None,  # type: ignore[arg-type]
                    str(doc.get("source", "")),
                    str(doc.get("note") or "") if kind in TICKET_EVENTS else "",
                )
                try:
                    signals[kind].append(found)
                except KeyError:
                    signals[kind] = [found]
        for items in signals.values():
            items.sort(key=lambda s: s.at)
        return failed_by_sub

    def read_touches(self, repos: Repos) -> None:
        """Read the outreach log (every logged outreach, in time order)."""
        tz = self.tz
        self.touches = sorted(
            (
                Touch(o.subscriber_id, o.task_id, o.outcome, o.by, o.at, local_day(o.at, tz))
                for o in repos.outreach.all()
            ),
            key=lambda t: t.at,
        )

    def touches_between(self, first: date, last: date) -> list[Touch]:
        return self._between("", self.touches, first, last)

    def signals_between(self, kind: str, first: date, last: date) -> list[Signal]:
        return self._between(kind, self.signals.get(kind, []), first, last)

    def _between(self, key: str, items: list[_Dated], first: date, last: date) -> list[_Dated]:
        """Items (in time order) whose local day is from `first` to `last`, in time order.

        Local days follow time order except where a clock goes back over midnight (a DST
        change at 00:00); a list where they do not is filtered item by item instead.
        """
        known = self._days.get(key)
        if known is None or known[0] != len(items):
            found = [i.day for i in items]
            ordered = all(a <= b for a, b in zip(found, found[1:], strict=False))
            known = self._days[key] = (len(items), found if ordered else None)
        days = known[1]
        if days is None:
            return [i for i in items if first <= i.day <= last]
        return items[bisect_left(days, first) : bisect_right(days, last)]

    def active_on(self, day: date) -> int:
        return sum(1 for t in self.timelines.values() if t.active_on(day))

    @property
    def first_day(self) -> date | None:
        starts = [t.spells[0].start for t in self.timelines.values()]
        return min(starts) if starts else None


class LocalDays:
    """Parse stored timestamps and give their local day, converting once per hour.

    A bulk pass converts 100k+ timestamps, most in an hour seen before. For a UTC timestamp
    as the store writes it ("...Z"), an hour whose first and last instant fall on the same
    local day gives that day to every instant in it; any other hour (a zone whose offset is
    not whole hours, a change at midnight) and any other timestamp is converted one by one.
    """

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._hours: dict[str, date | None] = {}

    def parse(self, text: str) -> tuple[datetime, date]:
        """The timestamp (naive ones taken as local) and its local day; ValueError if bad."""
        at = datetime.fromisoformat(text)
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.tz)
        elif text[-1:] == "Z" and len(text) >= 20:
            key = text[:13]
            day = self._hours.get(key, _UNSEEN)
            if day is _UNSEEN:
                day = self._hours[key] = self._whole_hour(at)
            if day is not None:
                return at, day  # type: ignore[return-value]
        return at, local_day(at, self.tz)

    def _whole_hour(self, at: datetime) -> date | None:
        start = at.replace(minute=0, second=0, microsecond=0)
        first = local_day(start, self.tz)
        return first if local_day(start + _LAST_OF_HOUR, self.tz) == first else None


_UNSEEN = date.min
_LAST_OF_HOUR = timedelta(hours=1) - timedelta(microseconds=1)


_NUMBERS = (int, float)  # stored values are JSON: a bool is not a number here
_PAYMENTS = frozenset({"payment_failed", "payment_recovered"})


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return date.fromisoformat(str(value)[:10])


def timelines_of(
    docs: Iterable[Mapping[str, Any]], payments: Mapping[str, list[tuple[date, str]]]
) -> Iterator[tuple[str, Timeline | None, str]]:
    """Each subscriber document's id and timeline, or None and why it has none (no spells,
    an unreadable record), one document at a time."""
    for doc in docs:
        sid = str(doc.get("id", ""))
        try:
            timeline, why = timeline_of(doc, payments.get(sid, ()))
        except (TypeError, ValueError) as exc:
            yield sid, None, f"unreadable record ({exc})"
            continue
        yield sid, (timeline if timeline.spells else None), why


def timeline_of(
    doc: Mapping[str, Any], payments: Iterable[tuple[date, str]] = ()
) -> tuple[Timeline, str]:
    """One subscriber document's timeline, and why it is empty when it is."""
    sid = str(doc["id"])
    history = [h for h in doc.get("history") or () if h.get("field") == "status"]
    no_changes: list[tuple[date | None, dict[str, Any]]] = []
    first_started = _day(doc.get("first_started"))
    raw: list[Spell] = []
    why = "no subscriptions"
    for sub in doc.get("subscriptions") or ():
        status = sub.get("status") or "active"
        end = _day(sub.get("ended_at")) or _day(sub.get("canceled_at"))
        if status in NEVER_PAID or never_paid(
            status, bool(sub.get("never_started")), end, _day(sub.get("trial_end"))
        ):
            why = "never became a paying subscription"
            continue
        start = _day(sub.get("started")) or first_started
        if start is None:
            why = "no start date"
            continue
        changes = (
            sorted(
                ((_day(h.get("at")), h) for h in history if h.get("sub") in (None, sub.get("id"))),
                key=lambda c: c[0] or date.min,
            )
            if history
            else no_changes  # most customers: nothing to sort
        )
        if status in ENDED_STATUSES:
            end = end or _last_end_change(changes)
            if end is None:
                why = "ended, but the data says not when"
                continue
            raw.append(Spell(start, max(end, start), _involuntary(sub, changes, end, payments)))
            continue
        restart = _restart_after(changes, end) if end else None
        if end is not None and restart is not None and start <= end < restart:
            raw.append(Spell(start, end, _involuntary(sub, changes, end, payments)))
            raw.append(Spell(restart))
        else:
            raw.append(Spell(start))
    return Timeline(sid, _merge(raw)), why


def _last_end_change(changes: list[tuple[date | None, dict[str, Any]]]) -> date | None:
    ends = [d for d, h in changes if d and h.get("to") in ENDED_STATUSES]
    return max(ends) if ends else None


def _restart_after(changes: list[tuple[date | None, dict[str, Any]]], end: date) -> date | None:
    for day, h in changes:
        if day and day >= end and h.get("from") in ENDED_STATUSES and h.get("to") in LIVE_STATUSES:
            return day
    return None


def _involuntary(
    sub: Mapping[str, Any],
    changes: list[tuple[date | None, dict[str, Any]]],
    end: date,
    payments: Iterable[tuple[date, str]],
) -> bool:
    if INVOLUNTARY_REASON.search(str(sub.get("cancellation_reason") or "")):
        return True
    if any(
        h.get("to") in ENDED_STATUSES and h.get("from") in ("past_due", "unpaid")
        for _, h in changes
    ):
        return True
    window = [
        p for p in sorted(payments) if end - timedelta(INVOLUNTARY_LOOKBACK_DAYS) <= p[0] <= end
    ]
    failed = [d for d, kind in window if kind == "payment_failed"]
    recovered = [d for d, kind in window if kind == "payment_recovered"]
    return bool(failed) and not (recovered and max(recovered) >= max(failed))


def _merge(spells: list[Spell]) -> list[Spell]:
    if len(spells) < 2:
        return spells  # most customers: one spell, nothing to merge
    merged: list[Spell] = []
    for spell in sorted(spells, key=lambda s: s.start):
        last = merged[-1] if merged else None
        if last is not None and (last.end is None or spell.start <= last.end):
            if last.end is not None and (spell.end is None or spell.end > last.end):
                last.end, last.involuntary = spell.end, spell.involuntary
            continue
        merged.append(Spell(spell.start, spell.end, spell.involuntary))
    return merged
