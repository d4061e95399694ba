"""`python app.py report` and `export`: the same numbers as tables, JSON and CSV; data untouched."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

import app
from bot.repos import Repos
from bot.store import Store
from tests.bot.metrics.histories import customer, item, touch, utc


def snapshot(path: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in path.rglob("*") if p.is_file()}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Ten customers from Jan 5; three leave in February, one for non-payment."""
    path = tmp_path / "data"
    with Store(path, shards=8) as store:
        repos = Repos.open(store)
        subs = [customer(f"c{n}", date(2026, 1, 5)) for n in range(3, 10)]
        subs += [
            customer("c0", date(2026, 1, 5), date(2026, 2, 10)),
            customer("c1", date(2026, 1, 5), date(2026, 2, 15)),
            customer("c2", date(2026, 1, 5), date(2026, 2, 20), "payment_failed"),
        ]
        subs[0].name = '=HYPERLINK("http://x")'
        subs[1].name = "Zoë Ångström"
        repos.subscribers.put_many(subs)
        repos.outreach.add(touch("c3", utc(2026, 2, 2, 15), outcome="saved"))
        repos.inbox.create_item(
            item("q1", utc(2026, 2, 16, 15), claimed=utc(2026, 2, 16, 16), subject="Skip a box?")
        )
    monkeypatch.setenv("CARE_DATA_DIR", str(path))
    monkeypatch.delenv("CARE_CONFIG", raising=False)
    return path


def test_report_json_has_the_hand_computed_numbers_and_changes_nothing(data_dir, capsys):
    before = snapshot(data_dir)
    assert app.main(["report", "--period", "30d", "--date", "2026-02-28", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["period"] == {"from": "2026-01-30", "to": "2026-02-28"}
    assert doc["care"]["churn_rate"] == {
        "value": 30.0,
        "unit": "%",
        "n": 10,
        "detail": {"count": 3},
    }
    assert doc["care"]["involuntary_cancel_rate"]["value"] == 10.0
    # the save logged on Feb 2 is confirmed on Mar 4, after the period's last day: pending
    assert doc["care"]["saves"]["value"] == 0
    assert doc["care"]["saves"]["detail"] == {"logged": 1, "pending": 1, "lost": 0}
    assert doc["service"]["first_response_median"]["value"] == 1.0
    assert doc["retention"][0]["cohort"] == "2026-01"
    # weeks to Feb 28: c0 left in Feb 8-14; c1 and c2 in Feb 15-21, 2 of the 9 left on Feb 14
    weeks = {w["to"]: w for w in doc["weeks"]}
    assert [weeks[d]["cancellations"] for d in ("2026-02-14", "2026-02-21", "2026-02-28")] == [
        1,
        2,
        0,
    ]
    assert weeks["2026-02-21"]["churn_rate"] == {
        "value": 22.2,
        "unit": "%",
        "n": 9,
        "detail": {"count": 2},
    }
    assert weeks["2025-12-13"]["churn_rate"]["why"].startswith("no customers yet on 2025-12-06")
    assert snapshot(data_dir) == before


def test_report_csv_and_table_show_the_same_churn(data_dir, capsys, monkeypatch):
    assert app.main(["report", "--date", "2026-02-28", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    churn = next(r for r in rows if r["metric"] == "churn_rate")
    assert (churn["value"], churn["n"]) == ("30.0", "10")
    nps = next(r for r in rows if r["metric"] == "nps")
    assert nps["value"] == "" and nps["why"] == "no NPS answers in the period"
    monkeypatch.setenv("COLUMNS", "150")
    assert app.main(["report", "--date", "2026-02-28"]) == 0
    err = capsys.readouterr().err
    assert "Churn rate" in err and "30.0%" in err and "no NPS answers in the period" in err


def test_export_writes_csv_a_spreadsheet_opens(data_dir, tmp_path, capsys):
    before = snapshot(data_dir)
    out = tmp_path / "out"
    assert app.main(["export", "--out", str(out), "--bom"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "inbox.csv", "metrics.csv", "outreach.csv", "subscribers.csv", "tasks.csv",
    ]  # fmt: skip
    raw = (out / "subscribers.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 10
    names = {r["id"]: r for r in rows}
    assert names["c3"]["name"] == '\'=HYPERLINK("http://x")'  # shown, never run as a formula
    assert names["c4"]["name"] == "Zoë Ångström"
    assert names["c0"]["ended_on"] == "2026-02-10" and names["c0"]["first_started"] == "2026-01-05"
    (outreach,) = csv.DictReader(io.StringIO((out / "outreach.csv").read_text("utf-8-sig")))
    assert outreach["at_utc"] == "2026-02-02 15:00:00" and outreach["email"] == "c3@example.com"
    (inbox,) = csv.DictReader(io.StringIO((out / "inbox.csv").read_text("utf-8-sig")))
    assert inbox["subject"] == "Skip a box?" and inbox["claimed_at_utc"] == "2026-02-16 16:00:00"
    assert "subscribers: 10 rows" in capsys.readouterr().err
    assert snapshot(data_dir) == before


def test_export_of_one_kind_without_bom(data_dir, tmp_path):
    out = tmp_path / "one"
    assert app.main(["export", "--what", "outreach", "--out", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["outreach.csv"]
    assert (out / "outreach.csv").read_bytes().startswith(b"id,subscriber_id,")


def test_report_without_data_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "nothing"))
    assert app.main(["report"]) == 2
    assert "No data in" in capsys.readouterr().err


def test_export_ended_on_leaves_out_subscriptions_that_never_paid(tmp_path, monkeypatch):
    # A checkout that never completed (Stripe `incomplete_expired`) or a trial that never
    # converted is no customer lost: it is not when a customer ended.
    from bot.importers import import_file
    from tests.bot.importers.exports import NOW, stripe_header, stripe_row, write

    def row(sub: str, cus: str, status: str, ended: str, **cells: str) -> dict[str, object]:
        return stripe_row(
            **{"id": sub, "Customer ID": cus, "Customer Email": f"{cus}@example.com"},
            **{"Status": status, "Canceled At (UTC)": ended, "Ended At (UTC)": ended},
            **cells,
        )

    rows = [
        row("sub_paid", "cus_left", "canceled", "2026-02-10 09:00"),
        row("sub_retry", "cus_left", "incomplete_expired", "2026-03-01 09:00"),
        row("sub_never", "cus_never", "incomplete_expired", "2026-03-01 09:00"),
        row(
            "sub_trial",
            "cus_trial",
            "canceled",
            "2026-03-01 09:00",
            **{"Trial End (UTC)": "2026-03-05 09:00"},
        ),
    ]
    path = tmp_path / "data"
    with Store(path, shards=8) as store:
        import_file(write(tmp_path, "s.csv", stripe_header(), rows), "auto", Repos.open(store), NOW)
    monkeypatch.setenv("CARE_DATA_DIR", str(path))
    monkeypatch.delenv("CARE_CONFIG", raising=False)
    out = tmp_path / "out"

    assert app.main(["export", "--what", "subscribers", "--out", str(out)]) == 0

    rows_out = csv.DictReader(io.StringIO((out / "subscribers.csv").read_text("utf-8-sig")))
    ended = {r["id"]: r["ended_on"] for r in rows_out}
    assert ended == {"cus_left": "2026-02-10", "cus_never": "", "cus_trial": ""}
