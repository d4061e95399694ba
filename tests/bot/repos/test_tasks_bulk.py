"""TaskRepo.mutate_many: many task changes with one write per shard (the engine's bulk expiry)."""

from __future__ import annotations

import pytest

from bot.repos.tasks import SkipTask
from bot.store import Store
from tests.bot.repos.factories import task


def test_mutate_many_changes_every_task_and_skips_on_request(repos):
    repos.tasks.create_many(
        [task(f"t{n}", sid=f"cus_{n}", key=f"cus_{n}:checkin_30") for n in range(6)]
    )

    def expire(t):
        if t.id == "t3":
            raise SkipTask
        t.status = "expired"

    written = repos.tasks.mutate_many(["t0", "t1", "t2", "t3", "t4", "t5", "nope"], expire)
    assert sorted(t.id for t in written) == ["t0", "t1", "t2", "t4", "t5"]
    statuses = {t.id: t.status for t in repos.tasks.all()}
    assert statuses == {"t0": "expired", "t1": "expired", "t2": "expired", "t3": "open",
                        "t4": "expired", "t5": "expired"}  # fmt: skip


def test_mutate_many_writes_each_shard_file_once(tmp_path, monkeypatch):
    import bot.repos.tasks as tasks_module
    from bot.repos import Repos

    with Store(tmp_path / "data", shards=2) as store:
        repos = Repos.open(store)
        repos.tasks.create_many([task(f"t{n}", sid=f"cus_{n}", key=f"k{n}") for n in range(20)])
        writes = []
        real = tasks_module.write_docs
        monkeypatch.setattr(
            tasks_module,
            "write_docs",
            lambda table, changes: (writes.append(id(table)), real(table, changes)),
        )

        def done(t):
            t.status = "done"

        repos.tasks.mutate_many([f"t{n}" for n in range(20)], done)
        assert 1 <= len(writes) == len(set(writes)) <= 2  # one write per shard touched
    with Store(tmp_path / "data", shards=2, read_only=True) as store:
        assert {t.status for t in Repos.open(store).tasks.all()} == {"done"}


def test_mutate_many_refuses_to_change_an_id(repos):
    repos.tasks.create(task("t1"))

    def rename(t):
        t.id = "t2"

    with pytest.raises(ValueError):
        repos.tasks.mutate_many(["t1"], rename)
    assert repos.tasks.get("t1") is not None
