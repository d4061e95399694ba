"""A kill at any step of spreading the tasks over more shard files loses and doubles nothing.

A real process (tests/bot/reshard_writer.py) spreads a data directory's tasks and is
SIGKILLed at a chosen step; then the store is opened read-only (a `digest --preview` beside
a dead bot) and writable (the bot's next start), and every task is there once, as written.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.models import TASK_CLAIMED, TASK_DONE, Task
from bot.repos import Repos
from bot.store import STORE_META, Store
from tests.bot.reshard_writer import CLAIMED, CREATED, created_task

ROOT = Path(__file__).resolve().parents[2]
SHARDS, SPREAD = 4, 64  # 41 tasks, bounds lowered to 2 and 1 a shard: 4 doubled to 64
BEFORE_FLIP = ["write:1", "write:5", "sync:1", "meta:1", "in-meta"]
AFTER_FLIP = ["remove:1", "remove:3", "never"]
UNREADABLE = b'"note":"unreadable"'


def stored_task(n: int) -> Task:
    return Task(
        id=f"t{n:04d}",
        key=f"cus_{n % 17}:checkin_30:{n}",
        kind="checkin_30",
        subscriber_id=f"cus_{n % 17}",
        due=date(2026, 6, 15),
        created_at=datetime(2026, 6, 15, 14, 0, tzinfo=UTC),
    )


def make_data(data: Path) -> list[Task]:
    tasks = [stored_task(n) for n in range(40)]
    with Store(data, shards=SHARDS) as store:
        repos = Repos.open(store)
        repos.tasks.create_many(tasks)
        store.table("tasks/02").insert({"note": "unreadable"})  # no id: kept, never shown
    return tasks


def run_writer(data: Path, when: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.bot.reshard_writer", str(data), when],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_every_task_once(repos: Repos, expected: dict[str, Task]) -> None:
    listed = [t.id for t in repos.tasks.all()]
    assert Counter(listed) == Counter(list(expected)), "a task lost or doubled"
    assert repos.tasks.count() == len(expected)
    for task_id, task in expected.items():
        assert repos.tasks.require(task_id).key == task.key
        assert repos.tasks.by_key(task.key).id == task_id
    for sid in {t.subscriber_id for t in expected.values()}:
        found = sorted(t.id for t in repos.tasks.for_subscriber(sid))
        assert found == sorted(i for i, t in expected.items() if t.subscriber_id == sid)


def files_in_use(data: Path, store: Store) -> list[Path]:
    return [data / f"{name}.json" for name in store.shard_names("tasks")]


def unreadable_copies(paths: list[Path]) -> int:
    return sum(p.read_bytes().count(UNREADABLE) for p in paths if p.exists())


@pytest.mark.parametrize("when", BEFORE_FLIP + AFTER_FLIP)
def test_a_spread_killed_at_any_step_opens_with_every_task_once(tmp_path, when):
    data = tmp_path / "data"
    expected = {t.id: t for t in make_data(data)}
    expected[CREATED] = created_task()

    proc = run_writer(data, when)
    if when == "never":
        assert proc.returncode == 0, proc.stderr
        assert f"count {len(expected)} shards {SPREAD}" in proc.stdout
    else:
        assert proc.returncode == -9, f"not killed ({when}): {proc.stdout} {proc.stderr}"
        kind, _, n = when.partition(":")
        steps = [line for line in proc.stdout.splitlines() if line.startswith(kind[:5])]
        if kind == "sync":
            assert steps == ["sync"]
        elif kind in ("write", "remove"):
            assert len(steps) == int(n), proc.stdout
    spread = when in AFTER_FLIP
    on_disk = {p.name for p in (data / "tasks").iterdir()}

    with Store(data, read_only=True) as store:  # a preview beside the dead bot: nothing removed
        assert store.shard_count("tasks") == (SPREAD if spread else SHARDS)
        repos = Repos.open(store)
        assert_every_task_once(repos, expected)
        assert repos.tasks.require(CLAIMED).status == TASK_CLAIMED
        assert unreadable_copies(files_in_use(data, store)) == 1
    assert {p.name for p in (data / "tasks").iterdir()} == on_disk

    with Store(data) as store:  # the bot's next start: the unfinished generation's files go
        in_use = files_in_use(data, store)
        assert {p.name for p in (data / "tasks").iterdir()} <= {p.name for p in in_use}
        assert unreadable_copies(in_use) == 1
        repos = Repos.open(store)
        assert_every_task_once(repos, expected)
        repos.tasks.mutate(CLAIMED, lambda t: setattr(t, "status", TASK_DONE))
        later = stored_task(99)
        repos.tasks.create(later)
        expected[later.id] = later
    meta = (data / STORE_META).read_text()
    assert (f'"tasks": {SPREAD}' in meta) is spread

    with Store(data) as store:
        repos = Repos.open(store)
        assert_every_task_once(repos, expected)
        assert repos.tasks.require(CLAIMED).status == TASK_DONE
