"""What every way in produces: a vendor-neutral `Signal`, and the refusals a receiver answers.

A vendor module reads a delivery and returns `Signal`s: who the customer is, the state of one
subscription as of the event's own time (when the event carries it), and the care events it
means (`payment_failed`, `skip`, `csat`, ...; `bot.models.EVENT_TYPES`). `facts` keeps what an
alert needs to say (amount, attempt, next retry, decline code, reason), in plain values.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from bot.bounds import AMOUNT_RULE, COUNT_RULE, DAY_RULE, is_amount, is_count, is_day
from bot.models import Subscription
from bot.repos.journal import Delivery


class Refused(Exception):
    """A request the receiver will not take: `status` is the HTTP answer, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Handshake(Exception):
    """A sender's set-up request (Front's `sync` validation): answered 200 with `body`, and
    nothing is stored."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("handshake")
        self.body = body


@dataclass
class Happening:
    """A care event a signal records (`bot.models.Event` without who and when)."""

    type: str
    value: float | None = None
    note: str = ""
    # Recorded only while the customer has a failed payment from this source not yet recovered
    # (a Shopify billing success is a recovery only after a failure).
    if_failing: bool = False


@dataclass
class Signal:
    """One thing a vendor told us, in the bot's terms.

    Attributes:
        source: the vendor ("stripe").
        kind: the vendor's own event type ("invoice.payment_failed").
        at: when it happened, by the vendor's clock: newer state wins by this time.
        customer_id: the vendor's customer id, the subscriber id for customers it creates.
        email: the customer's address, when the event carries it.
        subscription: the subscription's whole state as of `at`, when the event carries it.
        sub_fields: when the event states only some of the subscription (Shopify's contracts
            carry status and interval, no price), those fields; the rest is kept as stored.
        subscription_ref: a subscription id that identifies the customer when the event
            names no customer (Shopify's billing attempts).
        customer_fields: whether `email`/`name` are the customer's record itself (a customer
            event), so they are kept only when newer than what is stored.
        order_at: when its state competes with the stored one, if not `at`: an event dated
            too far ahead of the bot's clock competes as of its receipt (`bot.signals.intake`).
    """

    source: str
    kind: str
    at: datetime
    customer_id: str = ""
    email: str = ""
    name: str = ""
    subscription: Subscription | None = None
    sub_fields: tuple[str, ...] | None = None  # the fields the event states; None: all of them
    subscription_ref: str = ""  # a subscription it names without its state (find its owner)
    customer_fields: bool = False
    happenings: list[Happening] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)  # fields out of bounds, and why
    order_at: datetime | None = None

    @property
    def types(self) -> list[str]:
        return [h.type for h in self.happenings]

    def leave_out(self, bounded: Bounded) -> None:
        """Apply the signal without the fields `bounded` refused: a subscription keeps what is
        stored for them (its other fields are applied), and `left_out` says why."""
        if not bounded.refused:
            return
        self.left_out.extend(bounded.refused.values())
        if self.subscription is not None:
            stated = self.sub_fields or tuple(f.name for f in dataclasses.fields(Subscription))
            self.sub_fields = tuple(f for f in stated if f not in bounded.refused)


@dataclass(frozen=True)
class Envelope:
    """What the journal needs before anything is parsed: the dedupe key, type and time."""

    key: str
    type: str
    at: datetime | None = None
    aliases: tuple[str, ...] = ()  # other keys the same event may arrive under


class Receiver(Protocol):
    """One vendor's way in. All methods are pure: they read bytes and return values."""

    source: str

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Check the sender exactly as the vendor signs. Raises `Refused` (401)."""
        ...

    def identify(self, body: bytes, headers: Mapping[str, str]) -> Envelope:
        """The delivery's dedupe key, type and time. Raises `Refused` (400) when malformed."""
        ...

    def parse(self, delivery: Delivery) -> list[Signal]:
        """The signals a stored delivery means (none for types care does not use)."""
        ...


def json_body(body: bytes) -> dict[str, Any]:
    """The body as a JSON object. Raises `Refused` (400) for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "the body is not a JSON object")
    return data


def from_iso(text: Any) -> datetime | None:
    """An ISO 8601 time (with offset, or UTC) as an aware UTC datetime; None if unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def from_unix(seconds: Any) -> datetime | None:
    """A Unix timestamp (seconds) as an aware UTC datetime; None for empty or non-numbers."""
    if seconds in (None, "") or isinstance(seconds, bool):
        return None
    try:
        return datetime.fromtimestamp(int(seconds), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class Bounded:
    """A vendor object's numbers and dates, read within the importers' bounds (`bot.bounds`).

    A field out of them, or unreadable, is refused: the reader returns None (the caller's
    default) and `refused` keeps, under the field's name in the bot's terms (`quantity`,
    `amount`, `trial_end`), why. `Signal.leave_out` then applies the rest of the delivery.
    """

    def __init__(self) -> None:
        self.refused: dict[str, str] = {}

    def _refuse(self, name: str, key: str, raw: Any, rule: str) -> None:
        shown = (
            repr(raw)
            if len(repr(raw)) <= 40
            else f"{repr(raw)[:40]}... ({len(repr(raw))} characters)"
        )
        self.refused[name] = f"{key or name} {shown} is not {rule}"

    def count(self, name: str, raw: Any, key: str = "") -> int | None:
        """A quantity or interval count; None when absent (or 0) or refused."""
        if raw in (None, "", 0):
            return None
        number = _number(raw)
        if number is None or not is_count(number):
            self._refuse(name, key, raw, COUNT_RULE)
            return None
        return int(number)

    def amount(self, name: str, raw: Any, key: str = "", minor: bool = False) -> float | None:
        """An amount in major units (`minor`: given in cents, as Stripe and Chargebee do);
        None when absent or refused."""
        if raw in (None, ""):
            return None
        number = _number(raw)
        try:
            value = None if number is None else (number / 100 if minor else float(number))
        except OverflowError:  # an int too large for a float
            value = None
        if value is None or not is_amount(value):
            self._refuse(name, key, raw, AMOUNT_RULE)
            return None
        return round(value, 2) if minor else value

    def unix(self, name: str, raw: Any, key: str = "") -> datetime | None:
        """A Unix time (seconds) as an aware UTC datetime; None when absent or refused."""
        return self._day(name, key, raw, from_unix(raw))

    def unix_day(self, name: str, raw: Any, key: str = "") -> date | None:
        """A Unix time's UTC date; None when absent or refused."""
        when = self.unix(name, raw, key)
        return when.date() if when else None

    def iso(self, name: str, raw: Any, key: str = "") -> datetime | None:
        """An ISO 8601 time as an aware UTC datetime; None when absent or refused."""
        return self._day(name, key, raw, from_iso(raw))

    def _day(self, name: str, key: str, raw: Any, when: datetime | None) -> datetime | None:
        if raw in (None, ""):
            return None
        if when is None or not is_day(when):
            self._refuse(name, key, raw, DAY_RULE)
            return None
        return when


def _number(raw: Any) -> float | None:
    """A JSON number, or a string holding one; None for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw
    if isinstance(raw, str):
        for kind in (int, float):
            try:
                return kind(raw.strip())
            except ValueError:
                continue
    return None
