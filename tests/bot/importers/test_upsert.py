"""Identity, merging and upsert: one subscriber per customer, re-imports, history, bad rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.importers import import_file
from bot.repos import Repos
from tests.bot.importers.exports import (
    LATER,
    NOW,
    recharge_header,
    recharge_row,
    stripe_header,
    stripe_row,
    write,
)


def test_several_subscriptions_of_one_customer_make_one_subscriber(tmp_path: Path, repos: Repos):
    rows = [
        stripe_row(),
        stripe_row(
            id="sub_2",
            Plan="Extra seats",
            Amount="12.00",
            Quantity="3",
            **{"Start Date (UTC)": "2025-11-02 08:00"},
        ),
    ]
    report = import_file(write(tmp_path, "s.csv", stripe_header(), rows), "auto", repos, NOW)

    assert (report.rows, report.created) == (2, 1)
    sub = repos.subscribers.get("cus_1")
    assert sub is not None
    assert [s.id for s in sub.subscriptions] == ["sub_1", "sub_2"]
    assert sub.first_started == date(2025, 11, 2)
    assert sub.monthly_value == 99.0 + 36.0


def test_a_row_with_an_unknown_id_but_a_known_email_updates_that_subscriber(
    tmp_path: Path, repos: Repos
):
    import_file(write(tmp_path, "s.csv", stripe_header(), [stripe_row()]), "auto", repos, NOW)
    box = recharge_row(customer_email="ADA@EXAMPLE.COM")
    report = import_file(write(tmp_path, "r.csv", recharge_header(), [box]), "auto", repos, NOW)

    assert (report.created, report.updated) == (0, 1)
    assert repos.subscribers.count() == 1
    sub = repos.subscribers.get("cus_1")
    assert sub is not None
    assert [s.id for s in sub.subscriptions] == ["sub_1", "501"]
    assert sub.first_started == date(2025, 10, 1)


def test_rows_without_customer_id_are_keyed_by_lower_cased_email(tmp_path: Path, repos: Repos):
    rows = [
        {"email": "Mixed@Example.com", "plan": "Box", "subscription_id": "a"},
        {"email": "mixed@example.COM", "plan": "Tea", "subscription_id": "b"},
    ]
    path = write(tmp_path, "g.csv", ["email", "plan", "subscription_id"], rows)
    report = import_file(path, "generic", repos, NOW)
    assert report.created == 1
    sub = repos.subscribers.get("mixed@example.com")
    assert sub is not None and [s.plan for s in sub.subscriptions] == ["Box", "Tea"]


def test_importing_the_same_file_twice_changes_nothing(tmp_path: Path, repos: Repos):
    rows = [
        stripe_row(),
        stripe_row(id="sub_9", **{"Customer ID": "cus_9", "Customer Email": "z@example.com"}),
    ]
    path = write(tmp_path, "s.csv", stripe_header(), rows)
    import_file(path, "auto", repos, NOW)
    before = repos.subscribers.raw()

    again = import_file(path, "auto", repos, LATER)

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, [])
    assert repos.subscribers.raw() == before


def test_a_later_export_updates_status_keeps_history_and_the_cancellation_date(
    tmp_path: Path, repos: Repos
):
    import_file(write(tmp_path, "june.csv", stripe_header(), [stripe_row()]), "auto", repos, NOW)
    canceled = stripe_row(
        Plan="Starter monthly",
        Status="canceled",
        **{"Canceled At (UTC)": "2026-06-20 10:00", "Ended At (UTC)": "2026-06-20 10:00"},
        **{"Start Date (UTC)": "2026-03-01 09:00"},  # a later start never moves tenure later
    )
    report = import_file(
        write(tmp_path, "july.csv", stripe_header(), [canceled]), "auto", repos, LATER
    )
    assert (report.updated, report.unchanged) == (1, 0)

    sub = repos.subscribers.get("cus_1")
    assert sub is not None
    assert (sub.status, sub.plan, sub.ended_on) == (
        "canceled",
        "Starter monthly",
        date(2026, 6, 20),
    )
    assert sub.first_started == date(2026, 1, 10)
    assert sub.history == [
        {
            "at": LATER.isoformat(),
            "field": "status",
            "from": "active",
            "to": "canceled",
            "sub": "sub_1",
        }
    ]
    assert sub.updated_at == LATER

    # An export that no longer carries the dates does not erase them: win-back needs them.
    no_dates = stripe_row(Plan="Starter monthly", Status="canceled")
    import_file(write(tmp_path, "aug.csv", stripe_header(), [no_dates]), "auto", repos, LATER)
    sub = repos.subscribers.get("cus_1")
    assert sub is not None and sub.ended_on == date(2026, 6, 20) and len(sub.history) == 1


def test_a_cancel_at_period_end_change_is_recorded_in_history(tmp_path: Path, repos: Repos):
    header = [*stripe_header(), "Cancel At Period End"]
    import_file(write(tmp_path, "a.csv", header, [stripe_row()]), "auto", repos, NOW)
    flagged = stripe_row(**{"Cancel At Period End": "true"})
    import_file(write(tmp_path, "b.csv", header, [flagged]), "auto", repos, LATER)
    sub = repos.subscribers.get("cus_1")
    assert sub is not None
    assert [(h["field"], h["from"], h["to"]) for h in sub.history] == [
        ("cancel_at_period_end", False, True)
    ]


def test_bad_rows_are_rejected_with_line_and_reason_and_good_rows_import(
    tmp_path: Path, repos: Repos
):
    header = ["customer_id", "email", "status", "start_date", "amount", "note"]
    text = (
        ",".join(header) + "\n"
        "c1,one@example.com,active,2026-01-01,10,fine\n"  # line 2
        ',,active,2026-01-01,10,"nobody\nat all"\n'  # lines 3-4: no id, no email
        "c3,three@example.com,frozen,2026-01-01,10,\n"  # line 5
        "c4,four@example.com,active,31/02/2026,10,\n"  # line 6
        "c5,five@example.com,active,2026-01-01,ten,\n"  # line 7
        "c6,six-at-example.com,active,2026-01-01,10,\n"  # line 8
        "c7,seven@example.com,active,2026-01-01,10,x,y\n"  # line 9: one value too many
        "c8,eight@example.com,active,2026-01-01,10,fine\n"  # line 10
    )
    path = tmp_path / "mixed.csv"
    path.write_text(text, encoding="utf-8")

    report = import_file(path, "auto", repos, NOW)

    reasons = {r.line: r.reason for r in report.rejected}
    assert sorted(reasons) == [3, 5, 6, 7, 8, 9]
    assert "no customer id and no email" in reasons[3]
    assert "'frozen' is not a status" in reasons[5]
    assert "start_date '31/02/2026' is not a date" in reasons[6]
    assert "amount 'ten' is not an amount" in reasons[7]
    assert "email 'six-at-example.com' is not an email address" in reasons[8]
    assert "7 values but the header has 6 columns" in reasons[9]
    assert (report.created, report.exit_code) == (2, 1)
    assert sorted(repos.subscribers.ids()) == ["c1", "c8"]


def test_a_dry_run_reports_the_changes_and_writes_nothing(tmp_path: Path, repos: Repos):
    import_file(write(tmp_path, "a.csv", stripe_header(), [stripe_row()]), "auto", repos, NOW)
    before = repos.subscribers.raw()
    rows = [
        stripe_row(Status="past_due"),
        stripe_row(id="sub_2", **{"Customer ID": "cus_2"}, **{"Customer Email": "b@example.com"}),
    ]

    report = import_file(
        write(tmp_path, "b.csv", stripe_header(), rows), "auto", repos, LATER, dry_run=True
    )

    assert (report.created, report.updated, report.dry_run) == (1, 1, True)
    assert repos.subscribers.raw() == before
    assert repos.subscribers.get("cus_2") is None


def test_progress_is_reported_up_to_the_total(tmp_path: Path, repos: Repos):
    rows = [
        stripe_row(id=f"sub_{i}", **{"Customer ID": f"cus_{i}", "Customer Email": f"{i}@x.io"})
        for i in range(2500)
    ]
    calls: list[tuple[int, int]] = []
    import_file(
        write(tmp_path, "big.csv", stripe_header(), rows),
        "auto",
        repos,
        NOW,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[0] == (0, 2500) and calls[-1] == (2500, 2500)
    assert repos.subscribers.count() == 2500


def test_a_semicolon_latin1_export_imports_names_intact_with_right_line_numbers(
    tmp_path: Path, repos: Repos
):
    text = (
        "customer_id;email;name;status;amount\r\n"
        'c1;jose@example.com;"José Núñez\r\n(billing)";active;19,90\r\n'
        "c2;francoise@example.com;Françoise Lefèvre;gelöscht;5\r\n"
        "c3;bjorn@example.com;Björn Ångström;active;5\r\n"
    )
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("cp1252"))

    report = import_file(path, "auto", repos, NOW)

    assert [(r.line, r.reason.split(" is ")[0]) for r in report.rejected] == [
        (4, "status 'gelöscht'")
    ]
    jose, bjorn = repos.subscribers.get("c1"), repos.subscribers.get("c3")
    assert jose is not None and bjorn is not None
    assert jose.name == "José Núñez (billing)" and jose.subscriptions[0].amount == 19.9
    assert bjorn.name == "Björn Ångström"
