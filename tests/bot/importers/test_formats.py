"""Each export format, on files with the real headers, and format detection."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.importers import ImportFileError, import_file
from bot.repos import Repos
from tests.bot.importers.exports import (
    NOW,
    chargebee_header,
    recharge_header,
    recharge_row,
    shopify_header,
    shopify_legacy_header,
    stripe_header,
    stripe_row,
    write,
)


def test_stripe_subscriptions_export_imports_a_customer_with_its_subscription(
    tmp_path: Path, repos: Repos
):
    header = [*stripe_header(), "owner (metadata)", "plan_tier (metadata)"]
    row = stripe_row(
        **{"Amount": "1,188.00", "Interval": "year", "owner (metadata)": "Dana"},
        **{"Current Period End (UTC)": "2027-01-10 09:00", "Customer Email": "Ada@Example.com"},
    )
    report = import_file(write(tmp_path, "subs.csv", header, [row]), "auto", repos, NOW)

    assert (report.format, report.detected, report.created, report.rejected) == (
        "stripe",
        True,
        1,
        [],
    )
    sub = repos.subscribers.get("cus_1")
    assert sub is not None
    assert (sub.email, sub.name, sub.owner, sub.source) == (
        "ada@example.com",
        "Ada Lovelace",
        "Dana",
        "stripe",
    )
    assert sub.first_started == date(2026, 1, 10)
    [s] = sub.subscriptions
    assert (s.id, s.plan, s.status, s.amount, s.interval, s.currency) == (
        "sub_1",
        "Team monthly",
        "active",
        1188.0,
        "year",
        "USD",
    )
    assert s.current_period_end == date(2027, 1, 10)


def test_stripe_live_subscription_with_a_cancellation_date_is_set_to_cancel(
    tmp_path: Path, repos: Repos
):
    rows = [
        stripe_row(**{"Canceled At (UTC)": "2026-06-01 10:00"}),
        stripe_row(
            id="sub_2",
            **{"Customer ID": "cus_2", "Customer Email": "b@example.com"},
            **{"Status": "canceled", "Canceled At (UTC)": "2026-06-01 10:00"},
            **{"Ended At (UTC)": "2026-06-02 10:00", "Cancellation Reason": "payment_failed"},
        ),
    ]
    import_file(write(tmp_path, "s.csv", stripe_header(), rows), "stripe", repos, NOW)

    scheduled = repos.subscribers.get("cus_1")
    ended = repos.subscribers.get("cus_2")
    assert scheduled is not None and ended is not None
    assert scheduled.scheduled_cancellation and scheduled.subscriptions[0].status == "active"
    assert ended.ended_on == date(2026, 6, 2)
    assert ended.subscriptions[0].cancellation_reason == "payment_failed"


def test_stripe_optional_columns_cancel_at_period_end_and_description_are_read(
    tmp_path: Path, repos: Repos
):
    header = [*stripe_header(), "Cancel At Period End", "Customer Description"]
    row = stripe_row(**{"Cancel At Period End": "true", "Customer Name": ""})
    row["Customer Description"] = "Acme Corp"
    import_file(write(tmp_path, "s.csv", header, [row]), "auto", repos, NOW)
    sub = repos.subscribers.get("cus_1")
    assert sub is not None and sub.scheduled_cancellation and sub.name == "Acme Corp"


def test_shopify_customers_export_strips_the_apostrophe_and_reads_metafields(
    tmp_path: Path, repos: Repos
):
    header = [
        *shopify_header(),
        "Account Manager (customer.metafields.custom.account_manager)",
        "Subscription status (customer.metafields.subs.subscription_status)",
    ]
    row = {
        "Customer ID": "'7210123456789",
        "First Name": "Zoë",
        "Last Name": "Müller",
        "Email": "ZOE@example.com",
        "Tags": "vip, coffee",
        "Total Orders": "4",
        "Account Manager (customer.metafields.custom.account_manager)": "Priya",
        "Subscription status (customer.metafields.subs.subscription_status)": "PAUSED",
    }
    report = import_file(write(tmp_path, "customers_export.csv", header, [row]), "auto", repos, NOW)

    assert report.format == "shopify"
    sub = repos.subscribers.get("7210123456789")
    assert sub is not None
    assert (sub.name, sub.email, sub.owner, sub.tags) == (
        "Zoë Müller",
        "zoe@example.com",
        "Priya",
        ["vip", "coffee"],
    )
    assert sub.status == "paused"


def test_shopify_legacy_export_without_customer_id_keys_by_email(tmp_path: Path, repos: Repos):
    row = {"First Name": "Léa", "Last Name": "Dubois", "Email": "Lea@Example.com", "Tags": ""}
    report = import_file(
        write(tmp_path, "legacy.csv", shopify_legacy_header(), [row]), "auto", repos, NOW
    )
    assert report.format == "shopify"
    sub = repos.subscribers.get("lea@example.com")
    assert sub is not None and sub.name == "Léa Dubois" and sub.subscriptions == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [("Active", "active"), ("Non Renewing", "non_renewing"), ("In Trial", "trialing")],
)
def test_chargebee_humanised_statuses_are_normalised(
    tmp_path: Path, repos: Repos, status: str, expected: str
):
    header = [*chargebee_header(), "subscriptions.cf_owner", "subscriptions.currency_code"]
    row = {
        "subscriptions.id": "cb_sub_1",
        "subscriptions.plan_id": "pro-monthly",
        "subscriptions.plan_quantity": "2",
        "subscriptions.plan_unit_price": "25.00",
        "subscriptions.status": status,
        "subscriptions.started_at": "1736499600",
        "subscriptions.current_term_end": "2026-07-10 09:00:00",
        "customers.id": "cb_cus_1",
        "customers.email": "cb@example.com",
        "customers.first_name": "Søren",
        "subscriptions.cf_owner": "Marcus",
        "subscriptions.currency_code": "EUR",
    }
    report = import_file(write(tmp_path, "Subscriptions.csv", header, [row]), "auto", repos, NOW)

    assert (report.format, report.rejected) == ("chargebee", [])
    sub = repos.subscribers.get("cb_cus_1")
    assert sub is not None
    assert (sub.status, sub.owner, sub.name, sub.first_started) == (
        expected,
        "Marcus",
        "Søren",
        date(2025, 1, 10),
    )
    assert sub.monthly_value == 50.0 and sub.currency == "EUR"


def test_chargebee_cancelled_keeps_its_cancellation_date(tmp_path: Path, repos: Repos):
    row = {
        "subscriptions.id": "cb_sub_1",
        "subscriptions.status": "Cancelled",
        "subscriptions.started_at": "2026-01-01 00:00:00",  # it started: it was a customer
        "subscriptions.cancelled_at": "2026-06-01 00:00:00",
        "customers.id": "cb_cus_1",
    }
    import_file(write(tmp_path, "Subscriptions.csv", chargebee_header(), [row]), "auto", repos, NOW)
    sub = repos.subscribers.get("cb_cus_1")
    assert sub is not None and sub.status == "canceled" and sub.ended_on == date(2026, 6, 1)


@pytest.mark.parametrize("status", ["cancelled", "CANCELLED"])
def test_recharge_subscription_fields_are_read(tmp_path: Path, repos: Repos, status: str):
    rows = [
        recharge_row(),
        recharge_row(id="502", status=status, cancelled_at="2026-06-03T08:00:00"),
    ]
    report = import_file(write(tmp_path, "r.csv", recharge_header(), rows), "auto", repos, NOW)

    assert (report.format, report.created, report.rejected) == ("recharge", 1, [])
    sub = repos.subscribers.get("777")
    assert sub is not None
    live, ended = sub.subscriptions
    assert (live.interval, live.interval_count, live.amount, live.plan) == (
        "month",
        3,
        66.0,
        "Coffee Box",
    )
    assert live.current_period_end == date(2026, 7, 1)
    assert (ended.status, ended.canceled_at) == ("canceled", date(2026, 6, 3))


def test_generic_format_accepts_documented_columns_and_aliases(tmp_path: Path, repos: Repos):
    header = [
        "Customer_ID",
        "E-mail",
        "Full Name",
        "Plan",
        "State",
        "Price",
        "Billing Interval",
        "Interval Count",
        "Start Date",
        "Next Billing Date",
        "CSM",
        "Last Order Date",
    ]
    row = dict(
        zip(
            header,
            [
                "c-9",
                "g@example.com",
                "Gus",
                "Box",
                "active",
                "30",
                "month",
                "3",
                "2026-01-02",
                "2026-07-02",
                "Dana",
                "2026-06-01",
            ],
            strict=True,
        )
    )
    report = import_file(write(tmp_path, "mine.csv", header, [row]), "auto", repos, NOW)

    assert (report.format, report.rejected) == ("generic", [])
    sub = repos.subscribers.get("c-9")
    assert sub is not None
    assert (sub.name, sub.owner, sub.last_order, sub.plan) == (
        "Gus",
        "Dana",
        date(2026, 6, 1),
        "Box",
    )
    assert sub.subscriptions[0].interval_count == 3 and sub.monthly_value == 10.0


def test_extra_columns_are_ignored(tmp_path: Path, repos: Repos):
    header = [*stripe_header(), "favourite_colour (metadata)", "Unrelated"]
    report = import_file(write(tmp_path, "s.csv", header, [stripe_row()]), "auto", repos, NOW)
    assert (report.format, report.created, report.rejected) == ("stripe", 1, [])


def test_unknown_headers_list_what_was_seen_and_the_known_formats(tmp_path: Path, repos: Repos):
    path = write(tmp_path, "what.csv", ["foo", "bar"], [{"foo": "1", "bar": "2"}])
    with pytest.raises(ImportFileError) as err:
        import_file(path, "auto", repos, NOW)
    message = str(err.value)
    assert "'foo', 'bar'" in message
    for name in ("stripe", "shopify", "chargebee", "recharge", "generic", "events"):
        assert name in message
    assert repos.subscribers.count() == 0


def test_an_explicit_format_the_file_does_not_fit_says_which_column_is_missing(
    tmp_path: Path, repos: Repos
):
    path = write(tmp_path, "r.csv", recharge_header(), [recharge_row()])
    with pytest.raises(ImportFileError, match=r"not a Chargebee.*no column subscriptions\.id"):
        import_file(path, "chargebee", repos, NOW)


def test_the_examples_in_docs_importing_md_import_cleanly(tmp_path: Path, repos: Repos):
    doc = (Path(__file__).resolve().parents[3] / "docs" / "importing.md").read_text("utf-8")
    generic, events = re.findall(r"```csv\n(.*?)```", doc, re.S)
    (tmp_path / "generic.csv").write_text(generic, encoding="utf-8")
    report = import_file(tmp_path / "generic.csv", "auto", repos, NOW)
    assert (report.format, report.created, report.rejected) == ("generic", 3, [])
    li = repos.subscribers.get("c-1002")
    assert li is not None and li.scheduled_cancellation

    (tmp_path / "events.csv").write_text(events, encoding="utf-8")
    report = import_file(tmp_path / "events.csv", "auto", repos, NOW)
    assert report.format == "events" and report.added == 3
    assert [r.line for r in report.rejected] == [2]  # the Stripe customer is not in this data
