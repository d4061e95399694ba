"""`python app.py import` on files that used to end in a traceback or be refused whole.

Each case runs the real command line (`app.main`, and once a real subprocess) and checks the
exit code, what the person is told, and what was stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import app
from bot.repos import Repos
from bot.store import Store
from tests.bot.importers.exports import stripe_header, stripe_row, write

ROOT = Path(__file__).resolve().parents[3]


def stored(data_dir: Path) -> dict[str, int]:
    """Subscriber id -> quantity of its first subscription."""
    if not data_dir.exists():
        return {}
    with Store(data_dir, read_only=True) as store:
        subs = Repos.open(store).subscribers
        return {sid: subs.get(sid).subscriptions[0].quantity for sid in subs.ids()}  # type: ignore[union-attr]


def run(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = app.main(["import", str(path)])
    return code, " ".join(capsys.readouterr().err.split())


def customer(n: int, **cells: object) -> dict[str, object]:
    return stripe_row(
        id=f"sub_{n}", **{"Customer ID": f"cus_{n}", "Customer Email": f"c{n}@example.com"}, **cells
    )


BAD_CELLS = [
    ({"Quantity": "inf"}, "Quantity 'inf' is not a whole number"),
    ({"Quantity": "nan"}, "Quantity 'nan' is not a whole number"),
    ({"Quantity": "1e999"}, "Quantity '1e999' is not a whole number"),
    ({"Amount": "9" * 400}, "Amount '99999"),
    (
        {"Start Date (UTC)": "0001-01-01T00:00:00+01:00"},
        "Start Date (UTC) '0001-01-01T00:00:00+01:00' is not a date I can read",
    ),
    (
        {"Canceled At (UTC)": "9999-12-31T23:59:59-01:00"},
        "Canceled At (UTC) '9999-12-31T23:59:59-01:00' is not a date I can read",
    ),
]


@pytest.mark.parametrize(("cells", "reason"), BAD_CELLS, ids=lambda v: str(v)[:30])
def test_a_value_python_cannot_hold_rejects_its_row_and_the_good_rows_are_imported(
    tmp_path: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    cells: dict[str, object],
    reason: str,
):
    rows = [customer(1), customer(2, **cells), customer(3, Quantity="2")]
    path = write(tmp_path, "subs.csv", stripe_header(), rows)

    code, err = run(path, capsys)

    assert code == 1
    assert f"line 3: {reason}" in err
    assert "2 rows imported, 1 row rejected" in err
    assert stored(data_dir) == {"cus_1": 1, "cus_3": 2}


def test_a_file_whose_every_row_is_rejected_exits_2_and_says_nothing_was_imported(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    rows = [customer(1, Quantity="inf"), customer(2, Quantity="nan")]
    path = write(tmp_path, "subs.csv", stripe_header(), rows)

    code, err = run(path, capsys)

    assert code == 2
    assert "Nothing imported: all 2 rows were rejected" in err
    assert "imported." not in err.replace("Nothing imported", "")  # no "were imported" claim
    assert stored(data_dir) == {}


def test_a_cell_over_131072_characters_rejects_its_row_not_the_file(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    header = [*stripe_header(), "Customer Description"]
    rows = [customer(1), customer(2, **{"Customer Description": "x" * 131_073}), customer(3)]
    path = write(tmp_path, "subs.csv", header, rows)

    code, err = run(path, capsys)

    assert code == 1
    assert "line 3: Customer Description is 131,073 characters long, over the 131,072" in err
    assert sorted(stored(data_dir)) == ["cus_1", "cus_3"]


def test_a_cell_of_exactly_131072_characters_is_read(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    header = [*stripe_header(), "Customer Description"]
    rows = [customer(1, **{"Customer Description": "x" * 131_072})]
    code, _ = run(write(tmp_path, "subs.csv", header, rows), capsys)
    assert code == 0
    assert sorted(stored(data_dir)) == ["cus_1"]


def test_a_nul_byte_rejects_its_row_not_the_file(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    rows = [customer(1), customer(2, **{"Customer Name": "Ada\x00Lovelace"}), customer(3)]
    path = write(tmp_path, "subs.csv", stripe_header(), rows)

    code, err = run(path, capsys)

    assert code == 1
    assert "line 3: Customer Name holds a NUL byte" in err
    assert sorted(stored(data_dir)) == ["cus_1", "cus_3"]


def test_an_event_value_of_inf_or_nan_rejects_its_row(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    assert run(write(tmp_path, "subs.csv", stripe_header(), [customer(1)]), capsys)[0] == 0
    header = ["subscriber", "type", "value", "timestamp"]
    events = [
        {"subscriber": "cus_1", "type": "order", "value": "inf", "timestamp": "2026-06-01"},
        {"subscriber": "cus_1", "type": "csat", "value": "nan", "timestamp": "2026-06-02"},
        {"subscriber": "cus_1", "type": "nps", "value": "3", "timestamp": "2026-06-03"},
        {"subscriber": "cus_1", "type": "skip", "value": "", "timestamp": "0001-01-01T00:00+01:00"},
    ]
    code, err = run(write(tmp_path, "events.csv", header, events), capsys)

    assert code == 1
    assert "line 2: value 'inf' is not a number I can store" in err
    assert "line 3: value 'nan' is not a number I can store" in err
    assert "line 5: timestamp '0001-01-01T00:00+01:00' is not a date I can read" in err
    assert "1 row imported, 3 rows rejected" in err
    with Store(data_dir, read_only=True) as store:
        assert [e.type for e in Repos.open(store).events.for_subscriber("cus_1")] == ["nps"]


def test_the_real_command_prints_no_traceback_on_the_cells_that_crashed_it(tmp_path: Path):
    rows = [customer(1), *(customer(n, **cells) for n, (cells, _) in enumerate(BAD_CELLS, 2))]
    path = write(tmp_path, "subs.csv", stripe_header(), rows)
    env = {"CARE_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}

    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "import", str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert f"1 row imported, {len(BAD_CELLS)} rows rejected" in " ".join(done.stderr.split())
