"""The signal journal: an append-only, group-committed log of deliveries, statuses and versions."""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import datafile
from bot.repos import journal as journal_module
from bot.repos import journal_retention
from bot.repos.journal import (
    APPLIED,
    FAILED,
    IGNORED,
    JOURNAL,
    LOG,
    PENDING,
    VERSIONS,
    WAITING,
    Delivery,
    JournalRepo,
)
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


def received(n: int, at: datetime) -> Delivery:
    return msgspec.structs.replace(delivery(n), received_at=at)


def _old_and_new_journal(data: Path) -> None:
    """Forty deliveries applied two months ago, old ones still unfinished, the only delivery
    of a second source, one applied today, and a version."""
    with Store(data, shards=8) as store:
        journal = JournalRepo(store)
        long_ago = AT - timedelta(days=60)
        for n in range(40):
            assert journal.add(received(n, long_ago + timedelta(minutes=n)))
            journal.set_status(f"stripe:evt_{n}", APPLIED, at=long_ago, subscriber_id="cus_1")
        assert journal.add(received(100, long_ago))  # never applied: pending
        assert journal.add(received(101, long_ago))
        journal.set_status("stripe:evt_101", WAITING, wait_for="cus_unknown")
        only = received(0, long_ago - timedelta(days=5))
        assert journal.add(msgspec.structs.replace(only, id="chargebee:ev_1", source="chargebee"))
        journal.set_status("chargebee:ev_1", APPLIED, at=long_ago)
        assert journal.add(delivery(200, aliases=["shopify-event:7"]))
        journal.set_status("stripe:evt_200", APPLIED, at=AT, subscriber_id="cus_2")
        journal.set_version("stripe:sub:sub_1", "2026-04-15T14:00:00+00:00", "cus_1")
        journal.commit()


def test_a_start_drops_deliveries_finished_long_ago_and_keeps_what_is_still_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(journal_retention, "MIN_BYTES", 0)  # a small log, compacted all the same
    data = tmp_path / "data"
    _old_and_new_journal(data)
    before = (data / LOG).stat().st_size

    with Store(data, shards=8) as store:
        journal = JournalRepo(store)
        assert journal.get("stripe:evt_3") is None  # applied two months ago: gone
        assert journal.get("stripe:evt_100").status == PENDING  # unfinished: kept, with its body
        assert journal.get("stripe:evt_100").body == delivery(100).body
        waiting = journal.get("stripe:evt_101")
        assert (waiting.status, waiting.wait_for) == (WAITING, "cus_unknown")
        recent = journal.get("stripe:evt_200")
        assert (recent.status, recent.subscriber_id) == (APPLIED, "cus_2")
        assert recent.body == delivery(200).body  # read back from the compacted log
        assert journal.version("stripe:sub:sub_1") == "2026-04-15T14:00:00+00:00"
        assert journal.owner("stripe:sub:sub_1") == "cus_1"
        assert journal.counts()["chargebee"]["last_received"] == "2026-04-11T14:00:00Z"
        assert not journal.add(delivery(200)) and not journal.add(
            delivery(201, aliases=["shopify-event:7"])
        )  # a retry of what is kept is still refused
        journal.commit()
    after = (data / LOG).read_bytes()
    assert len(after) < before / 4
    with Store(data, shards=8) as store:  # nothing more to drop: the next start leaves it
        assert JournalRepo(store).get("stripe:evt_201") is None
    assert (data / LOG).read_bytes() == after


def test_a_compaction_cut_short_leaves_the_whole_log_and_the_next_start_compacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(journal_retention, "MIN_BYTES", 0)
    data = tmp_path / "data"
    _old_and_new_journal(data)
    whole = (data / LOG).read_bytes()
    real_replace = os.replace

    def killed(src: str, dst: str) -> None:  # the process dies after writing, before renaming
        raise OSError(errno.EIO, "killed")

    monkeypatch.setattr(datafile.os, "replace", killed)
    (data / f".{LOG}.left-by-a-kill.tmp").write_bytes(b"half a log")
    with Store(data, shards=8) as store:
        journal = JournalRepo(store)
        assert journal.get("stripe:evt_3").status == APPLIED  # nothing lost
        assert journal.get("stripe:evt_3").body == delivery(3).body
    assert (data / LOG).read_bytes() == whole
    assert not list(data.glob(f".{LOG}.*.tmp"))  # neither the kill's leftovers nor its own

    monkeypatch.setattr(datafile.os, "replace", real_replace)
    with Store(data, shards=8) as store:
        assert JournalRepo(store).get("stripe:evt_3") is None
    assert len((data / LOG).read_bytes()) < len(whole) / 4


def test_a_log_mostly_of_recent_deliveries_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(journal_retention, "MIN_BYTES", 0)
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        journal = JournalRepo(store)
        for n in range(10):
            assert journal.add(received(n, AT - timedelta(days=n)))
            journal.set_status(f"stripe:evt_{n}", APPLIED, at=AT)
        journal.commit()
    whole = (data / LOG).read_bytes()
    with Store(data, shards=8) as store:
        assert JournalRepo(store).get("stripe:evt_9").status == APPLIED
    assert (data / LOG).read_bytes() == whole


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["stripe", "chargebee", "shopify"]),
            st.integers(0, 90 * 24),  # hours before AT
            st.sampled_from([PENDING, APPLIED, IGNORED, FAILED, WAITING]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_after_a_compaction_every_kept_delivery_reads_as_before_and_only_old_finished_go(
    sent: list[tuple[str, int, str]],
):
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(journal_retention, "MIN_BYTES", 0)
        data = Path(tmp) / "data"
        with Store(data, shards=8) as store:
            journal = JournalRepo(store)
            for n, (source, hours, status) in enumerate(sent):
                key = f"{source}:ev_{n}"
                at = AT - timedelta(hours=hours)
                journal.add(msgspec.structs.replace(received(n, at), id=key, source=source))
                if status != PENDING:
                    journal.set_status(key, status, at=at, note=f"note {n}")
            journal.commit()
            before = {key: journal.get(key) for key in journal._state()}  # noqa: SLF001
        newest = AT - timedelta(hours=min(hours for _, hours, _ in sent))
        last_of = {}
        for key, d in sorted(before.items(), key=lambda kv: (kv[1].received_at, kv[0])):
            last_of[d.source] = key
        with Store(data, shards=8) as store:
            journal = JournalRepo(store)
            for key, was in before.items():
                may_go = (
                    was.status in (APPLIED, IGNORED)
                    and was.received_at < newest - timedelta(days=journal_retention.KEEP_DAYS)
                    and last_of[was.source] != key
                )
                now = journal.get(key)
                assert now == was or (now is None and may_go)
