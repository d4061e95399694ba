"""What every way in produces: a vendor-neutral `Signal`, and the refusals a receiver answers.

A vendor module reads a delivery and returns `Signal`s: who the customer is, the state of one
subscription as of the event's own time (when the event carries it), and the care events it
means (`payment_failed`, `skip`, `csat`, ...; `bot.models.EVENT_TYPES`). `facts` keeps what an
alert needs to say (amount, attempt, next retry, decline code, reason), in plain values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

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

    @property
    def types(self) -> list[str]:
        return [h.type for h in self.happenings]


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


def cents(amount: Any) -> float | None:
    """An amount in minor units (Stripe, Chargebee) as a float of major units."""
    if amount in (None, "") or isinstance(amount, bool):
        return None
    try:
        return round(int(amount) / 100, 2)
    except (TypeError, ValueError):
        return None
