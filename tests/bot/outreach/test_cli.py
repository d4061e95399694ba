"""`python app.py template preview KIND --customer EMAIL` in the terminal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import app
from bot.repos import Repos
from bot.store import Store
from tests.bot.builders import TODAY, days_ago, event, member


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "data"
    with Store(path) as store:
        repos = Repos.open(store)
        ann = member("cus_ann", tenure=92, name="Ann Lee", email="ann@example.com")
        ann.subscriptions[0].current_period_end = TODAY + timedelta(days=4)
        repos.subscribers.put_many([ann])
        repos.events.add(event("cus_ann", "payment_failed", days_ago(1)))
    monkeypatch.setenv("CARE_DATA_DIR", str(path))
    monkeypatch.delenv("CARE_CONFIG", raising=False)
    return path


def test_preview_prints_the_draft_for_the_customer(cli_env, capsys) -> None:
    code = app.main(
        [
            "template",
            "preview",
            "checkin_90",
            "--customer",
            "ANN@example.com",
            "--date",
            TODAY.isoformat(),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "To:       ann@example.com" in out
    assert "Subject:  Three months of Monthly box: a quick check-in" in out
    assert "Hi Ann," in out
    assert "Your next charge of $30 a month is on June 19." in out


def test_preview_of_churn_risk_for_a_failed_payment_uses_that_template_with_html(
    cli_env, capsys
) -> None:
    code = app.main(
        [
            "template",
            "preview",
            "churn_risk",
            "--customer",
            "cus_ann",
            "--date",
            TODAY.isoformat(),
            "--html",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "failed_payment.txt" in out and "a recent payment did not go through" in out
    assert "<p>Hi Ann,</p>" in out


def test_a_team_template_with_a_typo_and_an_unknown_customer_exit_1_with_the_reason(
    cli_env, tmp_path, capsys, monkeypatch
) -> None:
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "anniversary.txt").write_text("Subject: {{ frist_name }}\n\nx")
    config = tmp_path / "care.toml"
    config.write_text('[outreach]\ntemplates_dir = "ours"\n')
    monkeypatch.setenv("CARE_CONFIG", str(config))

    assert app.main(["template", "preview", "anniversary", "--customer", "ann@example.com"]) == 1
    assert "frist_name" in capsys.readouterr().err
    assert app.main(["template", "preview", "anniversary", "--customer", "nobody@x.org"]) == 1
    assert "No subscriber nobody@x.org" in capsys.readouterr().err
