"""`python app.py digest --preview`: JSON shape, terminal view, and not a byte of data changed."""

from __future__ import annotations

import json
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
    assert "4 tasks for 3 customers, 1 overdue" in err
    assert err.index("Churn risk") < err.index("Win-back") < err.index("Day-30 check-in")
    assert "Churn risk (1)" in err and "Win-back (1)" in err
    assert "OVERDUE" in err
    assert "Risk 60 high" in err
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
