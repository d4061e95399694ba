"""Which export a file is, told from its header line alone.

Three answers: a subscriber format the importer reads (`bot.importers.formats`); another
export of the same platforms, which holds no subscribers (customers, invoices, payments,
orders, products, charges) and is refused by name, saying which export to use instead and
where the platform keeps it; or nothing close enough, refused with the headers found and the
nearest formats. `auto` never falls back to the generic layout: a file is read as generic only
when it looks like the documented generic layout (see `looks_generic`), or when asked for with
`--format generic`.

The header lines of the refused exports, and where they were found, are listed in
docs/importing.md ("Exports that are refused").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.importers.events import COLUMNS as EVENT_COLUMNS
from bot.importers.events import missing_columns
from bot.importers.formats import (
    GENERIC,
    OWNER_NAMES,
    SUBSCRIBER_FORMATS,
    header_key,
    owner_key,
)

_STRIPE_INSTEAD = (
    "the Subscriptions export: in the Stripe Dashboard open Billing > Subscriptions, click "
    "Export, keep the default columns, and import that file"
)
_SHOPIFY_INSTEAD = (
    "your subscription app's subscriptions export (Recharge: Tools & apps > Exports > Create "
    "export > Subscriptions), then Shopify's Customers export (Shopify admin > Customers > "
    "Export) for names and tags"
)
_CHARGEBEE_INSTEAD = (
    "Subscriptions.csv from Chargebee's data export (Settings > Import & Export Data > Export "
    "Data; unzip the download)"
)
_RECHARGE_INSTEAD = (
    "the subscriptions export: in the Recharge merchant portal open Tools & apps > Exports, "
    "click Create export and choose a Subscriptions export"
)


@dataclass(frozen=True)
class OtherExport:
    """An export that is not a subscriber list, recognised so it can be refused by name.

    Attributes:
        name: what the person calls it ("a Shopify Orders export").
        holds: what one row is, and why importing it would mislead.
        instead: the export to use, and where the platform keeps it.
        groups: header keys (see `header_key`); one of each group must be present.
        prefix: a dotted prefix some header must start with (Chargebee's `invoices.`).
        unless: header keys or dotted prefixes whose presence means it is not this export.
    """

    name: str
    holds: str
    instead: str
    groups: Sequence[Sequence[str]] = ()
    prefix: str = ""
    unless: Sequence[str] = ()

    def matches(self, keys: set[str]) -> bool:
        if any(k == u or k.startswith(u) for k in keys for u in self.unless):
            return False
        if self.prefix and not any(k.startswith(self.prefix) for k in keys):
            return False
        return all(any(h in keys for h in group) for group in self.groups)


OTHER_EXPORTS: tuple[OtherExport, ...] = (
    OtherExport(
        "a Stripe Customers export",
        "one row per customer with what they spent, but no subscription, status or renewal "
        "date: every customer would look like an active subscriber",
        _STRIPE_INSTEAD,
        groups=(
            ("id",),
            ("email",),
            ("total spend", "payment count", "refunded volume", "dispute losses", "delinquent"),
        ),
    ),
    OtherExport(
        "a Stripe Invoices export",
        "one row per invoice, so a customer appears once per bill and an invoice's status "
        "(paid, open, void) is not a subscription's",
        _STRIPE_INSTEAD,
        groups=(
            ("amount due",),
            ("amount paid",),
            ("number", "finalized at", "billing", "attempt count", "paid at", "closed"),
        ),
    ),
    OtherExport(
        "a Stripe Payments export",
        "one row per charge: payments, refunds and failures, not subscriptions",
        _STRIPE_INSTEAD,
        groups=(
            ("seller message", "converted amount", "card last4", "paymentintent id"),
            ("amount",),
        ),
    ),
    OtherExport(
        "a Shopify Orders export",
        "one row per order line: 'Name' is the order number (#1001), not a person, and a "
        "refunded order would become a subscriber with anniversaries",
        _SHOPIFY_INSTEAD,
        groups=(
            ("financial status",),
            ("lineitem name", "lineitem quantity", "lineitem price", "fulfillment status"),
        ),
    ),
    OtherExport(
        "a Shopify Products export",
        "one row per product variant or image, not customers",
        _SHOPIFY_INSTEAD,
        groups=(
            ("handle", "url handle"),
            ("title",),
            (
                "body (html)",
                "variant sku",
                "variant price",
                "option1 name",
                "option1 value",
                "vendor",
            ),
        ),
    ),
    OtherExport(
        "a Chargebee Invoices export (Invoices.csv)",
        "one row per invoice, not per subscription",
        _CHARGEBEE_INSTEAD,
        prefix="invoices.",
        unless=("subscriptions.id",),
    ),
    OtherExport(
        "a Chargebee Customers export (Customers.csv)",
        "one row per customer, with no subscription, status or renewal date",
        _CHARGEBEE_INSTEAD,
        prefix="customers.",
        unless=("subscriptions.", "invoices."),
    ),
    OtherExport(
        "a Recharge Customers export",
        "one row per customer with subscription counts, but no subscription, status or "
        "next charge date",
        _RECHARGE_INSTEAD,
        groups=(
            (
                "has payment method in dunning",
                "has valid payment method",
                "subscriptions active count",
                "subscriptions total count",
                "first charge processed at",
            ),
        ),
        unless=("next charge scheduled at", "order interval unit", "charge interval frequency"),
    ),
    OtherExport(
        "a Recharge Charges export",
        "one row per charge (each box billed or skipped), not per subscription",
        _RECHARGE_INSTEAD,
        groups=(
            ("scheduled at",),
            (
                "processed at",
                "total price",
                "charge attempts",
                "shopify order id",
                "external order id",
                "error type",
            ),
        ),
        unless=("next charge scheduled at", "order interval unit", "charge interval frequency"),
    ),
)


def other_export(headers: Sequence[str]) -> OtherExport | None:
    """The non-subscriber export these headers belong to, if they belong to one."""
    keys = {header_key(h) for h in headers}
    return next((export for export in OTHER_EXPORTS if export.matches(keys)), None)


_GENERIC_KEYS = frozenset(header_key(a) for aliases in GENERIC.columns.values() for a in aliases)
_STATUS_KEYS = frozenset(header_key(a) for a in GENERIC.columns["status"])


def looks_generic(headers: Sequence[str]) -> bool:
    """Whether `auto` may read a file as the generic layout without being told to.

    It must name whose row it is (an id or email column), carry a status column (without one
    every row would become an active subscriber), and at least half of its columns must be
    generic column names, owner columns or metadata.
    """
    keys = [header_key(h) for h in headers if h.strip()]
    if not keys or not _STATUS_KEYS & set(keys) or GENERIC.missing(headers, auto=False):
        return False
    known = sum(
        k in _GENERIC_KEYS or owner_key(k) in OWNER_NAMES or k.endswith("(metadata)") for k in keys
    )
    return known * 2 >= len(keys)


def nearest_formats(headers: Sequence[str], count: int = 2) -> list[tuple[str, list[str]]]:
    """The formats closest to fitting these headers, as (name, what each lacks), nearest first.

    Nearest is fewest missing columns, then most of the file's headers known to the format.
    """
    keys = {header_key(h) for h in headers}
    scored: list[tuple[int, int, str, list[str]]] = []
    for fmt in SUBSCRIBER_FORMATS.values():
        missing = fmt.missing(headers, auto=fmt is not GENERIC)
        if fmt is GENERIC and not _STATUS_KEYS & keys:
            missing.append(" or ".join(GENERIC.columns["status"]))
        known = sum(header_key(a) in keys for aliases in fmt.columns.values() for a in aliases)
        scored.append((len(missing), -known, fmt.name, missing))
    known = sum(header_key(a) in keys for aliases in EVENT_COLUMNS.values() for a in aliases)
    missing = missing_columns(headers)
    scored.append((len(missing), -known, "events", missing))
    return [(name, missing) for _, _, name, missing in sorted(scored)[:count]]
