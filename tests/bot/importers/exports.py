"""Test exports built on the real header lines quoted in ../shared/formats.md.

The headers are read from the shared file, not retyped, so the importers are tested against
what the real exports carry. Rows are dicts by header name; missing cells are empty.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import SHARED

NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
LATER = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _formats_md() -> str:
    return (SHARED / "formats.md").read_text(encoding="utf-8")


def _blocks() -> list[list[str]]:
    return [b.strip().split(",") for b in re.findall(r"```\n(.*?)\n```", _formats_md(), re.S)]


def stripe_header() -> list[str]:
    return _blocks()[0]


def shopify_header() -> list[str]:
    return _blocks()[2]


def chargebee_header() -> list[str]:
    return _blocks()[3]


def shopify_legacy_header() -> list[str]:
    return re.search(r"Legacy header: `([^`]*)`", _formats_md()).group(1).split(",")  # type: ignore[union-attr]


def recharge_header() -> list[str]:
    """Recharge's subscription fields (no public CSV header exists), plus `customer_email`."""
    fields = re.search(r"Subscription: `([^`]*)`", _formats_md()).group(1)  # type: ignore[union-attr]
    names = [re.sub(r"\s*\(.*\)", "", f).strip() for f in fields.split(",")]
    return [*names, "customer_email"]


def csv_text(
    header: Sequence[str], rows: Iterable[Mapping[str, object]], delimiter: str = ","
) -> str:
    """CSV text with `header` and one line per row dict (unknown keys are an error)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, f"not in the header: {unknown}"
        writer.writerow(["" if row.get(h) is None else row.get(h) for h in header])
    return out.getvalue()


def write(
    tmp_path: Path,
    name: str,
    header: Sequence[str],
    rows: Iterable[Mapping[str, object]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    path = tmp_path / name
    path.write_bytes(csv_text(header, rows, delimiter).encode(encoding))
    return path


def stripe_row(**cells: object) -> dict[str, object]:
    """A Stripe subscriptions export row with sensible defaults; keyword `_` is a space."""
    row: dict[str, object] = {
        "id": "sub_1",
        "Customer ID": "cus_1",
        "Customer Name": "Ada Lovelace",
        "Customer Email": "ada@example.com",
        "Plan": "Team monthly",
        "Product": "Acme Team",
        "Quantity": "1",
        "Currency": "usd",
        "Interval": "month",
        "Amount": "99.00",
        "Status": "active",
        "Created (UTC)": "2026-01-10 09:00",
        "Start (UTC)": "2026-01-10 09:00",
        "Start Date (UTC)": "2026-01-10 09:00",
        "Current Period Start (UTC)": "2026-06-10 09:00",
        "Current Period End (UTC)": "2026-07-10 09:00",
    }
    row.update(cells)
    return row


def recharge_row(**cells: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "501",
        "address_id": "9001",
        "customer_id": "777",
        "customer_email": "box@example.com",
        "status": "active",
        "next_charge_scheduled_at": "2026-07-01T00:00:00",
        "charge_interval_frequency": "3",
        "order_interval_unit": "month",
        "order_interval_frequency": "3",
        "product_title": "Coffee Box",
        "price": "66.00",
        "quantity": "1",
        "created_at": "2025-10-01T12:30:00",
        "updated_at": "2026-06-01T12:30:00",
    }
    row.update(cells)
    return row


def stripe_customers_header() -> list[str]:
    return _blocks()[1]


def shopify_orders_header() -> list[str]:
    return _blocks()[4]


def documented_header(title: str) -> list[str]:
    """A header line recorded in docs/importing.md under `#### {title}` (the exports that
    ../shared/formats.md does not list, taken from the platforms' documentation)."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "importing.md").read_text("utf-8")
    match = re.search(rf"#### {re.escape(title)}\n.*?```\n(.*?)\n```", doc, re.S)
    assert match, f"no header recorded for {title} in docs/importing.md"
    return match.group(1).strip().split(",")
