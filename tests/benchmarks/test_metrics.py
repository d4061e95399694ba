"""make bench's metrics section: targets judged at 100k, and a tiny real run writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import discover
from benchmarks.metrics import report

ROOT = Path(__file__).resolve().parents[2]


def figures(**overrides: float) -> dict[str, float]:
    base = {
        "subscribers": 90_000.0,
        "events": 300_000.0,
        "with_history": 5_000.0,
        "report_s": 5.0,
        "report_load_s": 2.0,
        "report_rss_mb": 400.0,
        "backtest_s": 40.0,
        "backtest_scores": 400_000.0,
        "backtest_rss_mb": 600.0,
    }
    return {**base, **overrides}


def rows(**overrides: float) -> dict[str, bool | None]:
    return {row.figure: row.passed for row in report({100_000: figures(**overrides)}).rows}


def test_targets_are_judged_at_100k() -> None:
    assert rows()["Full report, 90 days (read-only store)"] is True
    assert rows(report_s=10.5)["Full report, 90 days (read-only store)"] is False
    assert rows(backtest_s=61)["Backtest, 365 days"] is False
    assert rows(backtest_rss_mb=1100)["Backtest peak memory"] is False
    small = report({2_000: figures()})
    assert all(row.passed is None for row in small.rows)
    assert any("100k was not measured" in note for note in small.notes)


def test_the_metrics_section_is_discovered() -> None:
    assert discover()["metrics"].json_name == "issue10"


@pytest.mark.timeout(400)
def test_a_tiny_metrics_run_writes_every_figure(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "metrics", "--sizes", "150", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=390,
    )
    assert proc.returncode == 0, proc.stderr
    numbers = json.loads((tmp_path / "issue10.json").read_text())["data"]["sizes"]["150"]
    assert 0 < numbers["subscribers"] <= 150 and numbers["events"] > 0
    assert numbers["with_history"] > 0
    for key in ("report_s", "backtest_s", "backtest_scores", "backtest_rss_mb"):
        assert numbers[key] > 0, key
