"""Subscriber export formats: which header means what, and how a format is recognised.

Columns are matched by header name, never by position. Headers are compared after
`header_key` (lower case, `_` as space, `(UTC)` dropped), so `customer_id`, `Customer ID` and
`customer id` are the same column. Each format lists, for every field, the headers that can
carry it, best first; the first non-empty one in a row wins. Extra columns are ignored, except
a column named like an owner (`owner (metadata)`, `subscriptions.cf_owner`, `CSM`, `Account
Manager`), which fills `Subscriber.owner`.

A row becomes a `CustomerRow` (who the customer is, plus at most one `Subscription`); the
reading itself is `bot.importers.rows.RowReader`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.models import ENDED_STATUSES, LIVE_STATUSES, Subscription


def header_key(header: str) -> str:
    """The form headers are compared in: `Created (UTC)` -> `created`, `customer_id` -> `customer id`."""
    key = header.strip().lstrip("\ufeff").lower().replace("_", " ")
    key = re.sub(r"\s*\(utc\)", "", key)
    return re.sub(r"\s+", " ", key).strip()


OWNER_NAMES = frozenset(
    {
        "owner",
        "csm",
        "cs owner",
        "account owner",
        "account manager",
        "customer success manager",
        "success manager",
        "cs manager",
        "csm owner",
    }
)
METAFIELD = re.compile(r"^(?P<label>.*?)\s*\((?:customer\.)?metafields\.(?P<path>[^)]*)\)$")


def owner_key(key: str) -> str:
    """A header key without the decoration sources add to custom fields, to spot owner columns."""
    key = re.sub(r"\s*\(metadata\)$", "", key)
    match = METAFIELD.match(key)
    if match:
        key = match.group("path").rsplit(".", 1)[-1].replace("_", " ")
    key = key.rsplit(".", 1)[-1]  # subscriptions.cf owner -> cf owner
    return key.removeprefix("cf ").strip()


@dataclass
class CustomerRow:
    """One data row: a customer and at most one of their subscriptions."""

    line: int
    customer_id: str
    email: str
    name: str = ""
    owner: str = ""
    tags: list[str] | None = None  # None: the file has no tags column
    last_order: date | None = None
    subscription: Subscription | None = None

    @property
    def key(self) -> str:
        return self.customer_id or self.email


# Fields a row can carry. The second group only makes sense with a subscription.
CUSTOMER_FIELDS = ("customer_id", "email", "name", "first_name", "last_name", "company")
SUBSCRIPTION_FIELDS = (
    "subscription_id",
    "plan",
    "product",
    "status",
    "amount",
    "currency",
    "interval",
    "interval_count",
    "quantity",
    "start",
    "next_charge",
    "canceled_at",
    "ended_at",
    "cancel_at_period_end",
    "cancel_at",
    "cancellation_reason",
    "cancellation_comment",
    "trial_end",
    # Read only when the fields above leave them open (Chargebee: no amount, no period).
    "amount_minor",
    "amount_total_minor",
    "period_start",
    "period_end",
    "activated",
)
OTHER_FIELDS = ("last_order", "tags")
IDENTITY_FIELDS = frozenset({"customer_id", "email", "subscription_id"})


@dataclass(frozen=True)
class SubscriberFormat:
    """How one source's export is read.

    Attributes:
        name: the `--format` name.
        columns: field -> headers that can carry it, best first.
        requires: groups of headers; each group must have one present for the file to be read.
        signature: further groups that `auto` needs to pick this format (source-specific headers).
        subscriptions: whether every row is a subscription (else only when such columns exist).
        adjust: a source's own rules, applied to the finished row.
    """

    name: str
    columns: Mapping[str, Sequence[str]]
    requires: Sequence[Sequence[str]]
    signature: Sequence[Sequence[str]] = ()
    subscriptions: bool = True
    adjust: Callable[[CustomerRow, Mapping[str, str]], None] | None = None

    def missing(self, headers: Sequence[str], *, auto: bool) -> list[str]:
        """The requirement groups `headers` does not satisfy (empty when the file fits).

        Signature headers are compared exactly (case aside): `auto` must not take a generic
        `start_date` for Stripe's `Start Date (UTC)`.
        """
        keys = {header_key(h) for h in headers}
        exact = {_exact_key(h) for h in headers}
        found = [g for g in self.requires if any(header_key(h) in keys for h in g)]
        if auto:
            found += [g for g in self.signature if any(_exact_key(h) in exact for h in g)]
        groups = [*self.requires, *(self.signature if auto else ())]
        return [" or ".join(g) for g in groups if g not in found]


def _exact_key(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().lstrip("\ufeff").lower())


def _stripe(row: CustomerRow, cell: Mapping[str, str]) -> None:
    """Stripe: prefer the product name to a price id; a live subscription with a cancellation
    date (or `Cancel At`) is one set to cancel at period end."""
    sub = row.subscription
    if sub is None:
        return
    if re.match(r"^(price|plan)_", sub.plan) and cell.get("product"):
        sub.plan = cell["product"]
    if (
        sub.status in LIVE_STATUSES
        and not sub.ended_at
        and (sub.canceled_at or cell.get("cancel_at"))
    ):
        sub.cancel_at_period_end = True


def _chargebee(row: CustomerRow, cell: Mapping[str, str]) -> None:
    """Chargebee: `cancelled_at` of a live (non-renewing) subscription is when it will end; a
    cancelled subscription that was never started or activated (a `future` one cancelled
    before its start) never paid."""
    sub = row.subscription
    if sub is None:
        return
    if sub.status in LIVE_STATUSES and sub.canceled_at:
        sub.current_period_end = sub.current_period_end or sub.canceled_at
        sub.canceled_at = None
    if sub.status in ENDED_STATUSES and "activated" in cell and not cell["activated"]:
        sub.never_started = True


GENERIC = SubscriberFormat(
    name="generic",
    columns={
        "customer_id": ("customer_id", "customer", "subscriber_id", "account_id", "id"),
        "email": ("email", "customer_email", "email_address", "e-mail"),
        "name": ("name", "customer_name", "full_name"),
        "first_name": ("first_name",),
        "last_name": ("last_name",),
        "company": ("company",),
        "subscription_id": ("subscription_id", "subscription"),
        "plan": ("plan", "plan_name", "subscription_plan"),
        "product": ("product", "product_name"),
        "status": ("status", "subscription_status", "state"),
        "amount": ("amount", "price", "plan_amount"),
        "currency": ("currency",),
        "interval": ("interval", "billing_interval", "billing_period", "interval_unit"),
        "interval_count": ("interval_count", "billing_frequency", "frequency"),
        "quantity": ("quantity", "qty"),
        "start": (
            "start_date",
            "started",
            "started_at",
            "start",
            "subscription_start",
            "signup_date",
            "created_at",
            "created",
        ),
        "next_charge": (
            "next_charge_date",
            "next_billing_date",
            "next_charge",
            "renewal_date",
            "current_period_end",
        ),
        "canceled_at": (
            "canceled_at",
            "cancelled_at",
            "cancellation_date",
            "canceled_on",
            "cancelled_on",
        ),
        "ended_at": ("ended_at", "end_date", "ended"),
        "trial_end": ("trial_end", "trial_ends_at", "trial_end_date"),
        "cancel_at_period_end": ("cancel_at_period_end",),
        "cancellation_reason": ("cancellation_reason", "cancel_reason"),
        "cancellation_comment": (
            "cancellation_comment",
            "cancel_comment",
            "cancellation_reason_comments",
        ),
        "period_start": ("current_period_start", "current_term_start"),
        "period_end": ("current_period_end", "current_term_end"),
        "last_order": ("last_order_date", "last_order", "last_order_at"),
        "tags": ("tags",),
    },
    requires=(
        (
            "customer_id",
            "customer",
            "subscriber_id",
            "account_id",
            "id",
            "email",
            "customer_email",
            "email_address",
        ),
    ),
    subscriptions=False,
)

STRIPE = SubscriberFormat(
    name="stripe",
    columns={
        "customer_id": ("Customer ID", "Customer"),
        "email": ("Customer Email",),
        "name": ("Customer Name", "Customer Description"),
        "subscription_id": ("id",),
        "plan": ("Plan",),
        "product": ("Product",),
        "status": ("Status",),
        "amount": ("Amount",),
        "currency": ("Currency",),
        "interval": ("Interval",),
        "interval_count": ("Interval Count",),
        "quantity": ("Quantity",),
        "start": ("Start Date (UTC)", "Created (UTC)", "Start (UTC)"),
        "next_charge": ("Current Period End (UTC)",),
        "canceled_at": ("Canceled At (UTC)",),
        "ended_at": ("Ended At (UTC)",),
        "trial_end": ("Trial End (UTC)",),
        "cancel_at_period_end": ("Cancel At Period End",),
        "cancel_at": ("Cancel At (UTC)",),
        "cancellation_reason": ("Cancellation Reason", "Cancellation Feedback"),
        "cancellation_comment": ("Cancellation Comment",),
        "period_start": ("Current Period Start (UTC)",),
        "period_end": ("Current Period End (UTC)",),
    },
    requires=(("Customer ID", "Customer Email"), ("Status",)),
    signature=(("Current Period End (UTC)", "Start Date (UTC)", "Created (UTC)"),),
    adjust=_stripe,
)

SHOPIFY = SubscriberFormat(
    name="shopify",
    columns={
        "customer_id": ("Customer ID",),
        "email": ("Email",),
        "first_name": ("First Name",),
        "last_name": ("Last Name",),
        "company": ("Default Address Company", "Company"),
        "tags": ("Tags",),
    },
    requires=(("Customer ID", "Email"),),
    signature=(
        ("First Name",),
        ("Accepts Email Marketing", "Accepts Marketing", "Total Orders", "Total Spent"),
    ),
    subscriptions=False,
)

CHARGEBEE = SubscriberFormat(
    name="chargebee",
    columns={
        "customer_id": ("customers.id", "subscriptions.customer_id"),
        "email": ("customers.email",),
        "first_name": ("customers.first_name",),
        "last_name": ("customers.last_name",),
        "company": ("customers.company",),
        "subscription_id": ("subscriptions.id",),
        "plan": ("subscriptions.plan_id", "subscriptions.plan_name"),
        "status": ("subscriptions.status",),
        "amount": ("subscriptions.plan_unit_price_in_decimal",),  # major units, a decimal
        "amount_minor": ("subscriptions.plan_unit_price",),  # in cents (minor units)
        "amount_total_minor": ("subscriptions.plan_amount",),  # unit price x quantity, cents
        "currency": ("subscriptions.currency_code", "customers.preferred_currency_code"),
        "interval": ("subscriptions.billing_period_unit", "plans.period_unit"),
        "interval_count": ("subscriptions.billing_period", "plans.period"),
        "quantity": ("subscriptions.plan_quantity",),
        "start": (
            "subscriptions.started_at",
            "subscriptions.start_date",
            "subscriptions.created_at",
        ),
        "next_charge": ("subscriptions.next_billing_at", "subscriptions.current_term_end"),
        "canceled_at": ("subscriptions.cancelled_at",),
        "trial_end": ("subscriptions.trial_end",),
        "cancellation_reason": ("subscriptions.cancel_reason_code", "subscriptions.cancel_reason"),
        "period_start": ("subscriptions.current_term_start",),
        "period_end": ("subscriptions.current_term_end",),
        "activated": ("subscriptions.started_at", "subscriptions.activated_at"),
    },
    requires=(
        ("subscriptions.id",),
        ("subscriptions.status",),
        ("customers.id", "customers.email", "subscriptions.customer_id"),
    ),
    adjust=_chargebee,
)

RECHARGE = SubscriberFormat(
    name="recharge",
    columns={
        "customer_id": ("customer_id",),
        "email": ("customer_email", "email"),
        "name": ("customer_name",),
        "first_name": ("first_name", "customer_first_name", "billing_first_name"),
        "last_name": ("last_name", "customer_last_name", "billing_last_name"),
        "subscription_id": ("id", "subscription_id"),
        "plan": ("product_title", "title"),
        "status": ("status",),
        "amount": ("price",),
        "currency": ("presentment_currency", "currency"),
        "interval": ("order_interval_unit", "charge_interval_unit"),
        "interval_count": ("charge_interval_frequency", "order_interval_frequency"),
        "quantity": ("quantity",),
        "start": ("created_at",),
        "next_charge": ("next_charge_scheduled_at",),
        "canceled_at": ("cancelled_at",),
        "cancellation_reason": ("cancellation_reason",),
        "cancellation_comment": ("cancellation_reason_comments",),
    },
    requires=(("customer_id", "customer_email", "email"), ("status",)),
    signature=(
        (
            "next_charge_scheduled_at",
            "order_interval_unit",
            "order_interval_frequency",
            "charge_interval_frequency",
        ),
    ),
)

# `auto` tries these in order; generic last because it asks the least of a file.
SUBSCRIBER_FORMATS: dict[str, SubscriberFormat] = {
    f.name: f for f in (STRIPE, CHARGEBEE, RECHARGE, SHOPIFY, GENERIC)
}
