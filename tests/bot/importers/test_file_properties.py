"""Whole files through the real import path: whatever the bytes, no traceback, and the
counts add up (every data row is imported or rejected, and the store holds what was said)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.importers import ImportFileError, ImportReport, import_file
from bot.repos import Repos
from bot.store import Store
from tests.bot.importers.exports import NOW, stripe_header
from tests.bot.importers.test_value_properties import CELLS

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADERS = {
    "stripe": stripe_header(),
    "generic": ["customer_id", "email", "status", "amount", "quantity", "start_date", "tags"],
    "events": ["subscriber", "type", "timestamp", "value", "note"],
}
CELL = CELLS | st.sampled_from(["", "active", "cus_1", "a@example.com", "2026-01-10", "nps"])


def import_bytes(data: bytes, repos: Repos) -> ImportReport | None:
    """`import_file` on `data` written to a real file; None when the file is refused."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(data)
        try:
            return import_file(path, "auto", repos, NOW)
        except ImportFileError as exc:
            assert str(exc)
            return None


def check_counts(report: ImportReport, repos: Repos, before: int) -> None:
    assert report.accepted + len(report.rejected) == report.rows
    assert all(r.line >= 2 for r in report.rejected)
    if report.kind == "events":
        assert report.added + report.duplicates == report.accepted
    else:
        assert report.created + report.updated + report.unchanged <= report.accepted
        assert len(list(repos.subscribers.ids())) == before + report.created
    assert report.exit_code == (0 if not report.rejected else 1 if report.accepted else 2)


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_any_bytes_are_imported_or_refused_never_a_traceback(data: bytes):
    with Store.memory() as store:
        repos = Repos.open(store)
        report = import_bytes(data, repos)
        if report is not None:
            check_counts(report, repos, 0)


def csv_bytes(header: Sequence[str], rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


@SETTINGS
@given(
    kind=st.sampled_from(sorted(HEADERS)),
    rows=st.lists(st.lists(CELL, min_size=0, max_size=25), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_random_rows_under_real_headers_are_each_imported_or_rejected(
    kind: str, rows: list[list[str]], delimiter: str, encoding: str
):
    with Store.memory() as store:
        repos = Repos.open(store)
        seed = csv_bytes(HEADERS["generic"], [["cus_1", "a@example.com", "active"]], ",", "utf-8")
        assert import_bytes(seed, repos) is not None
        report = import_bytes(csv_bytes(HEADERS[kind], rows, delimiter, encoding), repos)
        if report is not None:
            check_counts(report, repos, 1)
