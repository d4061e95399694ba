"""`python app.py import`: exit codes, summary, rejected lines, dry run, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

import app
from bot.importers.cli import ProgressBar
from bot.repos import Repos
from bot.store import Store
from tests.bot.importers.exports import stripe_header, stripe_row, write


def stored_ids(data_dir: Path) -> list[str]:
    with Store(data_dir, read_only=True) as store:
        return sorted(Repos.open(store).subscribers.ids())


def test_a_clean_import_exits_0_and_prints_the_summary(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    path = write(tmp_path, "subs.csv", stripe_header(), [stripe_row()])

    assert app.main(["import", str(path)]) == 0

    err = capsys.readouterr().err
    assert "Stripe subscriptions export" in err and "detected" in err
    assert "created" in err and "rejected" in err
    assert stored_ids(data_dir) == ["cus_1"]


def test_rejected_rows_exit_1_list_their_lines_and_keep_the_good_rows(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    rows = [
        stripe_row(),
        stripe_row(id="sub_2", Status="[bold]weird[/bold]", **{"Customer ID": "cus_2"}),
    ]
    path = write(tmp_path, "subs.csv", stripe_header(), rows)

    assert app.main(["import", str(path)]) == 1

    err = capsys.readouterr().err
    assert "line 3: Status '[bold]weird[/bold]' is not a status I know" in err
    assert "1 row imported, 1 row rejected" in " ".join(err.split())
    assert stored_ids(data_dir) == ["cus_1"]


def test_the_rejected_list_is_capped_and_says_how_many_more(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    rows = [stripe_row(id=f"s{i}", Status="nope", **{"Customer ID": f"c{i}"}) for i in range(60)]
    path = write(tmp_path, "subs.csv", stripe_header(), rows)

    assert app.main(["import", str(path)]) == 2

    err = capsys.readouterr().err
    assert "line 51: " in err and "line 52: " not in err
    assert "... and 10 more rejected rows." in err
    assert "Nothing imported: all 60 rows were rejected" in " ".join(err.split())


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b"customer_id|email\nc1|a@example.com\n", "'|'"),
        (b"colour,size\nred,XL\n", "cannot tell which export"),
    ],
    ids=["empty", "binary", "pipe", "unknown-headers"],
)
def test_an_unreadable_file_exits_2_imports_nothing_and_says_why(
    tmp_path: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    reason: str,
):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    assert app.main(["import", str(path)]) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert "Nothing imported." in err and reason in err
    assert not (data_dir / "subscribers.json").exists()


def test_a_missing_file_exits_2(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]):
    assert app.main(["import", str(tmp_path / "nope.csv")]) == 2
    assert "No file" in capsys.readouterr().err


def test_dry_run_writes_nothing_even_to_an_existing_store(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    assert app.main(["import", str(write(tmp_path, "a.csv", stripe_header(), [stripe_row()]))]) == 0
    before = (data_dir / "subscribers.json").read_bytes()
    second = write(
        tmp_path,
        "b.csv",
        stripe_header(),
        [stripe_row(**{"Customer ID": "cus_2"}, **{"Customer Email": "b@example.com"})],
    )

    assert app.main(["import", "--dry-run", str(second)]) == 0

    assert "Dry run: nothing was written" in capsys.readouterr().err
    assert (data_dir / "subscribers.json").read_bytes() == before


def test_dry_run_without_a_data_directory_creates_none(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    path = write(tmp_path, "a.csv", stripe_header(), [stripe_row()])
    assert app.main(["import", "--dry-run", str(path)]) == 0
    assert not data_dir.exists()


def test_explicit_format_is_used_and_reported(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
):
    path = write(tmp_path, "g.csv", ["email", "name"], [{"email": "x@example.com", "name": "X"}])
    assert app.main(["import", "--format", "generic", str(path)]) == 0
    assert "(generic, as asked)" in " ".join(capsys.readouterr().err.split())


def test_the_progress_bar_appears_only_for_large_files():
    console = Console(record=True, force_terminal=True, width=80)
    small, large = ProgressBar(console), ProgressBar(console)
    small(0, 2000)
    assert small._progress is None
    large(0, 5000)
    large(5000, 5000)
    assert large._progress is not None
    large.close()
    assert large._progress is None
