"""Reading one data row of a subscriber export into a `CustomerRow`.

`RowReader` works out once, from the header line, which column carries which field (see
`bot.importers.formats`), then reads each row: identity, name, owner, tags, and a
`Subscription` when the format has subscription columns. Bad cells raise `RowError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.importers.formats import (
    CUSTOMER_FIELDS,
    GENERIC,
    IDENTITY_FIELDS,
    METAFIELD,
    OTHER_FIELDS,
    OWNER_NAMES,
    SUBSCRIPTION_FIELDS,
    CustomerRow,
    SubscriberFormat,
    header_key,
    owner_key,
)
from bot.importers.periods import infer_period
from bot.importers.values import (
    RowError,
    parse_amount,
    parse_count,
    parse_day,
    parse_email,
    parse_flag,
    parse_interval,
    parse_minor_amount,
    parse_status,
)
from bot.models import Subscription

DATE_FIELDS = (
    "start",
    "next_charge",
    "canceled_at",
    "ended_at",
    "cancel_at",
    "last_order",
    "period_start",
    "period_end",
)


class RowReader:
    """Reads rows of one file in one format; column positions are worked out once."""

    def __init__(
        self, fmt: SubscriberFormat, headers: Sequence[str], date_order: str | None = None
    ) -> None:
        self.format = fmt
        self.date_order = date_order
        self.headers = list(headers)
        positions: dict[str, list[int]] = {}
        for i, header in enumerate(headers):
            positions.setdefault(header_key(header), []).append(i)
        self._columns: dict[str, list[tuple[int, str]]] = {}
        for field, aliases in fmt.columns.items():
            found = [
                (i, headers[i].strip()) for a in aliases for i in positions.get(header_key(a), ())
            ]
            if found:
                # Identity comes from the first such column present, never from a fallback
                # column that happens to be filled (a subscription `id` is not a customer id).
                self._columns[field] = found[:1] if field in IDENTITY_FIELDS else found
        owners = [
            (i, h.strip()) for i, h in enumerate(headers) if owner_key(header_key(h)) in OWNER_NAMES
        ]
        if owners:
            self._columns.setdefault("owner", []).extend(owners)
        self._metafields(headers)
        self.has_subscriptions = fmt.subscriptions or any(
            f in self._columns for f in SUBSCRIPTION_FIELDS
        )
        self._width = len(headers)
        # Per row, each field is read from its one column, or the first filled of several.
        self._single = [(f, cols[0][0]) for f, cols in self._columns.items() if len(cols) == 1]
        self._multi = [
            (f, [i for i, _ in cols]) for f, cols in self._columns.items() if len(cols) > 1
        ]
        self._names = {f: f for f in (*CUSTOMER_FIELDS, *SUBSCRIPTION_FIELDS, *OTHER_FIELDS)}
        self._names.update({f: cols[0][1] for f, cols in self._columns.items()})

    def _metafields(self, headers: Sequence[str]) -> None:
        """Shopify metafields whose key names a known field (status, plan, start date...)."""
        generic = {header_key(a): f for f, aliases in GENERIC.columns.items() for a in aliases}
        for i, header in enumerate(headers):
            match = METAFIELD.match(header_key(header))
            if match:
                field = generic.get(header_key(match.group("path").rsplit(".", 1)[-1]))
                if field and field != "customer_id":
                    self._columns.setdefault(field, []).append((i, header.strip()))

    def has(self, field: str) -> bool:
        return field in self._columns

    def date_positions(self) -> list[int]:
        """The columns that hold dates, to decide the file's day/month order from."""
        return sorted({i for f in DATE_FIELDS for i, _ in self._columns.get(f, ())})

    def read(self, line: int, cells: list[str]) -> CustomerRow:
        """One data row as a `CustomerRow`.

        Raises:
            RowError: the row cannot be imported (the message says why).
        """
        if len(cells) > self._width and any(c.strip() for c in cells[self._width :]):
            raise RowError(
                f"{len(cells)} values but the header has {self._width} columns "
                "(an unquoted delimiter inside a value?)"
            )
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        cell: dict[str, str] = {field: cells[i].strip() for field, i in self._single}
        for field, positions in self._multi:
            cell[field] = next((v for v in (cells[i].strip() for i in positions) if v), "")
        get = cell.get
        col = self._names

        customer_id = cell.get("customer_id", "").lstrip("'")
        email = parse_email(cell.get("email", ""), col["email"])
        if not customer_id and not email:
            raise RowError("no customer id and no email: cannot tell whose row this is")
        name = get("name") or " ".join(p for p in (get("first_name"), get("last_name")) if p)
        row = CustomerRow(
            line=line,
            customer_id=customer_id,
            email=email,
            name=_one_line(name or get("company", "")),
            owner=_one_line(get("owner", "")),
            last_order=parse_day(get("last_order", ""), col["last_order"], self.date_order),
        )
        if "tags" in cell:
            row.tags = [t.strip() for t in cell["tags"].split(",") if t.strip()]
        if self.has_subscriptions:
            row.subscription = self._subscription(row, cell)
        if self.format.adjust is not None:
            self.format.adjust(row, cell)
        return row

    def _subscription(self, row: CustomerRow, cell: dict[str, str]) -> Subscription:
        get, col, order = cell.get, self._names, self.date_order
        status = parse_status(cell["status"], col["status"]) if "status" in cell else "active"
        plan = get("plan") or get("product", "")
        unit, count = self._period(cell, plan)
        currency = get("currency", "").strip().lstrip("'").upper()
        quantity = parse_count(get("quantity", ""), col["quantity"]) or 1
        return Subscription(
            id=(get("subscription_id") or row.key).lstrip("'"),
            plan=plan,
            status=status,
            amount=self._amount(cell, currency, quantity),
            currency=currency,
            interval=unit,
            interval_count=count,
            quantity=quantity,
            started=parse_day(get("start", ""), col["start"], order),
            current_period_end=parse_day(get("next_charge", ""), col["next_charge"], order),
            cancel_at_period_end=parse_flag(
                get("cancel_at_period_end", ""), col["cancel_at_period_end"]
            ),
            canceled_at=parse_day(get("canceled_at", ""), col["canceled_at"], order),
            ended_at=parse_day(get("ended_at", ""), col["ended_at"], order),
            trial_end=parse_day(get("trial_end", ""), col["trial_end"], order),
            cancellation_reason=_one_line(get("cancellation_reason", "")),
            cancellation_comment=get("cancellation_comment", "").strip(),
        )

    def _period(self, cell: dict[str, str], plan: str) -> tuple[str, int]:
        """The billing period: the interval columns, else the current term and the plan id
        (`bot.importers.periods`), else a month (or "" unknown, for a source with term
        columns: Chargebee states no period, so none is made up)."""
        col, order = self._names, self.date_order
        stated = parse_interval(cell.get("interval", ""), col["interval"])
        count = parse_count(cell.get("interval_count", ""), col["interval_count"]) or 1
        if stated is not None:
            return stated[0], stated[1] * count
        if "interval_count" in cell and cell["interval_count"]:
            return "month", count
        start = parse_day(cell.get("period_start", ""), col["period_start"], order)
        end = parse_day(cell.get("period_end", ""), col["period_end"], order)
        inferred = infer_period(start, end, plan)
        if inferred is not None:
            return inferred
        return ("", 1) if self.has("period_end") and not self.has("interval") else ("month", 1)

    def _amount(self, cell: dict[str, str], currency: str, quantity: int) -> float:
        """The price per unit: a decimal column, else one in minor units (Chargebee)."""
        col = self._names
        amount = parse_amount(cell.get("amount", ""), col["amount"])
        if amount is None:
            amount = parse_minor_amount(cell.get("amount_minor", ""), col["amount_minor"], currency)
        if amount is None:
            total = cell.get("amount_total_minor", "")
            amount = parse_minor_amount(total, col["amount_total_minor"], currency)
            amount = round(amount / quantity, 2) if amount is not None else None
        return amount or 0.0


def _one_line(text: str) -> str:
    """Names are shown on one line: a quoted line break or a run of spaces becomes one space."""
    return " ".join(text.split())
