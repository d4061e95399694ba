"""The events CSV: signals for known subscribers, deduplicated, last order moved forward."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.ids import stable_id
from bot.importers import ImportFileError, import_file
from bot.repos import Repos
from tests.bot.importers.exports import LATER, NOW, stripe_header, stripe_row, write

HEADER = ["subscriber", "type", "value", "timestamp", "note"]


@pytest.fixture
def known(tmp_path: Path, repos: Repos) -> Repos:
    """Two subscribers: cus_1 (ada@example.com) and cus_2 (bob@example.com)."""
    rows = [
        stripe_row(),
        stripe_row(id="sub_2", **{"Customer ID": "cus_2", "Customer Email": "bob@example.com"}),
    ]
    import_file(write(tmp_path, "subs.csv", stripe_header(), rows), "stripe", repos, NOW)
    return repos


def test_events_are_imported_for_subscribers_by_id_or_email(tmp_path: Path, known: Repos):
    rows = [
        {"subscriber": "cus_1", "type": "payment_failed", "timestamp": "2026-06-10T09:00:00Z"},
        {
            "subscriber": "BOB@example.com",
            "type": "NPS",
            "value": "3",
            "timestamp": "2026-06-11 10:30",
            "note": "slow <b>app</b>",
        },
    ]
    report = import_file(write(tmp_path, "events.csv", HEADER, rows), "auto", known, NOW)

    assert (report.format, report.added, report.duplicates, report.rejected) == ("events", 2, 0, [])
    [failed] = known.events.for_subscriber("cus_1")
    at = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    assert (failed.type, failed.at, failed.value, failed.source) == (
        "payment_failed",
        at,
        None,
        "csv",
    )
    assert failed.id == stable_id("cus_1", "payment_failed", at, None)
    [nps] = known.events.for_subscriber("cus_2")
    assert (nps.type, nps.value, nps.note) == ("nps", 3.0, "slow <b>app</b>")


def test_importing_events_again_adds_nothing(tmp_path: Path, known: Repos):
    rows = [{"subscriber": "cus_1", "type": "skip", "timestamp": "2026-06-01"}] * 2
    path = write(tmp_path, "events.csv", HEADER, rows)
    first = import_file(path, "events", known, NOW)
    again = import_file(path, "events", known, LATER)
    assert (first.added, first.duplicates) == (1, 1)
    assert (again.added, again.duplicates) == (0, 2)
    assert known.events.count() == 1


def test_bad_event_rows_are_rejected_and_the_rest_imported(tmp_path: Path, known: Repos):
    rows = [
        {"subscriber": "nobody@example.com", "type": "skip", "timestamp": "2026-06-01"},
        {"subscriber": "cus_1", "type": "lunch", "timestamp": "2026-06-01"},
        {"subscriber": "cus_1", "type": "nps", "value": "11", "timestamp": "2026-06-01"},
        {"subscriber": "cus_1", "type": "nps", "timestamp": "2026-06-01"},
        {"subscriber": "cus_1", "type": "skip", "timestamp": "soon"},
        {"subscriber": "", "type": "skip", "timestamp": "2026-06-01"},
        {"subscriber": "cus_2", "type": "support contact", "timestamp": "2026-06-02"},
    ]
    report = import_file(write(tmp_path, "events.csv", HEADER, rows), "auto", known, NOW)

    reasons = {r.line: r.reason for r in report.rejected}
    assert reasons[2] == (
        "no subscriber with id or email nobody@example.com: import subscribers first"
    )
    assert "type 'lunch' is not an event type I know" in reasons[3]
    assert "outside 0-10" in reasons[4]
    assert "needs a value" in reasons[5]
    assert "timestamp 'soon' is not a date" in reasons[6]
    assert "subscriber is empty" in reasons[7]
    assert (report.added, report.exit_code) == (1, 1)
    assert [e.type for e in known.events.for_subscriber("cus_2")] == ["support_contact"]


def test_order_events_move_last_order_forward_only(tmp_path: Path, known: Repos):
    rows = [
        {"subscriber": "cus_1", "type": "order", "timestamp": "2026-05-01T08:00:00Z"},
        {"subscriber": "cus_1", "type": "order", "timestamp": "2026-06-02T08:00:00Z"},
    ]
    import_file(write(tmp_path, "orders.csv", HEADER, rows), "auto", known, NOW)
    sub = known.subscribers.get("cus_1")
    assert sub is not None and sub.last_order == date(2026, 6, 2)

    older = [{"subscriber": "cus_1", "type": "order", "timestamp": "2026-04-01T08:00:00Z"}]
    import_file(write(tmp_path, "older.csv", HEADER, older), "auto", known, LATER)
    sub = known.subscribers.get("cus_1")
    assert sub is not None and sub.last_order == date(2026, 6, 2)


def test_a_dry_run_of_events_counts_and_writes_nothing(tmp_path: Path, known: Repos):
    rows = [{"subscriber": "cus_1", "type": "order", "timestamp": "2026-06-02T08:00:00Z"}]
    report = import_file(write(tmp_path, "e.csv", HEADER, rows), "auto", known, NOW, dry_run=True)
    assert report.added == 1
    assert known.events.count() == 0
    sub = known.subscribers.get("cus_1")
    assert sub is not None and sub.last_order is None


def test_an_events_file_without_a_timestamp_column_is_refused(tmp_path: Path, known: Repos):
    path = write(
        tmp_path, "e.csv", ["subscriber", "type"], [{"subscriber": "cus_1", "type": "skip"}]
    )
    with pytest.raises(ImportFileError, match="no column timestamp or at"):
        import_file(path, "events", known, NOW)
