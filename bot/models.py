"""Domain objects: subscribers, their subscriptions, signals, tasks and outreach.

Objects are typed msgspec Structs (`bot.mapping.Model`), stored as JSON documents through
`bot.store`; `to_doc`/`from_doc` (see `bot.mapping`) convert them, dates as ISO strings, and
refuse what would not read back. Datetimes are UTC and timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.mapping import Doc as Doc  # re-exported: models elsewhere build on it
from bot.mapping import Finite, Model, UTCDateTime
from bot.mapping import InvalidRecord as InvalidRecord

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
    # From live signals (bot.signals): what billing and helpdesk systems report as it happens.
    "retries_exhausted",
    "cancellation_scheduled",
    "cancellation_removed",
    "canceled",
    "trial_ending",
    "card_expiring",
    "unskip",
    # A helpdesk ticket's first agent reply and its solving, noted with the ticket of its
    # `support_contact`: the service metrics' first-response and resolution times.
    "support_reply",
    "support_solved",
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


PERIOD_DAYS = {"day": 1, "week": 7, "month": 30.44, "year": 365.25}


def interval_days(interval: str, count: int) -> float:
    """Days between charges of a subscription billed every `count` `interval`s."""
    return PERIOD_DAYS.get(interval, 30.44) * max(count, 1)


def never_paid(status: str, never_started: bool, end: date | None, trial_end: date | None) -> bool:
    """Whether a subscription never paid: Stripe `incomplete_expired`, cancelled before it
    started, or ended by the end of its free trial (a trial that never converted).

    Args:
        end: the day it ended, else the day it was cancelled (None if neither is known).
        trial_end: the day its free trial ended or ends, when the source says.
    """
    if status == "incomplete_expired" or never_started:
        return True
    return (
        trial_end is not None and end is not None and status in ENDED_STATUSES and end <= trial_end
    )


class Subscription(Model):
    """One subscription of a customer, as the export describes it."""

    id: str
    plan: str = ""
    status: str = "active"
    amount: Finite = 0.0  # per billing interval, in `currency`
    currency: str = ""
    interval: str = "month"  # day | week | month | year; "" when the source does not say
    interval_count: int = 1
    quantity: int = 1
    started: date | None = None
    current_period_end: date | None = None  # next charge
    cancel_at_period_end: bool = False
    canceled_at: date | None = None
    ended_at: date | None = None
    cancellation_reason: str = ""
    cancellation_comment: str = ""  # the customer's own words, when the export has them
    never_started: bool = False  # ended before it ever started (a Chargebee `future` cancelled)
    trial_end: date | None = None  # the day a free trial ended (or ends), when the source says

    @property
    def never_paid(self) -> bool:
        """Never a paying subscription (see `never_paid`): no customer lost, no win-back."""
        return never_paid(
            self.status, self.never_started, self.ended_at or self.canceled_at, self.trial_end
        )

    @property
    def interval_days(self) -> float:
        return interval_days(self.interval, self.interval_count)

    @property
    def interval_months(self) -> float:
        return self.interval_days / 30.44

    @property
    def monthly_value(self) -> float:
        months = interval_days(self.interval, self.interval_count) / 30.44  # interval_months
        return round(self.amount * max(self.quantity, 1) / max(months, 1e-9), 2)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


class Subscriber(Model):
    """A customer: one or more subscriptions, identified by source customer id, else email."""

    id: str
    email: str = ""  # lower-cased
    name: str = ""
    source: str = ""  # stripe | shopify | chargebee | recharge | generic
    owner: str = ""  # the customer's success manager, when the data names one
    subscriptions: list[Subscription] = []
    first_started: date | None = None  # tenure counts from here, never moves later
    last_order: date | None = None
    history: list[dict[str, Any]] = []  # {"at", "field", "from", "to", "sub"}
    tags: list[str] = []
    updated_at: UTCDateTime | None = None

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
        return round(
            sum(s.monthly_value for s in self.subscriptions if s.status in LIVE_STATUSES), 2
        )

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
        """When the last paid subscription ended, if every subscription has ended; None for a
        customer who never paid (every subscription `Subscription.never_paid`)."""
        if not self.subscriptions or any(s.live for s in self.subscriptions):
            return None
        dates = [s.ended_at or s.canceled_at for s in self.subscriptions if not s.never_paid]
        known = [d for d in dates if d]
        return max(known) if known else None

    @property
    def never_paid(self) -> bool:
        """Every subscription ended without ever paying (`Subscription.never_paid`)."""
        return bool(self.subscriptions) and all(s.never_paid for s in self.subscriptions)

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.id

    def tenure_days(self, today: date) -> int | None:
        return (today - self.first_started).days if self.first_started else None


class Event(Model):
    """A churn signal or activity: payment_failed, skip, nps, cancel_request, order, ..."""

    id: str
    subscriber_id: str
    type: str
    at: UTCDateTime
    value: Finite | None = None
    source: str = ""  # csv | inbox | import | slack
    note: str = ""


class RiskReason(Model):
    rule: str
    points: int
    text: str


class Risk(Model):
    score: int
    band: str  # high | medium | low
    reasons: list[RiskReason] = []

    def reason_texts(self) -> list[str]:
        return [r.text for r in self.reasons]


class Task(Model):
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
    created_at: UTCDateTime
    status: str = TASK_OPEN
    reason: str = ""  # why it is due, in words
    risk_score: int = 0
    risk_band: str = "low"
    risk_reasons: list[str] = []
    value: Finite = 0.0  # monthly subscription value at creation
    claimed_by: str = ""
    claimed_at: UTCDateTime | None = None
    snoozed_until: date | None = None
    closed_at: UTCDateTime | None = None
    closed_by: str = ""
    outcome: str = ""  # outreach outcome, "done", "expired", "released"
    digest_date: date | None = None  # the digest that lists it now (later ones carry it over)
    holdout: bool = False  # drawn into the churn-risk holdout (bot/holdout.py); kept for good
    holdout_ended: date | None = None  # the customer wrote in (or an alert): shown from then on
    slack: dict[str, str] = {}  # {"channel", "ts", "thread_ts"}

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_TASK_STATUSES

    def overdue(self, today: date, grace_days: int) -> bool:
        return self.active and (today - self.due).days > grace_days

    @property
    def held_out(self) -> bool:
        """Kept out of the digest, the Home tab and the team's numbers now (bot/holdout.py)."""
        return self.holdout and self.holdout_ended is None


class Outreach(Model):
    """A logged touch: who reached out, how, and what came of it."""

    id: str
    subscriber_id: str
    task_id: str
    by: str  # Slack user id
    channel: str
    outcome: str
    at: UTCDateTime
    note: str = ""
    follow_up: date | None = None
