"""Domain objects: subscribers, their subscriptions, signals, tasks and outreach.

Objects are plain dataclasses. They are stored as JSON documents through `bot.store`;
`to_doc`/`from_doc` convert dates to ISO strings and back. Datetimes are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

# Canonical subscription statuses, whatever the source calls them.
STATUSES = (
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "paused",
    "non_renewing",
    "future",
    "incomplete",
    "incomplete_expired",
    "canceled",
    "expired",
)
LIVE_STATUSES = frozenset(
    {"trialing", "active", "past_due", "unpaid", "paused", "non_renewing", "future"}
)
ENDED_STATUSES = frozenset({"canceled", "expired", "incomplete_expired"})
# When a customer has several subscriptions, the subscriber's status is the first of these present.
STATUS_PRECEDENCE = (
    "active",
    "past_due",
    "unpaid",
    "non_renewing",
    "trialing",
    "paused",
    "future",
    "incomplete",
    "canceled",
    "expired",
    "incomplete_expired",
)

EVENT_TYPES = (
    "payment_failed",
    "payment_recovered",
    "skip",
    "pause",
    "resume",
    "nps",
    "csat",
    "support_contact",
    "cancel_request",
    "downgrade",
    "order",
    "bounce",
)

TASK_KINDS = (
    "onboarding",
    "checkin_30",
    "checkin_90",
    "checkin_180",
    "pre_renewal",
    "anniversary",
    "win_back",
    "churn_risk",
)
TASK_OPEN, TASK_CLAIMED, TASK_DONE, TASK_EXPIRED = "open", "claimed", "done", "expired"
ACTIVE_TASK_STATUSES = frozenset({TASK_OPEN, TASK_CLAIMED})

OUTREACH_CHANNELS = ("email", "call", "sms", "slack", "other")
OUTREACH_OUTCOMES = ("reached", "left_message", "no_answer", "saved", "lost", "follow_up")


def utcnow() -> datetime:
    return datetime.now(UTC)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _to_json(value: Any) -> Any:
    if type(value) in _SCALARS:  # most values: one set lookup instead of five isinstance calls
        return value
    if isinstance(value, Doc):
        return value.to_doc()
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def parse_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


_FIELD_NAMES: dict[type, frozenset[str]] = {}
_FIELD_ORDER: dict[type, tuple[str, ...]] = {}


class Doc:
    """Mixin: dataclass <-> JSON document, with date fields named in `_dates`/`_datetimes`."""

    _dates: tuple[str, ...] = ()
    _datetimes: tuple[str, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        # Field by field rather than asdict(), which deep-copies everything first and made
        # to_doc most of the time of a 100k-row import; the document is the same.
        # Empty values (None, "", [], {}, False) are left out: from_doc restores them from the
        # field defaults, and 100k subscribers take a third less memory and disk without them.
        cls = type(self)
        names = _FIELD_ORDER.get(cls)
        if names is None:
            names = _FIELD_ORDER[cls] = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
        doc = {}
        for name in names:
            value = getattr(self, name)
            if (
                value is None
                or value is False
                or (not value and isinstance(value, str | list | dict | tuple))
            ):
                continue
            doc[name] = _to_json(value)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Any:
        names = _FIELD_NAMES.get(cls)
        if names is None:  # fields() is slow: read once per class (planning parses 100k docs)
            names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))  # type: ignore[arg-type]
        values = {k: v for k, v in doc.items() if k in names}
        for name in cls._dates:
            if name in values:
                values[name] = parse_date(values[name])
        for name in cls._datetimes:
            if name in values:
                values[name] = parse_datetime(values[name])
        return cls._post_load(values)

    @classmethod
    def _post_load(cls, values: dict[str, Any]) -> Any:
        return cls(**values)


@dataclass
class Subscription(Doc):
    """One subscription of a customer, as the export describes it."""

    id: str
    plan: str = ""
    status: str = "active"
    amount: float = 0.0  # per billing interval, in `currency`
    currency: str = ""
    interval: str = "month"  # day | week | month | year
    interval_count: int = 1
    quantity: int = 1
    started: date | None = None
    current_period_end: date | None = None  # next charge
    cancel_at_period_end: bool = False
    canceled_at: date | None = None
    ended_at: date | None = None
    cancellation_reason: str = ""

    _dates = ("started", "current_period_end", "canceled_at", "ended_at")

    @property
    def interval_days(self) -> float:
        per = {"day": 1, "week": 7, "month": 30.44, "year": 365.25}.get(self.interval, 30.44)
        return per * max(self.interval_count, 1)

    @property
    def interval_months(self) -> float:
        return self.interval_days / 30.44

    @property
    def monthly_value(self) -> float:
        return round(self.amount * max(self.quantity, 1) / max(self.interval_months, 1e-9), 2)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


@dataclass
class Subscriber(Doc):
    """A customer: one or more subscriptions, identified by source customer id, else email."""

    id: str
    email: str = ""  # lower-cased
    name: str = ""
    source: str = ""  # stripe | shopify | chargebee | recharge | generic
    owner: str = ""  # the customer's success manager, when the data names one
    subscriptions: list[Subscription] = field(default_factory=list)
    first_started: date | None = None  # tenure counts from here, never moves later
    last_order: date | None = None
    history: list[dict[str, Any]] = field(
        default_factory=list
    )  # {"at", "field", "from", "to", "sub"}
    tags: list[str] = field(default_factory=list)
    updated_at: datetime | None = None

    _dates = ("first_started", "last_order")
    _datetimes = ("updated_at",)

    @classmethod
    def _post_load(cls, values: dict[str, Any]) -> Subscriber:
        values["subscriptions"] = [
            Subscription.from_doc(s) for s in values.get("subscriptions", [])
        ]
        return cls(**values)

    @property
    def status(self) -> str:
        present = {s.status for s in self.subscriptions}
        for status in STATUS_PRECEDENCE:
            if status in present:
                return status
        return "active" if not self.subscriptions else self.subscriptions[0].status

    @property
    def live_subscriptions(self) -> list[Subscription]:
        return [s for s in self.subscriptions if s.live]

    @property
    def plan(self) -> str:
        live = self.live_subscriptions or self.subscriptions
        return ", ".join(dict.fromkeys(s.plan for s in live if s.plan))

    @property
    def monthly_value(self) -> float:
        return round(sum(s.monthly_value for s in self.live_subscriptions), 2)

    @property
    def currency(self) -> str:
        return next((s.currency for s in self.subscriptions if s.currency), "")

    @property
    def scheduled_cancellation(self) -> bool:
        live = self.live_subscriptions
        return bool(live) and all(
            s.cancel_at_period_end or s.status == "non_renewing" for s in live
        )

    @property
    def ended_on(self) -> date | None:
        """When the last subscription ended, if every subscription has ended."""
        if not self.subscriptions or any(s.live for s in self.subscriptions):
            return None
        dates = [s.ended_at or s.canceled_at for s in self.subscriptions]
        known = [d for d in dates if d]
        return max(known) if known else None

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.id

    def tenure_days(self, today: date) -> int | None:
        return (today - self.first_started).days if self.first_started else None


@dataclass
class Event(Doc):
    """A churn signal or activity: payment_failed, skip, nps, cancel_request, order, ..."""

    id: str
    subscriber_id: str
    type: str
    at: datetime
    value: float | None = None
    source: str = ""  # csv | inbox | import | slack
    note: str = ""

    _datetimes = ("at",)


@dataclass
class RiskReason(Doc):
    rule: str
    points: int
    text: str


@dataclass
class Risk(Doc):
    score: int
    band: str  # high | medium | low
    reasons: list[RiskReason] = field(default_factory=list)

    @classmethod
    def _post_load(cls, values: dict[str, Any]) -> Risk:
        values["reasons"] = [RiskReason.from_doc(r) for r in values.get("reasons", [])]
        return cls(**values)

    def reason_texts(self) -> list[str]:
        return [r.text for r in self.reasons]


@dataclass
class Task(Doc):
    """A proactive touch due for a subscriber: a lifecycle milestone or a churn risk.

    `key` is unique per subscriber and milestone (`cus_1:checkin_30`, `cus_1:anniversary:2026`):
    the engine never creates a second task with the same key. A follow-up asked for in an
    outreach log is a new task of the same kind, keyed `<original key>:follow_up:<date>`.
    """

    id: str  # short and typeable, e.g. "k7qx2"
    key: str
    kind: str
    subscriber_id: str
    due: date
    created_at: datetime
    status: str = TASK_OPEN
    reason: str = ""  # why it is due, in words
    risk_score: int = 0
    risk_band: str = "low"
    risk_reasons: list[str] = field(default_factory=list)
    value: float = 0.0  # monthly subscription value at creation
    claimed_by: str = ""
    claimed_at: datetime | None = None
    snoozed_until: date | None = None
    closed_at: datetime | None = None
    closed_by: str = ""
    outcome: str = ""  # outreach outcome, "done", "expired", "released"
    digest_date: date | None = None  # the digest that lists it now (later ones carry it over)
    slack: dict[str, str] = field(default_factory=dict)  # {"channel", "ts", "thread_ts"}

    _dates = ("due", "snoozed_until", "digest_date")
    _datetimes = ("created_at", "claimed_at", "closed_at")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_TASK_STATUSES

    def overdue(self, today: date, grace_days: int) -> bool:
        return self.active and (today - self.due).days > grace_days


@dataclass
class Outreach(Doc):
    """A logged touch: who reached out, how, and what came of it."""

    id: str
    subscriber_id: str
    task_id: str
    by: str  # Slack user id
    channel: str
    outcome: str
    at: datetime
    note: str = ""
    follow_up: date | None = None

    _dates = ("follow_up",)
    _datetimes = ("at",)
