"""What planning needs to find among a million subscribers without reading them all.

Subscribers are held encoded (`bot.compact`); decoding all of them for each plan would cost
seconds at a million. `PlanIndex` is built in one pass over a slim decode of each document
(only the fields below; msgspec skips the rest) and kept up to date by every write:

- `on_days`: the subscribers holding one of the given ISO dates as a start, a period end, an
  end or cancellation, or a history entry's day. A milestone can be in window today only for
  a subscriber holding one of the dates `bot.lifecycle.MilestoneWindows` looks for, so the
  engine tests (and decodes) only those. Entries of a changed subscriber are not removed,
  only added (a superset is still right); the index is rebuilt once stale entries outnumber
  the subscribers.
- `on_month_days`: subscribers by the month and day they started (anniversaries).
- `flags`: for every subscriber, the bits of `bot.risk_bound.doc_flags`, from which
  `UpperBound.points_of` bounds the risk score exactly as it would from the document.
- `values`: for every subscriber whose subscriptions have the model's types, their
  `Subscriber.monthly_value` (`value_and_flags`): the plan ranks a due customer by it without
  reading their document (`bot.digest_entries.Entries.facts`).
- `unsure`: subscribers whose document does not have the expected shape; the engine reads
  them in full (and logs them if they cannot be read at all).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET

from bot.compact import Encoded, decode_doc
from bot.lifecycle import MilestoneWindows
from bot.models import ENDED_STATUSES, LIVE_STATUSES, interval_days
from bot.risk_bound import LAST_ORDER, LATE, PAUSED, SCHEDULED, subscription_flags

RISK_FLAGS = SCHEDULED | LATE | PAUSED | LAST_ORDER


class _Sub(msgspec.Struct):
    started: str | None = None
    current_period_end: str | None = None
    ended_at: str | None = None
    canceled_at: str | None = None
    # UNSET (falsy, in no set of statuses): a field left out takes the model's default, a
    # null is a type the model refuses (`_monthly`)
    status: Any = UNSET
    cancel_at_period_end: Any = None
    interval: Any = UNSET
    interval_count: Any = UNSET
    amount: Any = UNSET
    quantity: Any = UNSET


class _Entry(msgspec.Struct):
    at: Any = None


class Head(msgspec.Struct):
    """The fields of a subscriber document the indexes read."""

    id: Any = None
    first_started: str | None = None
    last_order: Any = None
    subscriptions: list[_Sub] | None = None
    history: list[_Entry] | None = None


_heads = msgspec.json.Decoder(Head)


class _Id(msgspec.Struct):
    id: Any = None
    email: Any = ""


_ids = msgspec.json.Decoder(_Id)


def read_head(raw: Encoded) -> tuple[Head | None, Any]:
    """(head, id) of a stored document; head None when its shape is unexpected."""
    try:
        head = _heads.decode(raw)
        return head, head.id
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None, read_id(raw)[0]


def read_id(raw: Encoded) -> tuple[Any, Any]:
    """(id, email) of a stored document, (None, None) if it is not a JSON object."""
    try:
        ident = _ids.decode(raw)
        return ident.id, ident.email
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        pass
    doc = decode_doc(raw)  # what msgspec refuses (lone surrogates, NaN), as json reads it
    return (doc.get("id"), doc.get("email")) if isinstance(doc, dict) else (None, None)


def _start(head: Head) -> str | None:
    subs = head.subscriptions or ()
    return head.first_started or min((s.started for s in subs if s.started), default=None)


def _renewal_months(sub: _Sub) -> float | None:
    """Months between charges of a subscription that renews; None if it does not."""
    if sub.cancel_at_period_end or sub.status in ENDED_STATUSES:
        return None
    return interval_days(sub.interval or "month", sub.interval_count or 1) / 30.44


class _Priced(msgspec.Struct):
    status: Any = "active"
    cancel_at_period_end: Any = False
    amount: Any = 0.0
    quantity: Any = 1
    interval: Any = "month"
    interval_count: Any = 1


class _Ranked(msgspec.Struct):
    subscriptions: list[_Priced] | None = None
    last_order: Any = None


_ranked = msgspec.json.Decoder(_Ranked)


def value_and_flags(raw: Encoded) -> tuple[float, int] | None:
    """(`Subscriber.monthly_value`, `bot.risk_bound.doc_flags`) of a stored document from a slim
    decode of its subscriptions; None when a field has a type the model would not take as
    it is (the caller then reads the document in full)."""
    try:
        doc = _ranked.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None
    if type(doc.last_order) not in (str, type(None)):
        return None
    subs = doc.subscriptions or ()
    total = _monthly((s.status, s.amount, s.quantity, s.interval, s.interval_count) for s in subs)
    if total is None:
        return None
    flags = subscription_flags(
        ((s.status, s.cancel_at_period_end) for s in subs), bool(doc.last_order)
    )
    return total, flags


def _monthly(terms: Iterable[tuple[Any, Any, Any, Any, Any]]) -> float | None:
    """`Subscriber.monthly_value` from each subscription's (status, amount, quantity,
    interval, interval count); None when one has a type the model would not take as it is."""
    total = 0.0
    for status, amount, quantity, interval, count in terms:
        if not (
            type(amount) in (int, float)
            and type(quantity) is int
            and type(interval) is str
            and type(count) is int
            and type(status) is str
        ):
            return None
        if status in LIVE_STATUSES:  # Subscription.monthly_value
            months = interval_days(interval, count) / 30.44
            total += round(float(amount) * max(quantity, 1) / max(months, 1e-9), 2)
    return round(total, 2)


def _terms(sub: _Sub) -> tuple[Any, Any, Any, Any, Any]:
    """`_monthly`'s terms of an indexed subscription, a field left out as the model's default."""
    return (
        "active" if sub.status is UNSET else sub.status,
        0.0 if sub.amount is UNSET else sub.amount,
        1 if sub.quantity is UNSET else sub.quantity,
        "month" if sub.interval is UNSET else sub.interval,
        1 if sub.interval_count is UNSET else sub.interval_count,
    )


class Positions:
    """A restored index's entry (`bot.repos.plan_file`): positions into the saved ids, named
    when first read (a plan reads the entries of some 70 days of several thousand)."""

    __slots__ = ("at", "ids")

    def __init__(self, at: array[int], ids: list[str | None]) -> None:
        self.at, self.ids = at, ids  # every position names an id (checked when restored)

    def names(self) -> list[str]:
        return list(map(self.ids.__getitem__, self.at))  # type: ignore[arg-type]


Held = list[str] | Positions
K = TypeVar("K")


def named(table: dict[K, Held], key: K) -> list[str] | None:
    """The ids `table` holds under `key` (None: none), named now if restored as positions."""
    held = table.get(key)
    if held is None or type(held) is list:
        return held
    table[key] = names = held.names()  # type: ignore[union-attr]
    return names


def listed(table: dict[K, Held], key: K) -> list[str]:
    """The list of ids under `key`, to add to (a new one if none)."""
    held = named(table, key)
    if held is None:
        table[key] = held = []
    return held


class PlanIndex:
    """Subscribers by the dates they hold and by the facts that bound their risk."""

    def __init__(self) -> None:
        self.flags: dict[str, int] = {}
        self.values: dict[str, float] = {}  # monthly value, for those of the model's types
        self.unsure: set[str] = set()
        self.by_day: dict[str, Held] = {}
        self.by_charge: dict[str, dict[float, Held]] = {}  # day -> months -> ids
        self.by_month_day: dict[str, Held] = {}
        self.entries = 0

    def tables(
        self,
    ) -> tuple[dict[str, list[str]], dict[str, dict[float, list[str]]], dict[str, list[str]]]:
        """`by_day`, `by_charge` and `by_month_day` with every entry named (to save them)."""

        def names(table: dict[Any, Held]) -> dict[Any, list[str]]:
            return {key: named(table, key) or [] for key in list(table)}

        charges = {day: names(by_months) for day, by_months in self.by_charge.items()}
        return names(self.by_day), charges, names(self.by_month_day)

    def add(self, sid: str, head: Head | None) -> None:
        """Index `sid` as `head` describes it (None: its document has an unexpected shape)."""
        self.unsure.discard(sid)
        self.values.pop(sid, None)
        try:
            if head is None or type(head.last_order) not in (str, type(None)):
                raise TypeError("not the expected shape")
            self._add(sid, head)
        except (TypeError, ValueError):
            self.unsure.add(sid)  # the full reader decides (and logs it if unreadable)

    def _add(self, sid: str, head: Head) -> None:
        subs = head.subscriptions or ()
        days: set[str] = set()
        for s in subs:
            days.update(d for d in (s.ended_at, s.canceled_at) if d)
            if not s.current_period_end:
                continue
            if s.cancel_at_period_end or s.status == "non_renewing":
                days.add(s.current_period_end)  # a save before the end
            months = _renewal_months(s)
            if months is not None:  # a pre-renewal touch, if it renews rarely enough
                by_months = self.by_charge.setdefault(s.current_period_end, {})
                listed(by_months, months).append(sid)
                self.entries += 1
        days.update(str(h.at or "")[:10] for h in head.history or ())
        start = _start(head)
        if start:
            days.add(start)
            listed(self.by_month_day, start[5:]).append(sid)
        days.discard("")
        for day in days:
            listed(self.by_day, day).append(sid)
        self.entries += len(days) + 1
        self.flags[sid] = subscription_flags(
            ((s.status, s.cancel_at_period_end) for s in subs), bool(head.last_order)
        )
        try:
            value = _monthly(_terms(s) for s in subs)
        except OverflowError:  # left to the full reader
            value = None
        if value is not None:
            self.values[sid] = value

    def stale(self, subscribers: int) -> bool:
        """Whether entries left by changed subscribers outnumber live ones: time to rebuild."""
        return self.entries > 8 * subscribers + 10_000

    def on_days(self, days: Iterable[str]) -> set[str]:
        return {sid for day in days for sid in named(self.by_day, day) or ()}

    def on_month_days(self, month_days: Iterable[str]) -> set[str]:
        return {sid for md in month_days for sid in named(self.by_month_day, md) or ()}

    def flagged(self) -> set[str]:
        """Subscribers whose document alone can give risk points."""
        return {sid for sid, flags in self.flags.items() if flags & RISK_FLAGS}

    def on_charges(self, days: Iterable[str], min_months: float) -> set[str]:
        """Subscribers with a renewal on one of `days`, billed every `min_months` or more."""
        found: set[str] = set()
        for day in days:
            by_months = self.by_charge.get(day, {})
            for months in list(by_months):
                if months >= min_months:
                    found.update(named(by_months, months) or ())
        return found

    def candidates(
        self, windows: MilestoneWindows, also: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """(subscribers that may have a milestone in `windows`, those that may score or are
        asked for in `also`), both including every `unsure` one."""
        days = windows.starts | windows.ends | windows.save_ends
        dated = (
            self.on_days(days)
            | self.on_charges(windows.charges, windows.min_months)
            | self.on_month_days(windows.month_days)
            | self.unsure
        )
        return dated, self.flagged() | set(also) | self.unsure
