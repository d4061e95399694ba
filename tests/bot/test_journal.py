"""Store transactions: several files written as one, undone on error, completed after a kill."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from bot import datafile
from bot import journal as journal_module
from bot.repos import Repos
from bot.store import CorruptDataError, Store
from tests.bot.repos.factories import outreach, subscriber, task


def _log_like(repos: Repos, fail: bool = False) -> None:
    """What a log does: an outreach and a task change, in one transaction."""
    with repos.store.transaction({"action": "log", "tasks": ["t1"]}):
        repos.outreach.add(outreach("cus_1", "t1", 1))
        repos.tasks.mutate("t1", lambda t: setattr(t, "status", "done"))
        if fail:
            raise RuntimeError("boom")


def test_a_transaction_writes_every_file_and_leaves_no_journal(store: Store) -> None:
    repos = Repos.open(store)
    repos.tasks.create(task("t1"))
    _log_like(repos)
    assert repos.tasks.require("t1").status == "done" and repos.outreach.count() == 1
    if store.data_dir is not None:
        store.close()
        assert not (store.data_dir / "journal.log").exists()  # checkpointed and removed
        reopened = Repos.open(Store(store.data_dir, shards=8))
        assert reopened.store.recovered is None
        assert reopened.tasks.require("t1").status == "done"
        assert reopened.outreach.count() == 1
        reopened.store.close()


def test_a_transaction_costs_one_fsync_of_the_log(
    file_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos = Repos.open(file_store)
    repos.tasks.create(task("t1"))
    _log_like(repos)  # the log exists from here on
    synced: list[int] = []
    for name in ("fsync", "fdatasync"):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda fd, real=real: synced.append(fd) or real(fd))
    with repos.store.transaction({"action": "log", "tasks": ["t1"]}):
        repos.outreach.add(outreach("cus_1", "t1", 2))
        repos.tasks.mutate("t1", lambda t: setattr(t, "reason", "again"))
    assert len(synced) == 1
    assert (file_store.data_dir / "journal.log").stat().st_size > 0  # type: ignore[operator]


def test_a_transaction_that_raises_leaves_files_and_indexes_as_they_were(
    file_store: Store,
) -> None:
    repos = Repos.open(file_store)
    repos.tasks.create(task("t1"))
    with pytest.raises(RuntimeError, match="boom"):
        _log_like(repos, fail=True)
    assert repos.tasks.require("t1").status == "open"
    assert repos.outreach.count() == 0 and repos.outreach.for_subscriber("cus_1") == []
    _log_like(repos)  # and the same change goes through afterwards
    assert repos.outreach.count() == 1


def _killed(store: Store) -> None:
    """End `store` as a SIGKILL would: no checkpoint, no close; only the locks go."""
    journal = store.journal
    assert journal is not None
    if journal._fd is not None:  # noqa: SLF001
        os.close(journal._fd)  # noqa: SLF001
    assert store._file_lock is not None  # noqa: SLF001
    store._file_lock.release()  # noqa: SLF001


def _committed(data: Path, *, written: bool) -> None:
    """A process killed after a log's commit: before its files were written, or after."""
    store = Store(data, shards=8)
    repos = Repos.open(store)
    repos.subscribers.put(subscriber("cus_1"))
    repos.tasks.create(task("t1"))
    journal = store.journal
    assert journal is not None
    if not written:
        journal.flush = lambda: None  # type: ignore[method-assign]  # killed before the files
    _log_like(repos)
    _killed(store)
    assert (data / "journal.log").stat().st_size > 0


