"""Exports that hold no subscribers are refused by name, and files that fit no format are
refused with the nearest formats, never read as generic unless asked.

Every file is built on a real header line: ../shared/formats.md for the Stripe Customers and
Shopify Orders exports, docs/importing.md (where each is sourced) for the others. Values are
shaped as the platforms write them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import app
from bot.importers import ImportFileError, import_file
from bot.repos import Repos
from bot.store import Store
from tests.bot.importers.exports import (
    NOW,
    documented_header,
    shopify_orders_header,
    stripe_customers_header,
    write,
)

ORDER_NOTE = "Leave at the back door,\nring twice"
EXPORTS = {
    "Stripe Customers": (
        stripe_customers_header,
        {
            "id": "cus_NffrFeUfNV2Hib",
            "Name": "Ada Lovelace",
            "Email": "ada@example.com",
            "Address Country": "GB",
            "Created (UTC)": "2025-01-10 09:00",
            "Total Spend": "1,200.00",
            "Payment Count": "12",
            "Refunded Volume": "0.00",
            "Dispute Losses": "0.00",
        },
        ("a Stripe Customers export", "Billing > Subscriptions, click Export"),
    ),
    "Stripe Invoices": (
        lambda: documented_header("Stripe Invoices"),
        {
            "id": "in_1OaBcD2eZvKYlo2C",
            "Customer": "cus_NffrFeUfNV2Hib",
            "Customer Name": "Ada Lovelace",
            "Amount Due": "1,200.00",
            "Amount Paid": "1,200.00",
            "Paid": "true",
            "Billing": "charge_automatically",
            "Date (UTC)": "2026-01-10 09:00",
            "Number": "8C1F2A0B-0001",
            "Subscription": "sub_1MowQVLkdIwHu7ix",
            "Status": "paid",
        },
        ("a Stripe Invoices export", "Billing > Subscriptions, click Export"),
    ),
    "Stripe Payments": (
        lambda: documented_header("Stripe Payments"),
        {
            "id": "ch_3MmlLrLkdIwHu7ix0snN0B15",
            "Description": "Subscription update",
            "Seller Message": "Payment complete.",
            "Created (UTC)": "2026-01-10 09:00",
            "Amount": "1,200.00",
            "Amount Refunded": "0.00",
            "Currency": "usd",
            "Status": "Paid",
            "Customer ID": "cus_NffrFeUfNV2Hib",
            "Customer Email": "ada@example.com",
        },
        ("a Stripe Payments export", "Billing > Subscriptions, click Export"),
    ),
    "Shopify Orders": (
        shopify_orders_header,
        {
            "Name": "#1231",
            "Email": "box@example.com",
            "Financial Status": "refunded",
            "Paid at": "2024-03-02 10:15:00 -0500",
            "Currency": "USD",
            "Total": "1,200.00",
            "Created at": "2024-03-02 10:14:58 -0500",
            "Lineitem quantity": "1",
            "Lineitem name": "Coffee Box - 12 months",
            "Notes": ORDER_NOTE,
            "Id": "'5523456789012",
        },
        ("a Shopify Orders export", "Customers > Export"),
    ),
    "Shopify Products": (
        lambda: documented_header("Shopify Products"),
        {
            "Handle": "coffee-box",
            "Title": "Coffee Box",
            "Body (HTML)": "<p>Fresh beans,\nevery month</p>",
            "Vendor": "Roastery",
            "Variant SKU": "'0012",
            "Variant Price": "24.00",
            "Status": "active",
        },
        ("a Shopify Products export", "Customers > Export"),
    ),
    "Chargebee Customers": (
        lambda: documented_header("Chargebee Customers"),
        {
            "customers.id": "'16BjnoRV1pTqn3Df",
            "customers.first_name": "Ada",
            "customers.email": "ada@example.com",
            "customers.created_at": "1736499600",
        },
        (
            "a Chargebee Customers export (Customers.csv)",
            "Subscriptions.csv from Chargebee's data export",
        ),
    ),
    "Chargebee Invoices": (
        lambda: documented_header("Chargebee Invoices"),
        {
            "invoices.id": "1001",
            "invoices.customer_id": "16BjnoRV1pTqn3Df",
            "invoices.subscription_id": "16BjnoRV1pTqn3Dg",
            "invoices.status": "Paid",
            "invoices.currency_code": "usd",
            "invoices.total": "990.00",
            "invoices.date": "1736499600",
        },
        (
            "a Chargebee Invoices export (Invoices.csv)",
            "Subscriptions.csv from Chargebee's data export",
        ),
    ),
    "Recharge Customers": (
        lambda: documented_header("Recharge Customers"),
        {
            "id": "'40001",
            "email": "box@example.com",
            "first_name": "Bo",
            "has_payment_method_in_dunning": "false",
            "subscriptions_active_count": "1",
            "first_charge_processed_at": "2025-10-01T12:30:00",
        },
        ("a Recharge Customers export", "Tools & apps > Exports"),
    ),
    "Recharge Charges": (
        lambda: documented_header("Recharge Charges"),
        {
            "id": "'80001",
            "customer_id": "40001",
            "email": "box@example.com",
            "status": "success",
            "type": "recurring",
            "scheduled_at": "2026-07-01",
            "processed_at": "2026-07-01T08:00:00",
            "total_price": "66.00",
            "currency": "usd",
        },
        ("a Recharge Charges export", "Tools & apps > Exports"),
    ),
}


@pytest.mark.parametrize("export", EXPORTS)
@pytest.mark.parametrize("fmt", ["auto", "stripe", "shopify"])
def test_exports_without_subscriptions_are_refused_by_name_with_the_one_to_use(
    tmp_path: Path, repos: Repos, export: str, fmt: str
):
    header, row, (name, where) = EXPORTS[export]
    path = write(tmp_path, "export.csv", header(), [row, row])

    with pytest.raises(ImportFileError) as refused:
        import_file(path, fmt, repos, NOW)

    message = " ".join(str(refused.value).split())
    assert f"export.csv is {name}:" in message
    assert where in message
    assert repos.subscribers.count() == 0


def test_generic_chosen_explicitly_still_reads_such_a_file(tmp_path: Path, repos: Repos):
    header, row, _ = EXPORTS["Stripe Customers"]
    report = import_file(write(tmp_path, "c.csv", header(), [row]), "generic", repos, NOW)
    assert (report.format, report.detected, report.created) == ("generic", False, 1)


def test_a_refused_shopify_orders_export_as_the_person_sees_it(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    header, row, _ = EXPORTS["Shopify Orders"]
    path = write(tmp_path, "orders_export_1.csv", header(), [row])

    assert app.main(["import", str(path)]) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("Nothing imported. orders_export_1.csv is a Shopify Orders export:")
    assert "'Name' is the order number (#1001), not a person" in err
    assert "Shopify admin > Customers > Export" in err
    assert "Recharge: Tools & apps > Exports" in err
    assert not (data_dir / "subscribers.json").exists()
    doc = (Path(__file__).resolve().parents[3] / "docs" / "importing.md").read_text("utf-8")
    assert " ".join(doc.split()).count(err[: err.index("It holds")]) == 1  # the doc shows it


def test_a_file_close_to_no_format_lists_its_headers_and_the_nearest_formats(
    tmp_path: Path, repos: Repos
):
    header = ["Customer ID", "Customer Email", "Plan", "Amount", "Interval"]
    row = {"Customer ID": "cus_1", "Customer Email": "a@example.com", "Plan": "Pro"}

    with pytest.raises(ImportFileError) as refused:
        import_file(write(tmp_path, "almost.csv", header, [row]), "auto", repos, NOW)

    message = str(refused.value)
    assert "'Customer ID', 'Customer Email', 'Plan', 'Amount', 'Interval'" in message
    assert (
        "Nearest: generic (a generic subscribers CSV) lacks status or subscription_status"
        in message
    )
    assert "; stripe (a Stripe subscriptions export) lacks Status and" in message
    assert "--format generic" in message
    assert repos.subscribers.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        ["email", "name"],  # no status: everyone would become an active subscriber
        ["id", "email", "status", "colour", "size", "weight", "height"],  # mostly unknown
    ],
    ids=["no-status", "mostly-unknown-columns"],
)
def test_auto_never_falls_back_to_generic(tmp_path: Path, repos: Repos, header: list[str]):
    row = {"email": "x@example.com", "status": "active"}
    path = write(tmp_path, "mine.csv", header, [{k: v for k, v in row.items() if k in header}])

    with pytest.raises(ImportFileError, match="cannot tell which export"):
        import_file(path, "auto", repos, NOW)
    assert import_file(path, "generic", repos, NOW).created == 1


def test_a_generic_file_with_status_and_documented_columns_is_detected(
    tmp_path: Path, repos: Repos
):
    header = ["customer_id", "email", "status", "plan", "owner (metadata)", "favourite tea"]
    row = {"customer_id": "c-1", "email": "a@example.com", "status": "active"}
    report = import_file(write(tmp_path, "mine.csv", header, [row]), "auto", repos, NOW)
    assert (report.format, report.detected, report.created) == ("generic", True, 1)


def test_stored_data_is_untouched_by_a_refused_export(tmp_path: Path):
    data = tmp_path / "data"
    with Store(data) as store:
        repos = Repos.open(store)
        generic = ["customer_id", "email", "status"]
        rows = [{"customer_id": "c-1", "email": "box@example.com", "status": "active"}]
        import_file(write(tmp_path, "subs.csv", generic, rows), "auto", repos, NOW)
    before = sorted(p.read_bytes() for p in data.rglob("*.json"))
    header, row, _ = EXPORTS["Shopify Orders"]
    with Store(data) as store, pytest.raises(ImportFileError):
        import_file(write(tmp_path, "o.csv", header(), [row]), "auto", Repos.open(store), NOW)
    assert sorted(p.read_bytes() for p in data.rglob("*.json")) == before
