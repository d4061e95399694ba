"""The `slack` bench section: targets judged right, and a tiny real run against the fake Slack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import Report, Row, discover
from benchmarks._slack_worker import GcPauses
from benchmarks.slack import percentile, report

ROOT = Path(__file__).resolve().parents[2]


def figures(**overrides: float) -> dict[str, float]:
    base = {
        "subscribers": 100_000.0,
        "digest_tasks": 200.0,
        "build_s": 3.0,
        "start_s": 1.0,
        "prepare_s": 0.5,
        "posted": 41.0,
        "posting_wall_s": 40.0,
        "posting_rate": 1.0,
        "posting_cpu_s": 0.3,
        "posting_cpu_pct": 0.7,
        "render_cpu_ms": 5.0,
        "render_tasks": 200.0,
        "claims": 200.0,
        "answer_p50_ms": 11.0,
        "answer_p95_ms": 13.0,
        "answer_max_ms": 20.0,
        "late_answers": 0.0,
        "first_answer_max_ms": 20.0,
        "update_p50_ms": 5.0,
        "update_p95_ms": 8.0,
        "parent_p95_ms": 12.0,
        "update_max_ms": 20.0,
        "gc_full_pauses": 0.0,
        "gc_longest_pause_ms": 0.0,
        "email_clicks": 100.0,
        "email_open_p50_ms": 12.0,
        "email_open_p95_ms": 40.0,
        "peak_rss_mb": 300.0,
    }
    return {**base, **overrides}


def by_figure(rep: Report) -> dict[str, Row]:
    return {row.figure: row for row in rep.rows}


def test_all_targets_met_passes_and_shows_one_column_per_size() -> None:
    rep = report({100_000: figures()})

    assert rep.passed is True
    assert rep.columns == ["100k"]
    judged = [row.figure for row in rep.rows if row.passed is not None]
    assert len(judged) == 6  # pace, CPU share, render, answer p95, whole-claim p95, email modal


@pytest.mark.parametrize(
    ("override", "figure"),
    [
        ({"answer_p95_ms": 100.0}, "/care claim answered, p95"),
        ({"update_p95_ms": 301.0}, "Whole claim (to chat.update), p95"),
        ({"posting_rate": 1.5}, "Posting pace, messages per second"),
        ({"posting_rate": 0.8}, "Posting pace, messages per second"),
        ({"posting_cpu_pct": 12.0}, "Bot CPU while posting, % of wall time"),
        ({"render_cpu_ms": 1000.0}, "Render the digest (CPU, median of 5), 200 tasks"),
        ({"email_open_p95_ms": 300.0}, "Email modal opened (views.open), p95"),
    ],
)
def test_a_figure_past_its_target_fails_that_row_and_the_report(override, figure) -> None:
    rep = report({100_000: figures(**override)})

    assert by_figure(rep)[figure].passed is False
    assert rep.passed is False
    assert [r.figure for r in rep.rows if r.passed is False] == [figure]


def test_render_target_is_not_judged_on_a_smaller_digest() -> None:
    rep = report({1_000: figures(render_tasks=20.0, render_cpu_ms=2000.0)})

    assert by_figure(rep)["Render the digest (CPU, median of 5), 200 tasks"].passed is None
    assert any("fewer than 200 tasks" in note for note in rep.notes)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 95) == 95.0
    assert percentile(values, 50) == 50.0
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0
    assert percentile([7.0], 50) == 7.0


def test_gc_pauses_counts_only_full_collections() -> None:
    pauses = GcPauses()
    pauses("start", {"generation": 0})
    pauses("stop", {"generation": 0})
    pauses("start", {"generation": 2})
    pauses("stop", {"generation": 2})

    assert pauses.count == 1 and pauses.longest >= 0.0


def test_the_slack_section_is_discovered_after_core() -> None:
    sections = discover()

    assert sections["slack"].json_name == "issue4"
    assert list(sections).index("slack") > list(sections).index("core")


@pytest.mark.timeout(120)
def test_a_tiny_slack_run_claims_every_task_and_writes_its_json(tmp_path: Path) -> None:
    command = ["-m", "benchmarks", "slack", "--quick", "--sizes", "150", "--out", str(tmp_path)]
    proc = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=110
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "issue4.json").read_text())
    numbers = doc["data"]["sizes"]["150"]
    assert numbers["subscribers"] == 150
    assert numbers["digest_tasks"] == numbers["claims"] == numbers["email_clicks"] == 20
    assert numbers["posted"] == 5  # the parent and 4 replies of 5 tasks
    assert 0.9 <= numbers["posting_rate"] <= 1.1  # the real Pacer(1.0)
    for key in ("answer_p95_ms", "update_p95_ms", "render_cpu_ms", "posting_cpu_s"):
        assert numbers[key] > 0, key
    assert numbers["answer_max_ms"] >= numbers["answer_p95_ms"]
    assert numbers["first_answer_max_ms"] <= numbers["answer_max_ms"]
    assert 0 <= numbers["late_answers"] <= numbers["claims"]
    assert "/care claim answered, p95" in proc.stdout