def test_a_commit_killed_before_its_files_is_read_by_readers_and_replayed_by_the_next_writer(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    _committed(data, written=False)
    shard = next((data / "tasks").glob("*.json")).read_text()
    assert '"status":"done"' not in shard  # the file itself is as before the log
    with Store(data, read_only=True, shards=8) as store:
        repos = Repos.open(store)
        assert repos.tasks.require("t1").status == "done" and repos.outreach.count() == 1
    assert (data / "journal.log").stat().st_size > 0  # a reader changes nothing
    with Store(data, shards=8) as store:
        assert store.recovered == {"action": "log", "tasks": ["t1"]}  # Slack must catch up
        assert not (data / "journal.log").exists()
    with Store(data, read_only=True, shards=8) as store:
        repos = Repos.open(store)
        assert repos.tasks.require("t1").status == "done" and repos.outreach.count() == 1


def test_a_commit_killed_after_its_files_is_replayed_without_reporting_it_interrupted(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    _committed(data, written=True)
    with Store(data, shards=8) as store:
        assert store.recovered is None  # it finished: its Slack edits were made
        repos = Repos.open(store)
        assert repos.tasks.require("t1").status == "done" and repos.outreach.count() == 1


def test_a_torn_last_record_is_dropped_and_the_records_before_it_are_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _committed(data, written=False)
    whole = (data / "journal.log").read_bytes()
    with (data / "journal.log").open("ab") as fh:  # a second commit, killed half-way
        fh.write(whole[: len(whole) // 2])
    with Store(data, shards=8) as store:
        assert store.recovered == {"action": "log", "tasks": ["t1"]}
        assert Repos.open(store).outreach.count() == 1


def test_a_record_unreadable_before_the_last_stops_the_open_and_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _committed(data, written=False)
    whole = (data / "journal.log").read_bytes()
    broken = whole[:40] + b"X" + whole[41:]  # a flipped byte: the CRC says so
    (data / "journal.log").write_bytes(broken + whole)
    with pytest.raises(CorruptDataError, match="journal.log"):
        Store(data, shards=8)
    assert (data / "journal.log").read_bytes() == broken + whole


def test_a_file_the_log_covers_is_written_through_it_outside_a_transaction_too(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    store = Store(data, shards=8)
    repos = Repos.open(store)
    repos.tasks.create(task("t1"))
    _log_like(repos)  # tasks/NN.json is in the log now
    repos.tasks.mutate("t1", lambda t: setattr(t, "reason", "newer"))  # no transaction
    shard = next(data.glob("tasks/*.json"))
    datafile.atomic_write(shard, b'{"_default":{}}')  # the file lost its newest write
    _killed(store)
    with Store(data, shards=8) as store:
        assert Repos.open(store).tasks.require("t1").reason == "newer"


def test_a_log_past_its_bound_is_checkpointed_in_the_background_while_commits_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    store = Store(data, shards=8)
    repos = Repos.open(store)
    repos.tasks.create(task("t1"))
    journal = store.journal
    assert journal is not None
    _log_like(repos)
    monkeypatch.setattr(journal_module, "CHECKPOINT_BYTES", journal.size * 2 + 1)
    started = threading.Event()
    synced: list[str] = []
    real_fsync_file = datafile.fsync_file

    def slow_fsync(path: Path) -> None:  # the background thread waits for the next commit
        started.wait(10)
        synced.append(path.parent.name)
        real_fsync_file(path)

    monkeypatch.setattr(datafile, "fsync_file", slow_fsync)
    for n in range(2):
        with repos.store.transaction({"action": "log", "tasks": ["t1"]}):
            repos.outreach.add(outreach("cus_1", "t1", n + 2))
    assert (data / "journal.old.log").exists()  # rotated, its files not durable yet
    with repos.store.transaction({"action": "log", "tasks": ["t1"]}):  # not waiting for them
        repos.outreach.add(outreach("cus_1", "t1", 9))
    assert (data / "journal.log").stat().st_size == journal.size > 0
    started.set()
    journal._join()  # noqa: SLF001
    assert not (data / "journal.old.log").exists()
    assert sorted(synced) == ["outreach", "tasks"]
    repos.tasks.mutate("t1", lambda t: setattr(t, "reason", "outside"))  # still in the new log
    _killed(store)
    with Store(data, shards=8) as store:
        reopened = Repos.open(store)
        assert reopened.outreach.count() == 4
        assert reopened.tasks.require("t1").reason == "outside"
    assert not (data / "journal.log").exists() and not (data / "journal.old.log").exists()


def test_a_start_replays_the_old_log_then_the_new_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _committed(data, written=False)  # t1 done, one outreach: in the log only
    (data / "journal.log").rename(data / "journal.old.log")  # rotated, then killed
    store = Store(data, shards=8)  # replays the old log
    repos = Repos.open(store)
    with repos.store.transaction({"action": "log", "tasks": ["t1"]}):
        repos.tasks.mutate("t1", lambda t: setattr(t, "reason", "newer"))
    _killed(store)
    (data / "journal.log").rename(data / "journal.keep")
    _committed(data2 := tmp_path / "data2", written=False)
    (data2 / "journal.log").rename(data2 / "journal.old.log")
    (data / "journal.keep").rename(data2 / "journal.log")  # an old log and a newer log
    with Store(data2, shards=8) as store:
        assert store.recovered == {"action": "log", "tasks": ["t1"]}  # the newer record
        reopened = Repos.open(store)
        assert reopened.tasks.require("t1").reason == "newer"  # the newer log wins
        assert reopened.tasks.require("t1").status == "done" and reopened.outreach.count() == 1


def test_a_journal_json_of_an_older_version_is_completed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        Repos.open(store).tasks.create(task("t1"))
    shard = next(data.glob("tasks/*.json")).relative_to(data).with_suffix("").as_posix()
    done = task("t1")
    done.status = "done"
    files = {shard: {"_default": {"1": done.to_doc()}}}
    (data / "journal.json").write_text(
        json.dumps({"format": 1, "intent": {"a": 1}, "files": files})
    )
    with Store(data, shards=8) as store:
        assert store.recovered == {"a": 1}
        assert Repos.open(store).tasks.require("t1").status == "done"
    assert not (data / "journal.json").exists()


def test_an_unreadable_journal_stops_the_open_and_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "journal.json").write_text(json.dumps({"format": 1, "files": []}))
    with pytest.raises(CorruptDataError, match="journal.json"):
        Store(data, shards=8)
    assert (data / "journal.json").exists()
