"""`each_record`: a list view makes each record's row alone; one that raises is left out,
named, and logged with its traceback, the log bounded however many fail."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from bot.guard import LOGGED, each_record


@dataclass
class Row:
    id: str
    text: object


def _show(row: Row) -> str:
    return row.text.upper()  # type: ignore[attr-defined]  # an int has no upper: it raises


def test_a_record_whose_row_raises_is_left_out_named_and_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = [Row("a", "first"), Row("bad", 5), Row("c", "third")]

    done = each_record(rows, _show, "row in a test")

    assert done.rows == ["FIRST", "THIRD"] and done.failed == ["bad"]
    [logged] = caplog.records
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    assert (
        "row in a test 'bad'" in logged.getMessage() and "repair or remove" in logged.getMessage()
    )


def test_past_the_first_failures_one_line_counts_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    rows = [Row(f"r{i}", i) for i in range(1000)]

    done = each_record(rows, _show, "row")

    assert len(done.failed) == 1000 and not done.rows
    assert len(caplog.records) == LOGGED + 1
    assert f"{1000 - LOGGED} more row records" in caplog.records[-1].getMessage()
    assert sum(1 for r in caplog.records if r.exc_info) == LOGGED


def test_a_record_whose_id_cannot_be_read_is_named_by_a_question_mark() -> None:
    def no_id(row: Row) -> str:
        raise KeyError("id")

    done = each_record([Row("x", 1), Row("y" * 500, 2)], _show, "row", id_of=no_id)
    assert done.failed == ["?", "?"]
    long_id = each_record([Row("y" * 500, 2)], _show, "row").failed[0]
    assert len(long_id) == 80 and long_id.endswith("…")
