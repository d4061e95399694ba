"""The backtest on a history whose answer is known, and proof that it never sees the future.

Rules for these tests: high from 30 points, so one failed payment (30 points with
`payment_failed_each = 30`) or a past-due status (35) flags a customer. Replay March to May
2026; the data ends on June 30 (New York).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import app
from bot.metrics.backtest import backtest
from bot.metrics.replay import known_on
from bot.repos import Repos
from bot.store import Store
from config.rules import RiskRules
from tests.bot.metrics.histories import customer, event

NY = ZoneInfo("America/New_York")
FIRST, LAST, DATA_END = date(2026, 3, 1), date(2026, 5, 31), date(2026, 6, 30)
RULES = replace(
    RiskRules(), high=30, medium=10, weights={**RiskRules().weights, "payment_failed_each": 30}
)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=NY).astimezone(UTC)


def known_history(repos: Repos) -> None:
    """a1-a4: a failed payment 20 days before they cancel in April; b1, b2 cancel in April with
    no signal; c1: a failed payment on Mar 10 and no cancel; e1 was seen past due on May 20."""
    subs, events = [], []
    for n in range(1, 5):
        end = date(2026, 4, 5 * n)
        subs.append(customer(f"a{n}", date(2025, 6, 1), end))
        events.append(event(f"a{n}", "payment_failed", noon(end - timedelta(days=20))))
    subs += [
        customer("b1", date(2025, 6, 1), date(2026, 4, 8)),
        customer("b2", date(2025, 6, 1), date(2026, 4, 22)),
    ]
    subs.append(customer("c1", date(2025, 6, 1)))
    events.append(event("c1", "payment_failed", noon(date(2026, 3, 10))))
    late = customer("e1", date(2025, 6, 1))
    late.subscriptions[0].status = "past_due"
    late.history = [
        {
            "at": "2026-05-20T15:00:00+00:00",
            "field": "status",
            "from": "active",
            "to": "past_due",
            "sub": "sub_e1",
        }
    ]
    subs.append(late)
    repos.subscribers.put_many(subs)
    repos.events.add_many(events)


def test_precision_recall_and_warning_on_a_known_history(repos: Repos) -> None:
    known_history(repos)
    result = backtest(repos, RULES, NY, FIRST, LAST, DATA_END)
    # flags: a1-a4 and c1 judged (their 90 days end by June 30), e1's from May 20 is pending
    assert (result.flags, result.judged_flags, result.hits) == (6, 5, 4)
    assert result.precision == 80.0
    # cancellations in the period: a1-a4 caught, b1 and b2 missed
    assert (result.cancellations, result.caught) == (6, 4)
    assert result.recall == 66.7
    assert result.warning_days == [20, 20, 20, 20] and result.median_warning_days == 20
    failed = result.rules["payment_failed"]
    assert (failed.fired, failed.judged) == (5, 5)
    assert failed.followed == {30: 4, 60: 4, 90: 4}
    assert (result.rules["past_due"].fired, result.rules["past_due"].judged) == (1, 0)


def test_other_weights_are_compared_side_by_side(repos: Repos) -> None:
    known_history(repos)
    quiet = replace(RULES, weights={**RULES.weights, "payment_failed_each": 0})
    result = backtest(repos, quiet, NY, FIRST, LAST, DATA_END)
    assert (result.flags, result.caught, result.recall) == (1, 0, 0.0)  # only e1, past due


def test_the_replay_never_sees_the_future(repos: Repos) -> None:
    """An event is seen from its local day on, a status change from the day it was recorded."""
    repos.subscribers.put_many(
        [customer("late", date(2025, 1, 1)), customer("next", date(2025, 1, 1))]
    )
    # 02:00 UTC on Apr 10 is 22:00 on Apr 9 in New York: flagged from Apr 9, not a day earlier
    repos.events.add(event("late", "payment_failed", datetime(2026, 4, 10, 2, tzinfo=UTC)))
    # a failure the day after the replay ends changes nothing in it
    repos.events.add(event("next", "payment_failed", noon(LAST + timedelta(days=1))))
    result = backtest(repos, RULES, NY, FIRST, LAST, DATA_END)
    assert result.flags == 1
    short = backtest(repos, RULES, NY, FIRST, date(2026, 4, 8), DATA_END)
    assert short.flags == 0
    doc = customer("e1", date(2025, 6, 1)).to_doc()
    doc["subscriptions"][0]["status"] = "past_due"
    doc["history"] = [
        {
            "at": "2026-05-20T15:00:00+00:00",
            "field": "status",
            "from": "active",
            "to": "past_due",
            "sub": "sub_e1",
        }
    ]
    assert known_on(doc, date(2026, 5, 19)).status == "active"  # type: ignore[union-attr]
    assert known_on(doc, date(2026, 5, 20)).status == "past_due"  # type: ignore[union-attr]
    assert known_on(doc, date(2025, 5, 31)) is None  # not yet a customer


def test_a_scheduled_cancellation_is_seen_from_the_day_it_was_asked(repos: Repos) -> None:
    sub = customer("s1", date(2025, 1, 1), date(2026, 4, 30)).to_doc()
    sub["subscriptions"][0]["canceled_at"] = "2026-04-01"  # asked Apr 1, ends Apr 30
    assert known_on(sub, date(2026, 3, 31)).scheduled_cancellation is False  # type: ignore[union-attr]
    assert known_on(sub, date(2026, 4, 1)).scheduled_cancellation is True  # type: ignore[union-attr]
    assert known_on(sub, date(2026, 4, 30)).status == "canceled"  # type: ignore[union-attr]
    sub_model = customer("s1", date(2025, 1, 1), date(2026, 4, 30))
    sub_model.subscriptions[0].canceled_at = date(2026, 4, 1)
    repos.subscribers.put(sub_model)
    result = backtest(repos, RiskRules(), NY, FIRST, LAST, DATA_END)  # default weights: 60 = high
    assert (result.flags, result.caught, result.warning_days) == (1, 1, [29])


def test_backtest_command_writes_json_side_by_side_and_changes_no_data(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        known_history(Repos.open(store))
    config = tmp_path / "care.toml"
    config.write_text(
        'timezone = "America/New_York"\n[risk]\nhigh = 30\nmedium = 10\n[risk.weights]\npayment_failed_each = 30\n'
    )
    quiet = tmp_path / "quiet.toml"
    quiet.write_text("[risk]\nhigh = 30\nmedium = 10\n[risk.weights]\npayment_failed_each = 0\n")
    monkeypatch.setenv("CARE_DATA_DIR", str(data))
    monkeypatch.setenv("CARE_CONFIG", str(config))
    before = {p: p.read_bytes() for p in data.rglob("*.json")}
    out = tmp_path / "bt.json"
    args = [
        "backtest",
        "--from",
        "2026-03-01",
        "--to",
        "2026-05-31",
        "--weights",
        str(quiet),
        "--json",
        str(out),
        "--data-end",
        "2026-06-30",
    ]
    assert app.main(args) == 0
    doc = json.loads(out.read_text())
    assert doc["care.toml"]["precision"] == 80.0 and doc["care.toml"]["recall"] == 66.7
    assert doc[str(quiet)]["recall"] == 0.0
    assert "Precision" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in data.rglob("*.json")} == before


@pytest.mark.parametrize(
    ("first", "last"), [("2026-05-01", "2026-04-01"), ("2026-01-01", "2099-01-01")]
)
def test_backtest_refuses_a_backwards_or_future_range(
    first, last, tmp_path, monkeypatch, capsys
) -> None:
    with Store(tmp_path / "data", shards=8):
        pass
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "data"))
    assert app.main(["backtest", "--from", first, "--to", last]) == 2
    assert "--to" in capsys.readouterr().err
