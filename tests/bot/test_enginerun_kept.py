"""The engine run's shard files are kept as the bot first writes each after the run.

`bot.enginerun` compares a shard file written since the run with the run's version of it,
which the store hard-links into `engine_run.files.*` when it first replaces the file
(`bot.datafile.keep_on_replace`), in this process or in the bot started again; a version some
other writer made is never kept as the run's (its file is compared by shard alone).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from bot import enginerun
from bot.clock import FixedClock
from bot.engine import run_engine
from bot.repos import Repos
from bot.store import Store
from config import load_settings
from tests.bot.builders import TODAY, at_noon, member


def _claim(repos: Repos, sid: str) -> None:
    task = repos.tasks.for_subscriber(sid)[0].id
    repos.tasks.mutate(task, lambda t: setattr(t, "status", "claimed"))


def _kept(data: Path) -> dict[str, str]:
    """The files kept for the run (name -> identity) and the run's record of them."""
    (kept,) = data.glob(f"{enginerun.KEPT}.*")
    found = {}
    for path in kept.rglob("*.json"):
        st = path.stat()
        found[str(path.relative_to(kept))] = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    return found


def _recorded(data: Path) -> dict[str, str]:
    files: dict[str, str] = json.loads((data / enginerun.RECORD).read_text())["files"]
    return files


def _run(data: Path) -> tuple[Store, Repos]:
    store = Store(data, shards=4)
    repos = Repos.open(store)
    repos.subscribers.put_many([member(f"cus_{n:02d}", tenure=30, amount=30.0) for n in range(40)])
    config = load_settings({"CARE_DATA_DIR": str(data)}, dotenv=False)
    run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
    return store, repos


def _task_shard(store: Store, sid: str) -> str:
    path: Path = store.shard_table("tasks", sid).storage.path  # type: ignore[attr-defined]
    assert store.data_dir is not None
    return str(path.relative_to(store.data_dir))


def test_a_shard_file_is_kept_as_the_run_left_it_when_first_written_and_only_then():
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        store, repos = _run(data)
        config = load_settings({"CARE_DATA_DIR": str(data)}, dotenv=False)
        assert _kept(data) == {}  # the run links nothing
        name = _task_shard(store, "cus_12")
        _claim(repos, "cus_12")
        assert _kept(data) == {name: _recorded(data)[name]}  # the run's version of it
        others = [s for s in (f"cus_{n:02d}" for n in range(40)) if _task_shard(store, s) == name]
        _claim(repos, next(s for s in others if s != "cus_12"))  # the same file again
        assert _kept(data) == {name: _recorded(data)[name]}
        written = enginerun.written_since(store, TODAY, config)
        assert written is not None and not written.files
        assert "cus_12" in written.subscribers and len(written.subscribers) == 2
        store.close()

        # The bot started again goes on keeping the files still as the run left them.
        with Store(data) as store:
            repos = Repos.open(store)
            enginerun.resume_keeping(store)
            other = next(s for s in (f"cus_{n:02d}" for n in range(40)) if s not in others)
            _claim(repos, other)
            second = _task_shard(store, other)
            assert set(_kept(data)) == {name, second}
            assert _kept(data)[second] == _recorded(data)[second]
            written = enginerun.written_since(store, TODAY, config)
            assert written is not None and not written.files
            assert other in written.subscribers


def test_a_version_another_writer_made_is_not_kept_as_the_runs():
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        store, repos = _run(data)
        config = load_settings({"CARE_DATA_DIR": str(data)}, dotenv=False)
        name = _task_shard(store, "cus_12")
        live = data / name
        copy = live.with_name(".copy")  # another writer replaces the file, same content
        copy.write_bytes(live.read_bytes())
        os.replace(copy, live)
        _claim(repos, "cus_12")
        assert _kept(data) == {}  # the run's version is gone: nothing to keep
        written = enginerun.written_since(store, TODAY, config)
        assert written is not None and written.files == {live}  # compared by shard alone
        store.close()


def test_the_next_run_links_nothing_for_the_run_it_replaces(monkeypatch):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        store, repos = _run(data)
        config = load_settings({"CARE_DATA_DIR": str(data)}, dotenv=False)
        repos.subscribers.put_many(  # due tomorrow: the next run writes their task shards
            [member(f"new_{n:02d}", tenure=29, amount=30.0) for n in range(20)]
        )
        before = {p: p.stat().st_ino for p in (data / "tasks").glob("*.json")}
        links: list[str] = []
        real_link = os.link
        monkeypatch.setattr(
            os, "link", lambda src, dst: links.append(str(dst)) or real_link(src, dst)
        )
        tomorrow = TODAY + timedelta(days=1)
        run_engine(tomorrow, repos, config, FixedClock(at_noon(tomorrow)))
        written = [p for p, ino in before.items() if p.stat().st_ino != ino]
        assert written  # the run wrote task shards, and kept none of them for the old run
        assert links == []
        assert enginerun.ran_today(store, tomorrow, config)
        _claim(repos, "new_03")  # the new run's files are kept as they are written
        assert len(links) == 1 and _kept(data) == {
            _task_shard(store, "new_03"): _recorded(data)[_task_shard(store, "new_03")]
        }
        store.close()
