"""Store transactions: several files written as one, undone on error, completed after a kill."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
        assert not (store.data_dir / "journal.json").exists()
        store.close()
        reopened = Repos.open(Store(store.data_dir, shards=8))
        assert reopened.tasks.require("t1").status == "done"
        assert reopened.outreach.count() == 1
        reopened.store.close()


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


def _pending_journal(data: Path) -> None:
    """What a process killed after writing the journal leaves: the journal, old files."""
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        repos.subscribers.put(subscriber("cus_1"))
        repos.tasks.create(task("t1"))
        journal = store.journal
        assert journal is not None
        real_flush = journal.flush
        journal.flush = lambda: None  # type: ignore[method-assign]  # "killed" before applying
        _log_like(repos)
        journal.flush = real_flush  # type: ignore[method-assign]
        journal._unapplied = None  # noqa: SLF001  # the process is gone: nothing to apply later
    assert (data / "journal.json").exists()


def test_a_pending_journal_is_read_by_read_only_opens_and_applied_by_the_next_writer(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    _pending_journal(data)
    with Store(data, read_only=True, shards=8) as store:
        repos = Repos.open(store)
        assert repos.tasks.require("t1").status == "done" and repos.outreach.count() == 1
    assert (data / "journal.json").exists()  # a reader changes nothing
    with Store(data, shards=8) as store:
        assert store.recovered == {"action": "log", "tasks": ["t1"]}
        assert not (data / "journal.json").exists()
    with Store(data, read_only=True, shards=8) as store:
        repos = Repos.open(store)
        assert repos.tasks.require("t1").status == "done" and repos.outreach.count() == 1


def test_an_unreadable_journal_stops_the_open_and_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "journal.json").write_text(json.dumps({"format": 1, "files": []}))
    with pytest.raises(CorruptDataError, match="journal.json"):
        Store(data, shards=8)
    assert (data / "journal.json").exists()
