"""The signal journal: an append-only, group-committed log of deliveries, statuses and versions."""

from __future__ import annotations

import errno
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.repos import journal as journal_module
from bot.repos.journal import APPLIED, JOURNAL, LOG, PENDING, VERSIONS, Delivery, JournalRepo
from bot.store import Store

AT = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)


def delivery(n: int, **fields) -> Delivery:
    return Delivery(
        id=f"stripe:evt_{n}",
        source="stripe",
        type="invoice.payment_failed",
        received_at=AT,
        body=f'{{"id": "evt_{n}", "text": "caf\\u00e9 \\u2028 line"}}',
        **fields,
    )


def test_deliveries_statuses_and_versions_survive_a_reopen(tmp_path: Path):
    with Store(tmp_path / "data", shards=8) as store:
        journal = JournalRepo(store)
        assert journal.add(delivery(1, aliases=["shopify-event:9"]))
        assert journal.add(delivery(2))
        assert not journal.add(delivery(1))  # the same key
        assert not journal.add(delivery(3, aliases=["shopify-event:9"]))  # a known alias
        journal.set_status("stripe:evt_1", APPLIED, at=AT, subscriber_id="cus_1")
        journal.set_version("stripe:sub:sub_1", "2026-06-15T14:00:00+00:00", "cus_1")
        journal.commit()
    with Store(tmp_path / "data", shards=8) as store:
        journal = JournalRepo(store)
        assert journal.get("stripe:evt_1").status == APPLIED
        assert journal.get("stripe:evt_1").subscriber_id == "cus_1"
        assert journal.get("stripe:evt_1").body == delivery(1).body  # read back from the file
        assert [d.id for d in journal.with_status([PENDING])] == ["stripe:evt_2"]
        assert journal.version("stripe:sub:sub_1") == "2026-06-15T14:00:00+00:00"
        assert journal.owner("stripe:sub:sub_1") == "cus_1"
        assert not journal.add(delivery(1)) and not journal.add(
            delivery(4, aliases=["shopify-event:9"])
        )
        assert journal.counts() == {
            "stripe": {"applied": 1, "pending": 1, "last_received": "2026-06-15T14:00:00Z"}
        }


def test_concurrent_deliveries_share_fsyncs_and_each_is_stored_when_add_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real_fsync = os.fsync
    fsyncs: list[int] = []

    def slow_fsync(fd: int) -> None:
        fsyncs.append(fd)
        threading.Event().wait(0.03)  # a loaded disk: deliveries pile up behind each fsync
        real_fsync(fd)

    monkeypatch.setattr(journal_module.os, "fsync", slow_fsync)
    count, senders = 64, 8
    with Store(tmp_path / "data", shards=8) as store:
        journal = JournalRepo(store)
        path = tmp_path / "data" / LOG
        unstored: list[int] = []
        start = threading.Barrier(senders)

        def send(first: int) -> None:
            start.wait()
            for n in range(first, count, senders):
                assert journal.add(delivery(n))
                if f'"stripe:evt_{n}"'.encode() not in path.read_bytes():
                    unstored.append(n)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert unstored == []
    assert len(fsyncs) <= count // 2, f"{len(fsyncs)} fsyncs for {count} deliveries"
    with Store(tmp_path / "data", shards=8) as store:
        assert len(JournalRepo(store).with_status([PENDING])) == count


def test_a_line_a_crash_cut_short_is_dropped_and_the_journal_goes_on(tmp_path: Path):
    with Store(tmp_path / "data", shards=8) as store:
        JournalRepo(store).add(delivery(1))
    path = tmp_path / "data" / LOG
    whole = path.read_bytes()
    path.write_bytes(whole + whole[: len(whole) // 2].replace(b"evt_1", b"evt_2"))
    with Store(tmp_path / "data", shards=8) as store:
        journal = JournalRepo(store)
        assert journal.get("stripe:evt_2") is None
        assert journal.add(delivery(2))  # the sender retries: taken
        assert journal.get("stripe:evt_1") is not None
    assert path.read_bytes().count(b"\n") == 2
    with Store(tmp_path / "data", shards=8) as store:
        assert {d.id for d in JournalRepo(store).with_status([PENDING])} == {
            "stripe:evt_1",
            "stripe:evt_2",
        }


def test_a_failed_write_stores_nothing_and_the_senders_retry_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real_write = os.write
    with Store(tmp_path / "data", shards=8) as store:
        journal = JournalRepo(store)
        journal.add(delivery(1))

        def full_disk(fd: int, data: bytes) -> int:
            real_write(fd, data[: len(data) // 2])  # part of it reached the file
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(journal_module.os, "write", full_disk)
        with pytest.raises(OSError, match="No space"):
            journal.add(delivery(2))
        assert journal.get("stripe:evt_2") is None
        monkeypatch.setattr(journal_module.os, "write", real_write)
        assert journal.add(delivery(2))
        journal.set_status("stripe:evt_2", APPLIED, at=AT)
        journal.commit()
        assert journal.get("stripe:evt_2").body == delivery(2).body
    with Store(tmp_path / "data", shards=8) as store:
        journal = JournalRepo(store)
        assert journal.get("stripe:evt_2").status == APPLIED
        assert journal.get("stripe:evt_1").status == PENDING


def test_deliveries_and_versions_in_the_sharded_files_of_older_versions_are_read(tmp_path: Path):
    with Store(tmp_path / "data", shards=8) as store:
        store.shard_table(JOURNAL, "stripe:evt_1").insert(delivery(1).to_doc())
        store.shard_table(VERSIONS, "stripe:sub:sub_1").insert(
            {"id": "stripe:sub:sub_1", "at": "2026-06-15T13:00:00+00:00", "owner": "cus_1"}
        )
    with Store(tmp_path / "data", shards=8) as store:
        journal = JournalRepo(store)
        assert not journal.add(delivery(1))
        assert journal.owner("stripe:sub:sub_1") == "cus_1"
        journal.set_status("stripe:evt_1", APPLIED, at=AT)
        journal.set_version("stripe:sub:sub_1", "2026-06-15T14:00:00+00:00", "cus_1")
        journal.commit()
    with Store(tmp_path / "data", shards=8) as store:
        journal = JournalRepo(store)
        assert journal.get("stripe:evt_1").status == APPLIED
        assert journal.get("stripe:evt_1").body == delivery(1).body
        assert journal.version("stripe:sub:sub_1") == "2026-06-15T14:00:00+00:00"


def test_a_read_only_open_sees_the_journal_and_writes_nothing(tmp_path: Path):
    with Store(tmp_path / "data", shards=8) as store:
        JournalRepo(store).add(delivery(1))
    path = tmp_path / "data" / LOG
    path.write_bytes(path.read_bytes() + b'{"d": {"id"')  # an unfinished line
    before = path.read_bytes()
    with Store(tmp_path / "data", read_only=True) as store:
        journal = JournalRepo(store)
        assert journal.counts()["stripe"]["pending"] == 1
        with pytest.raises(Exception, match="read-only"):
            journal.add(delivery(2))
    assert path.read_bytes() == before
