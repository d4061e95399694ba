"""Sample and synthetic data: deterministic, importable, and a demo digest with every kind."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

import app
from bot.importers import import_file
from bot.models import TASK_KINDS
from bot.repos import Repos
from bot.store import Store
from sample.generate import main, write_samples, write_synthetic_events, write_synthetic_stripe
from tests.bot.importers.exports import NOW

TODAY = date(2026, 6, 15)
ORDER = ("stripe", "recharge", "shopify", "events")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_samples(tmp_path_factory.mktemp("samples"), TODAY)


@pytest.fixture(scope="module")
def demo_dir(samples: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with every sample imported, as `make demo` does."""
    data = tmp_path_factory.mktemp("demo") / "data"
    with Store(data) as store:
        repos = Repos.open(store)
        for role in ORDER:
            report = import_file(samples[role], "auto", repos, NOW)
            assert report.rejected == [], (role, report.rejected[:3])
    return data


def test_the_same_arguments_write_the_same_files(tmp_path: Path, samples: dict[str, Path]):
    again = write_samples(tmp_path, TODAY)
    for role, path in samples.items():
        assert again[role].read_bytes() == path.read_bytes(), role


def test_another_day_moves_the_dates(tmp_path: Path, samples: dict[str, Path]):
    later = write_samples(tmp_path, TODAY + timedelta(days=30))
    assert later["stripe"].read_bytes() != samples["stripe"].read_bytes()


def test_samples_import_as_the_formats_they_claim(samples: dict[str, Path]):
    repos = Repos.open(Store.memory())
    formats = [import_file(samples[role], "auto", repos, NOW).format for role in ORDER]
    assert formats == ["stripe", "recharge", "shopify", "events"]


def test_samples_hold_a_few_hundred_subscribers_with_hostile_and_accented_names(
    demo_dir: Path,
):
    with Store(demo_dir, read_only=True) as store:
        subs = list(Repos.open(store).subscribers.all())
    names = {s.name for s in subs}
    assert 250 <= len(subs) <= 300
    assert "<!channel> Bob" in names
    assert any(ch in name for name in names for ch in "éëïøłü")
    box_people = [s for s in subs if any(sub.interval_count == 3 for sub in s.subscriptions)]
    assert box_people and all(s.name for s in box_people)  # names came from Shopify
    merged = [
        s for s in subs if s.id.startswith("cus_") and any(x.id.isdigit() for x in s.subscriptions)
    ]
    assert len(merged) == 1  # one person on Stripe and Recharge is one subscriber


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_demo_digest_shows_every_task_kind(
    demo_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    offset: int,
):
    """Also a day either side: the team's timezone may be a day off the generation date."""
    monkeypatch.setenv("CARE_DATA_DIR", str(demo_dir))
    monkeypatch.chdir(demo_dir)
    day = (TODAY + timedelta(days=offset)).isoformat()

    assert app.main(["digest", "--preview", "--json", "--date", day]) == 0

    tasks = json.loads(capsys.readouterr().out)["tasks"]
    assert {t["kind"] for t in tasks} == set(TASK_KINDS)
    assert any(t["risk"]["band"] == "high" for t in tasks)


def test_synthetic_stripe_rows_import_with_several_subscriptions_per_customer(tmp_path: Path):
    customers = write_synthetic_stripe(tmp_path / "s.csv", 600, TODAY, seed=3)
    repos = Repos.open(Store.memory())

    report = import_file(tmp_path / "s.csv", "auto", repos, NOW)

    assert (report.rows, report.created, report.rejected) == (600, len(customers), [])
    assert len(customers) < 600
    assert repos.subscribers.count() == len(customers)

    count = write_synthetic_events(tmp_path / "e.csv", customers, TODAY, seed=3)
    events = import_file(tmp_path / "e.csv", "auto", repos, NOW)
    assert events.rejected == [] and events.rows == count
    assert events.added + events.duplicates == count


def test_the_command_line_writes_into_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "out"
    assert main(["--out", str(out), "--today", "2026-06-15", "--subscribers", "40"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "events.csv",
        "recharge_subscriptions.csv",
        "shopify_customers.csv",
        "stripe_subscriptions.csv",
    ]
    assert str(out / "events.csv") in capsys.readouterr().out
