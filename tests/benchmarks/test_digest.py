"""The digest section's harness: a reused data directory is copied, targets judged right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import Report, Row
from benchmarks.digest import copy_data, imported_dirs, report


def figures(**overrides: Any) -> dict[str, Any]:
    base = {
        "subscribers": 900,
        "digest_wall_s": 40.0,
        "cpu_per_message_ms": 10.0,
        "during_p50_ms": 15.0,
        "during_p95_ms": 20.0,
        "during_max_ms": 30.0,
        "answer_p50_ms": 15.0,
        "answer_p95_ms": 20.0,
        "preview_over_load": 2.0,
    }
    return {**base, **overrides}


def row(rep: Report, start: str) -> Row:
    return [r for r in rep.rows if r.figure.strip().startswith(start)][-1]  # the last such row


def imported(root: Path) -> Path:
    data = root / "data"
    (data / "tasks").mkdir(parents=True)
    (data / "subscribers.json").write_text('{"subscribers": {}}')
    (data / "tasks" / "00.json").write_text('{"tasks": {}}')
    return data


def test_an_imported_directory_is_named_per_size(tmp_path: Path) -> None:
    data = imported(tmp_path)
    assert imported_dirs("") == {}
    assert imported_dirs(f"1000000={data}, 100000 = {data}") == {1_000_000: data, 100_000: data}
    with pytest.raises(ValueError, match="SIZE=DIR"):
        imported_dirs(str(data))
    with pytest.raises(ValueError, match="not an imported data directory"):
        imported_dirs(f"1000={tmp_path / 'nowhere'}")


def test_a_run_writes_into_its_copy_never_the_original(tmp_path: Path) -> None:
    data = imported(tmp_path)
    copy = tmp_path / "run" / "data"
    copy.parent.mkdir()
    copy_data(data, copy)
    assert (copy / "tasks" / "00.json").read_text() == '{"tasks": {}}'
    (copy / "tasks" / "00.json").write_text('{"tasks": {"t1": {}}}')
    (copy / "digests.json").write_text("{}")
    assert (data / "tasks" / "00.json").read_text() == '{"tasks": {}}'
    assert not (data / "digests.json").exists()


def test_the_100k_targets_are_judged_at_100k_beside_a_million() -> None:
    rep = report(
        {
            1_000: figures(),
            100_000: figures(cpu_per_message_ms=11.0, answer_p95_ms=23.0),
            1_000_000: figures(cpu_per_message_ms=30.0, during_max_ms=1_200.0),
        }
    )
    assert row(rep, "CPU per message").values == {"100k": pytest.approx(1.1)}
    assert row(rep, "CPU per message").passed is True
    answers = [r for r in rep.rows if r.figure.strip() == "answered, p95"]
    # while posting: no target; after, with the lull rule: 100k; beside a forced headline: shown
    assert [r.passed for r in answers] == [None, True, None]
    ratios = [r for r in rep.rows if r.figure.strip() == "p95 100k / 1k"]
    assert ratios[1].values == {"100k": pytest.approx(1.15)}
    assert row(rep, "slowest answer").passed is False  # over 1 s at 1M
    assert row(rep, "preview / json.load").passed is True  # 1M is not previewed
    assert rep.columns == ["1k", "100k", "1M"]


def test_a_million_alone_is_judged_on_its_slowest_claim_while_posting() -> None:
    one_m = figures(during_max_ms=640.0)
    del one_m["preview_over_load"]
    rep = report({1_000: figures(), 1_000_000: one_m})
    assert row(rep, "slowest answer").passed is True
    assert row(rep, "slowest answer").values == {"1k": 30.0, "1M": 640.0}
    assert row(rep, "preview / json.load").passed is True  # judged at 1k, the size previewed


def test_claims_over_1_s_fail_the_target_and_those_over_3_s_are_shown() -> None:
    rep = report(
        {
            1_000: figures(during_over_1s=0, during_over_3s=0),
            1_000_000: figures(during_max_ms=3_400.0, during_over_1s=4, during_over_3s=1),
        }
    )
    assert row(rep, "answered in over 1 s").values == {"1k": 0, "1M": 4}
    assert row(rep, "answered in over 1 s").passed is False
    assert row(rep, "answered in over 3 s").values == {"1k": 0, "1M": 1}
    quiet = report({1_000: figures(during_over_1s=0), 1_000_000: figures(during_over_1s=0)})
    assert row(quiet, "answered in over 1 s").passed is True


def test_the_morning_preview_is_judged_at_the_largest_size_that_measured_it() -> None:
    rep = report(
        {
            1_000: figures(morning_preview_over_load=1.5),
            100_000: figures(morning_preview_over_load=3.4, morning_noted=379),
            1_000_000: figures(),  # not previewed
        }
    )
    assert row(rep, "morning preview / json.load").values == {
        "1k": 1.5,
        "100k": 3.4,
        "1M": None,
    }
    assert row(rep, "morning preview / json.load").passed is False  # 3.4x at 100k
    assert row(rep, "morning preview / json.load").target == "100k <= 3"
    assert row(rep, "preview / json.load").passed is True  # the other case, still its own row
    assert row(rep, "customers the day before's run noted").values["100k"] == 379
    fine = report(
        {
            1_000: figures(morning_preview_over_load=4.0),
            100_000: figures(morning_preview_over_load=2.9),
        }
    )
    assert row(fine, "morning preview / json.load").passed is True
    unmeasured = report({1_000: figures(), 100_000: figures()})
    assert row(unmeasured, "morning preview / json.load").passed is None


def _worker_preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> dict:
    """The digest worker's `mode` step (`morning`, `fresh`) at 200 subscribers, one run: its
    figures, with what every preview step must give."""
    from benchmarks import _digest_worker
    from benchmarks.core import prepare

    monkeypatch.setattr(_digest_worker, "PREVIEW_RUNS", 1)
    prepare(tmp_path, 200)
    out = getattr(_digest_worker, mode)(tmp_path, 200)
    assert out[f"{mode}_preview_process_s"] > 0 and out[f"{mode}_json_load_process_s"] > 0
    assert out[f"{mode}_preview_over_load"] == pytest.approx(
        out[f"{mode}_preview_process_s"] / out[f"{mode}_json_load_process_s"]
    )
    assert out[f"{mode}_files_read"] > 1  # the subscribers and shards, at least
    assert (tmp_path / "data" / "subscribers.json").is_file()  # imported once, for `post`
    assert not (tmp_path / mode).exists()  # the copy is removed
    return out


def test_the_morning_worker_previews_a_copy_after_the_day_befores_run_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.enginerun import RECORD

    out = _worker_preview(tmp_path, monkeypatch, "morning")
    assert out["morning_noted"] is not None and out["morning_noted"] >= 0  # noted the day
    assert not (tmp_path / "data" / RECORD).exists()  # the engine ran on the copy alone


def test_claims_beside_the_lull_rule_are_judged_and_those_beside_a_forced_headline_shown() -> None:
    rep = report(
        {
            1_000: figures(forced_p50_ms=16.0, forced_p95_ms=20.0, headline_turns_deferred=2),
            100_000: figures(
                answer_p95_ms=22.0, forced_p50_ms=24.0, forced_p95_ms=40.0, forced_claims=115
            ),
        }
    )
    judged = [r for r in rep.rows if r.figure.strip() == "p95 100k / 1k"]
    # while posting (shown), after posting with the lull rule (judged), beside a forced one
    assert [r.passed for r in judged] == [None, True, None]
    assert judged[1].values == {"100k": pytest.approx(1.1)}
    assert judged[2].values == {"100k": pytest.approx(2.0)}
    assert row(rep, "the headline's turns that waited").values["1k"] == 2
    assert row(rep, "After posting: /care claim of the other half").values["100k"] == 115
    slow = report({1_000: figures(), 100_000: figures(answer_p95_ms=25.0)})
    assert [r for r in slow.rows if r.figure.strip() == "p95 100k / 1k"][1].passed is False
    unmeasured = report({1_000: figures(), 100_000: figures()})  # an older run's figures
    assert [r for r in unmeasured.rows if r.figure.strip() == "p95 100k / 1k"][2].values == {
        "100k": None
    }


class FakeKeeper:
    """A keeper whose `tick` computes at the `at`-th turn, and whose `refresh` takes `takes` s."""

    def __init__(self, at: int = 3, takes: float = 0.01) -> None:
        self.turns, self.at, self.takes, self.refreshed = 0, at, takes, 0

    def tick(self) -> bool:
        self.turns += 1
        return self.turns >= self.at

    def current(self) -> object:
        return object() if self.turns >= self.at else None

    def refresh(self) -> None:
        import time

        time.sleep(self.takes)
        self.refreshed += 1


def test_the_turns_tick_until_the_headline_computes_and_count_the_deferred_ones() -> None:
    from benchmarks._after_posting import Turns

    keeper = FakeKeeper(at=3)
    turns = Turns(keeper, every=0.01)
    turns.start()
    turns.join(10)
    assert not turns.is_alive() and keeper.turns == 3
    assert turns.deferred == 2 and turns.started_at is not None
    assert turns.figures["headline_computed"] is True and turns.figures["headline_s"] >= 0
    never = Turns(FakeKeeper(at=10**9), every=0.01)
    never.start()
    never.stop()
    never.join(10)
    assert not never.is_alive() and never.started_at is None


def test_the_forced_headline_computes_again_until_stopped() -> None:
    import time

    from benchmarks._after_posting import Forced

    keeper = FakeKeeper(takes=0.02)
    forced = Forced(keeper)
    forced.start()
    assert forced.running.wait(10)
    time.sleep(0.1)
    forced.stop()
    forced.join(10)
    assert forced.figures["forced_headline_runs"] == keeper.refreshed >= 2
    assert forced.figures["forced_headline_s"] >= 0.02 and not forced.error


def test_the_bots_clock_runs_with_real_time_after_posting() -> None:
    import time
    from datetime import UTC, datetime

    from benchmarks._after_posting import run_clock
    from bot.clock import FixedClock

    clock = FixedClock(datetime(2026, 6, 15, 13, 30, tzinfo=UTC))
    run_clock(clock)
    first = clock.now()
    time.sleep(0.05)
    assert (clock.now() - first).total_seconds() >= 0.04


def test_the_first_day_preview_is_judged_against_its_own_target() -> None:
    rep = report(
        {
            1_000: figures(fresh_preview_over_load=1.4, fresh_saved_index=1),
            100_000: figures(fresh_preview_over_load=3.7, fresh_saved_index=1),
            1_000_000: figures(),  # not previewed
        }
    )
    fresh = row(rep, "first-day preview / json.load")
    assert fresh.values == {"1k": 1.4, "100k": 3.7, "1M": None}
    assert fresh.passed is False and fresh.target == "100k <= 3"
    assert row(rep, "preview / json.load").passed is True  # the other cases keep their rows
    assert row(rep, "the import saved the plan index").values["100k"] == 1
    fine = report(
        {1_000: figures(fresh_preview_over_load=4.0), 100_000: figures(fresh_preview_over_load=2.5)}
    )
    assert row(fine, "first-day preview / json.load").passed is True
    unmeasured = report({1_000: figures(), 100_000: figures()})
    assert row(unmeasured, "first-day preview / json.load").passed is None


def test_the_first_day_worker_previews_a_copy_with_no_engine_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.enginerun import RECORD
    from bot.repos.plan_file import NAME

    out = _worker_preview(tmp_path, monkeypatch, "fresh")
    assert out["fresh_saved_index"] == 1  # the import left the plan index for the preview
    assert (tmp_path / "data" / NAME).is_file()
    assert not (tmp_path / "data" / RECORD).exists()  # no engine ran


def test_the_like_for_like_figure_counts_full_messages_of_the_posting_thread_only() -> None:
    import threading
    from types import SimpleNamespace

    from benchmarks._digest_worker import MessageMeter

    publisher = SimpleNamespace(render_message=lambda message: ({}, {}))
    meter = MessageMeter(publisher)
    meter.thread = threading.get_ident()

    def message(entries: int, tasks: int, carried: bool = False) -> Any:
        return SimpleNamespace(entries=[()] * entries, task_ids=["t"] * tasks, carried=carried)

    def burn(ms: float) -> None:
        import time

        end = time.thread_time() + ms / 1000
        while time.thread_time() < end:
            pass

    shape = [(message(5, 5), 8), (message(5, 7), 8), (message(2, 2), 30), (message(5, 5), 0)]
    for m, ms in shape:
        publisher.render_message(m)
        other = threading.Thread(target=publisher.render_message, args=(message(5, 9),))
        other.start()  # a claim's edit rendering in another thread: not a posted message
        other.join()
        burn(ms)
    got = meter.figures(per_message=5)
    assert got["full_messages"] == 2  # the last message's span runs to the end: left out
    assert got["full_message_tasks"] == 6
    assert 8 <= got["full_message_cpu_p50_ms"] < 20
    assert got["message_cpu_p50_ms"] >= 8


def test_the_cpu_per_message_is_judged_on_the_median_of_the_posting_runs() -> None:
    runs = {
        1_000: figures(cpu_per_message_ms=4.0, cpu_per_message_median_ms=5.0),
        100_000: figures(cpu_per_message_ms=6.5, cpu_per_message_median_ms=5.5),
    }
    rep = report(runs)
    assert row(rep, "CPU per message").values == {"100k": pytest.approx(1.1)}
    assert row(rep, "CPU per message").passed is True
    assert row(rep, "the median of the posting runs").values == {"1k": 5.0, "100k": 5.5}
    runs[100_000]["cpu_per_message_median_ms"] = 6.5
    assert row(report(runs), "CPU per message").passed is False  # 1.3x
    del runs[1_000]["cpu_per_message_median_ms"]  # one run at a size: both judged on one run
    assert row(report(runs), "CPU per message").values == {"100k": pytest.approx(1.625)}
