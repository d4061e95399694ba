"""`python app.py digest --preview`: JSON shape, terminal view, and not a byte of data changed."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

import app
from bot.clock import FixedClock
from bot.engine import run_engine
from bot.preview import run_preview
from bot.repos import Repos
from bot.store import Store
from tests.bot.builders import TODAY, at_noon, days_ago, event, member


def with_digest(settings, **digest):  # noqa: ANN001, ANN201
    return replace(settings, digest=replace(settings.digest, **digest))


KINDS = [
    "onboarding", "checkin_30", "checkin_90", "checkin_180",
    "pre_renewal", "anniversary", "win_back", "churn_risk",
]  # fmt: skip
# The object issue 3 specifies for `--json`.
SCHEMA = {
    "type": "object",
    "required": ["date", "tasks"],
    "properties": {
        "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "tasks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "kind", "subscriber", "due", "overdue", "risk"],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "kind": {"enum": KINDS},
                    "subscriber": {
                        "type": "object",
                        "required": ["id", "email", "name"],
                        "properties": {k: {"type": "string"} for k in ("id", "email", "name")},
                    },
                    "due": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                    "overdue": {"type": "boolean"},
                    "risk": {
                        "type": "object",
                        "required": ["score", "band", "reasons"],
                        "properties": {
                            "score": {"type": "integer", "minimum": 0, "maximum": 100},
                            "band": {"enum": ["low", "medium", "high"]},
                            "reasons": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture
def data_dir(tmp_path: Path, settings) -> Path:
    """A data directory with subscribers, events and some tasks, as the bot leaves it."""
    path = tmp_path / "data"
    with Store(path) as store:
        repos = Repos.open(store)
        repos.subscribers.put_many(
            [
                member("cus_ann", tenure=90, name="Ann [bold]Lee[/bold]", email="ann@example.com"),
                member("cus_bob", tenure=38, name="Bob", email="bob@example.com"),
                member("cus_cy", status="canceled", ended=days_ago(9), name="Cy"),
            ]
        )
        repos.events.add(event("cus_ann", "cancel_request", days_ago(2)))
        run_engine(days_ago(8), repos, settings, FixedClock(at_noon(days_ago(8))))
    return path


def snapshot(path: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in path.rglob("*") if p.is_file()}


@pytest.fixture
def cli_env(monkeypatch, data_dir):
    monkeypatch.setenv("CARE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("CARE_CONFIG", raising=False)
    return data_dir


def test_json_preview_prints_the_issue_object_and_changes_no_data(cli_env, capsys):
    before = snapshot(cli_env)
    code = app.main(["digest", "--preview", "--json", "--date", TODAY.isoformat()])
    out = capsys.readouterr().out
    assert code == 0
    plan = json.loads(out)
    jsonschema.validate(plan, SCHEMA)
    assert plan["date"] == TODAY.isoformat()
    assert all(t["posted"] for t in plan["tasks"])
    by_kind = {t["kind"]: t for t in plan["tasks"]}
    assert set(by_kind) == {"churn_risk", "checkin_90", "checkin_30", "win_back"}
    assert [t["kind"] for t in plan["tasks"]][0] == "churn_risk"
    assert by_kind["checkin_30"]["overdue"] is True  # due 8 days ago, grace 7
    assert by_kind["churn_risk"]["risk"]["reasons"] == [f"Asked to cancel on {days_ago(2)}"]
    assert snapshot(cli_env) == before
    with Store(cli_env, read_only=True) as store:
        stored = list(Repos.open(store).tasks.all())
    assert [t.kind for t in stored] == ["checkin_30"]  # the planned three were not written


def test_preview_of_a_later_date_leaves_tasks_unexpired(cli_env, capsys):
    before = snapshot(cli_env)
    later = (TODAY + timedelta(days=30)).isoformat()
    assert app.main(["digest", "--preview", "--json", "--date", later]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert "checkin_30" not in {t["kind"] for t in plan["tasks"]}
    assert snapshot(cli_env) == before


def test_preview_works_while_the_bot_holds_the_data_directory(cli_env, capsys):
    with Store(cli_env):  # the running bot's lock
        assert app.main(["digest", "--preview", "--json", "--date", TODAY.isoformat()]) == 0
    assert json.loads(capsys.readouterr().out)["tasks"]


def test_terminal_view_groups_by_kind_with_counts_and_marks_overdue(cli_env, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # no wrapping inside the phrases checked below
    assert app.main(["digest", "--preview", "--date", TODAY.isoformat()]) == 0
    err = capsys.readouterr().err
    assert "4 tasks for 3 customers posted, 1 overdue" in err
    assert "Queue" not in err  # a team of one posts 15 customers: all of these
    assert err.index("Churn risk") < err.index("Win-back") < err.index("Day-30 check-in")
    assert "Churn risk (1)" in err and "Win-back (1)" in err
    assert "OVERDUE" in err
    assert "Risk 60 high" in err
    assert err.count("Risk ") == 1  # only the customer with risk signals has a risk line
    assert "no risk signals" not in err
    assert "Churn risk: Churn risk" not in err  # the churn task's reason is its risk: said once
    assert "Ann [bold]Lee[/bold]" in err  # a name is text, never markup
    assert "$30/mo" in err
    assert "customer for 90 days" in err


def test_empty_data_directory_says_to_import_first(tmp_path, settings):
    (tmp_path / "data").mkdir()
    console = Console(record=True, width=200)
    assert run_preview(settings, TODAY, False, console) == 1
    assert "python app.py import" in console.export_text()


def test_missing_data_directory_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "nowhere"))
    assert app.main(["digest", "--preview"]) == 2
    err = capsys.readouterr().err
    assert "import" in err
    assert not (tmp_path / "nowhere").exists()


def test_nothing_due_is_said_plainly(tmp_path, settings):
    with Store(tmp_path / "data") as store:
        Repos.open(store).subscribers.put(member("cus_a"))
    console = Console(record=True, width=200)
    assert run_preview(settings, TODAY, False, console) == 0
    assert "Nothing is due" in console.export_text()


@pytest.fixture
def many_due(tmp_path: Path, settings) -> Path:
    """Twenty day-30 check-ins worth $20..$39, and one customer asking to cancel."""
    path = tmp_path / "data"
    with Store(path) as store:
        repos = Repos.open(store)
        repos.subscribers.put_many(
            [member(f"cus_{i:02d}", tenure=30, amount=20.0 + i) for i in range(20)]
            + [member("cus_bye", tenure=200, amount=5.0, name="Bye\x1b[31m\tRed")]
        )
        repos.events.add(event("cus_bye", "cancel_request", days_ago(1)))
    return path


def test_preview_shows_what_is_posted_and_the_queue_as_counts(many_due, settings):
    console = Console(record=True, width=200)
    small = with_digest(settings, max_entries=3)
    assert run_preview(small, TODAY, False, console) == 0
    text = console.export_text()
    assert "3 tasks for 3 customers posted" in text
    assert "Queue: 18 more tasks for 18 customers wait (the day's bound is 3 customers" in text
    assert "Day-30 check-in 18" in text.partition("Queue")[2]
    shown = text.partition("Queue")[0]
    # The churn risk first (risk), then the most valuable check-ins; the rest only counted.
    assert "Cus 19" in shown and "Cus 18" in shown and "Cus 17" not in shown
    assert "Risk 60 high" in shown and "Risk 0" not in shown  # no risk line without risk


def test_preview_all_lists_every_task_one_line_each_posted_then_queued(many_due, settings):
    out = io.StringIO()
    assert (
        run_preview(with_digest(settings, max_entries=3), TODAY, False, Console(), True, out) == 0
    )
    header, *lines = out.getvalue().splitlines()
    assert header.split("\t")[:3] == ["where", "id", "kind"]
    assert len(lines) == 21
    rows = [line.split("\t") for line in lines]
    assert all(len(row) == 13 for row in rows)
    assert [r[0] for r in rows] == ["posted"] * 3 + ["queued"] * 18
    assert rows[0][2] == "churn_risk" and rows[0][11] == "Bye[31mRed"  # no escape, no tab
    queued_values = [float(r[7]) for r in rows[3:]]
    assert queued_values == sorted(queued_values, reverse=True)  # best first


def test_json_preview_marks_what_waits_in_the_queue(many_due, settings):
    out = io.StringIO()
    assert run_preview(with_digest(settings, max_entries=5), TODAY, True, Console(), out=out) == 0
    tasks = json.loads(out.getvalue())["tasks"]
    jsonschema.validate({"date": TODAY.isoformat(), "tasks": tasks}, SCHEMA)
    assert sum(t["posted"] for t in tasks) == 5 and len(tasks) == 21
