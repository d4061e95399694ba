"""Dates as people save them: day-first and month-first numeric dates, the order a file
proves, `--date-order`, and the refusal that names the option when nothing decides."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import app
from bot.importers import ImportFileError, import_file
from bot.importers.dates import Ambiguous, DateOrder, UndecidedOrder, parse
from bot.repos import Repos
from bot.store import Store
from tests.bot.importers.exports import NOW, stripe_header, stripe_row, write


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("31/10/2026", None, datetime(2026, 10, 31)),
        ("10/31/2026", None, datetime(2026, 10, 31)),
        ("31/10/2026 09:00", None, datetime(2026, 10, 31, 9, 0)),
        ("31.10.2026", None, datetime(2026, 10, 31)),
        ("31-10-2026", None, datetime(2026, 10, 31)),
        ("10/31/26 9:00 PM", None, datetime(2026, 10, 31, 21, 0)),
        ("12/31/99 12:00 AM", None, datetime(1999, 12, 31, 0, 0)),
        ("02/03/2026", "dmy", datetime(2026, 3, 2)),
        ("02/03/2026", "mdy", datetime(2026, 2, 3)),
        ("31/10/2026", "mdy", datetime(2026, 10, 31)),  # only one reading exists
        ("05/05/2026", None, datetime(2026, 5, 5)),  # both readings agree
    ],
)
def test_numeric_dates_are_read_in_the_only_or_the_given_order(
    text: str, order: str | None, expected: datetime
):
    assert parse(text, order) == expected


@pytest.mark.parametrize("text", ["31/13/2026", "00/05/2026", "30/02/2026", "31-10-26", "x/y/z"])
def test_numeric_texts_that_are_no_date_give_none(text: str):
    assert parse(text, "dmy") is None and parse(text, None) is None


def test_an_ambiguous_date_without_an_order_is_refused():
    with pytest.raises(Ambiguous):
        parse("02/03/2026", None)


@settings(max_examples=200, deadline=None)
@given(text=st.text() | st.from_regex(r"\A\d{1,3}[/.\-]\d{1,3}[/.\-]\d{1,5}( \d{1,2}:\d\d)?\Z"))
def test_any_text_is_a_date_none_or_ambiguous_never_another_error(text: str):
    for order in ("dmy", "mdy"):
        value = parse(text, order)  # the 1970-2200 range is parse_when's to enforce
        assert value is None or isinstance(value, datetime)
    with contextlib.suppress(Ambiguous):
        parse(text, None)


def cells(*texts: str) -> list[tuple[int, str]]:
    return [(line, text) for line, text in enumerate(texts, 2)]


def test_one_unambiguous_date_decides_the_order_of_the_whole_file():
    found = DateOrder.decide(cells("2026-01-10", "02/03/2026", "31/10/2026", "04/05/2026"), None)
    assert (found.order, found.asked, found.numeric, found.ambiguous, found.proof) == (
        "dmy",
        False,
        3,
        2,
        (4, "31/10/2026"),
    )


def test_a_file_of_only_ambiguous_dates_names_the_option_to_pass():
    with pytest.raises(UndecidedOrder) as undecided:
        DateOrder.decide(cells("02/03/2026", "04/05/2026", "2026-01-10"), None)
    message = str(undecided.value)
    assert "2 of its 2 dates can be read day-first or month-first (line 2: '02/03/2026')" in message
    assert "--date-order dmy" in message and "--date-order mdy" in message


def test_a_file_mixing_both_orders_is_refused_naming_both_lines():
    with pytest.raises(UndecidedOrder, match=r"line 3: '31/10/2026'.*line 4: '10/31/2026'"):
        DateOrder.decide(cells("02/03/2026", "31/10/2026", "10/31/2026"), None)


def test_the_asked_order_is_used_and_counted():
    found = DateOrder.decide(cells("02/03/2026", "04/05/2026"), "mdy")
    assert (found.order, found.asked, found.numeric, found.ambiguous) == ("mdy", True, 2, 2)


def started(data_dir: Path) -> dict[str, date | None]:
    with Store(data_dir, read_only=True) as store:
        subs = Repos.open(store).subscribers
        return {sid: subs.get(sid).first_started for sid in sorted(subs.ids())}  # type: ignore[union-attr]


EXCEL_DATES = ("Created (UTC)", "Start (UTC)", "Start Date (UTC)", "Current Period End (UTC)")


def excel_row(n: int, start: str, end: str, **cells: object) -> dict[str, object]:
    """A Stripe row as Excel resaves it in a European locale: day-first dates, decimal comma."""
    dates = dict.fromkeys(EXCEL_DATES[:3], start) | {EXCEL_DATES[3]: end}
    return stripe_row(
        id=f"sub_{n}",
        Amount="1.200,00",
        Currency="eur",
        **{"Customer ID": f"cus_{n}", "Customer Email": f"c{n}@example.com"},
        **{"Current Period Start (UTC)": ""},
        **dates,
        **cells,
    )


def test_an_excel_resave_with_semicolons_cp1252_and_uk_dates_imports_every_row(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    rows = [
        excel_row(1, "02/03/2026 09:00", "02/04/2026 09:00", **{"Customer Name": "José Núñez"}),
        excel_row(2, "31/10/2025 17:30", "30/11/2026 17:30", **{"Customer Name": "Zoë Ørsted"}),
        excel_row(3, "04/05/2026", "04/06/2026"),
    ]
    path = write(tmp_path, "subs.csv", stripe_header(), rows, encoding="cp1252", delimiter=";")

    assert app.main(["import", str(path)]) == 0

    err = " ".join(capsys.readouterr().err.split())
    assert (
        "12 dates written like 31/10/2026 read day first (31/10/2026 is 31 October), "
        "as line 3 shows ('31/10/2025 17:30')."
    ) in err
    assert "All 3 rows imported." in err
    assert started(data_dir) == {
        "cus_1": date(2026, 3, 2),
        "cus_2": date(2025, 10, 31),
        "cus_3": date(2026, 5, 4),
    }
    with Store(data_dir, read_only=True) as store:
        sub = Repos.open(store).subscribers.get("cus_2")
        assert sub is not None
        assert sub.name == "Zoë Ørsted"
        [s] = sub.subscriptions
        assert (s.amount, s.currency, s.current_period_end) == (1200.0, "EUR", date(2026, 11, 30))


def test_a_file_whose_order_cannot_be_decided_is_refused_with_the_option_to_pass(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    rows = [excel_row(1, "02/03/2026", "02/04/2026"), excel_row(2, "04/05/2026", "04/06/2026")]
    path = write(tmp_path, "subs.csv", stripe_header(), rows, delimiter=";")

    assert app.main(["import", str(path)]) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert (
        "Nothing imported. subs.csv: 8 of its 8 dates can be read day-first or month-first" in err
    )
    assert "Import it again with --date-order dmy" in err and "or --date-order mdy" in err
    assert not data_dir.exists() or not started(data_dir)

    assert app.main(["import", "--date-order", "mdy", str(path)]) == 0

    err = " ".join(capsys.readouterr().err.split())
    assert "8 dates written like 31/10/2026 read month first" in err and "as --date-order" in err
    assert started(data_dir) == {"cus_1": date(2026, 2, 3), "cus_2": date(2026, 4, 5)}


def test_a_contradicted_date_order_rejects_only_the_impossible_rows(tmp_path: Path, repos: Repos):
    rows = [excel_row(1, "02/03/2026", "02/04/2026"), excel_row(2, "13/25/2026", "02/04/2026")]
    path = write(tmp_path, "subs.csv", stripe_header(), rows)

    report = import_file(path, "auto", repos, NOW, date_order="dmy")

    assert [(r.line, r.reason.split(" is not")[0]) for r in report.rejected] == [
        (3, "Start Date (UTC) '13/25/2026'")
    ]
    assert report.created == 1


def test_events_with_day_first_timestamps_are_read_in_the_proven_order(
    tmp_path: Path, repos: Repos
):
    import_file(write(tmp_path, "s.csv", stripe_header(), [stripe_row()]), "auto", repos, NOW)
    header = ["subscriber", "type", "value", "timestamp"]
    events = [
        {"subscriber": "cus_1", "type": "order", "timestamp": "03/04/2026 10:00"},
        {"subscriber": "cus_1", "type": "nps", "value": "9", "timestamp": "25/04/2026 10:00"},
    ]
    report = import_file(write(tmp_path, "e.csv", header, events), "auto", repos, NOW)
    assert (report.added, report.dates.order, report.dates.proof) == (
        2,
        "dmy",
        (3, "25/04/2026 10:00"),
    )
    [sub] = [repos.subscribers.get("cus_1")]
    assert sub is not None and sub.last_order == date(2026, 4, 3)


def test_a_file_of_iso_dates_is_not_scanned_for_an_order(tmp_path: Path, repos: Repos):
    report = import_file(
        write(tmp_path, "s.csv", stripe_header(), [stripe_row()]), "auto", repos, NOW
    )
    assert (report.dates.numeric, report.dates.order) == (0, None)


def test_an_undecided_file_changes_nothing_stored(tmp_path: Path, repos: Repos):
    rows = [excel_row(1, "02/03/2026", "02/04/2026")]
    with pytest.raises(ImportFileError, match="--date-order dmy"):
        import_file(write(tmp_path, "s.csv", stripe_header(), rows), "auto", repos, NOW)
    assert repos.subscribers.count() == 0
