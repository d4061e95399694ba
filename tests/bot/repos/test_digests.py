"""Digest records: a small header per day, one document per message, found by its ts; a
task's Slack link derived from the posted messages that list it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.models import Task
from bot.repos import Repos
from bot.repos.digests import KEEP_LINK_DAYS, MESSAGES_PER_SHARD, DigestMessage, DigestRecord
from bot.store import DEFAULT_SHARDS, Store, raw_docs
from tests.bot.repos.factories import task

DAY = date(2026, 6, 15)
AT = datetime(2026, 6, 15, 13, 0, tzinfo=UTC)


def _day(repos, count: int) -> list[DigestMessage]:
    messages = [
        DigestMessage(date=DAY, index=i, kind="checkin_30", entries=[[f"t{i:04d}"]])
        for i in range(count)
    ]
    repos.digests.save_messages(messages)
    repos.digests.save(DigestRecord(date=DAY, channel="C1", created_at=AT, message_count=count))
    return messages


def test_messages_come_back_in_thread_order_and_by_their_ts(repos):
    messages = _day(repos, 40)
    messages[7].ts, messages[7].kind = "1781528400.000700", "churn_risk"
    repos.digests.save_message(messages[7])

    assert [m.index for m in repos.digests.messages(DAY)] == list(range(40))
    found = repos.digests.message_at("1781528400.000700")
    assert found is not None and (found.index, found.task_ids, found.kind) == (
        7,
        ["t0007"],
        "churn_risk",
    )
    assert repos.digests.message_at("1781528400.999999") is None
    assert repos.digests.get(DAY).message_count == 40 == repos.digests.count()


def test_posting_one_message_writes_one_small_shard_whatever_the_digest_holds(
    tmp_path, monkeypatch
):
    store = Store(tmp_path / "data", shards=DEFAULT_SHARDS)
    repos = Repos.open(store)
    messages = _day(repos, 400)
    tables = []
    for shard in repos.digests._shards:  # noqa: SLF001 - which files a post rewrites
        real = shard._update_table  # noqa: SLF001

        def spy(change, shard=shard, real=real):  # noqa: ANN001, ANN202
            tables.append(shard)
            return real(change)

        monkeypatch.setattr(shard, "_update_table", spy)
    messages[399].ts = "1781528400.039900"

    repos.digests.save_message(messages[399])

    assert len(tables) == 1
    assert len(raw_docs(tables[0])) <= MESSAGES_PER_SHARD
    store.close()


def test_a_header_with_its_messages_inside_is_split_on_first_read(repos):
    repos.digests._table.insert(  # noqa: SLF001 - a record as the previous version wrote it
        {
            "date": DAY.isoformat(),
            "channel": "C1",
            "created_at": AT.isoformat(),
            "status": "posted",
            "parent_ts": "1.0",
            "messages": [
                {"kind": "churn_risk", "entries": [["a1b2c"]], "first_of_kind": True, "ts": "2.0"},
                {"kind": "checkin_30", "entries": [["d3e4f", "g5h6i"]], "ts": "3.0"},
            ],
        }
    )

    record = repos.digests.get(DAY)

    assert record.message_count == 2 and record.parent_ts == "1.0"
    assert [m.kind for m in repos.digests.messages(DAY)] == ["churn_risk", "checkin_30"]
    assert repos.digests.message_at("3.0").task_ids == ["d3e4f", "g5h6i"]


# -- where each task is shown: derived from the posted messages, never written into the task --

DAY2 = date(2026, 6, 16)


def _post(repos, day: date, index: int, ts: str, *entries: list[str], parent: str = "") -> None:
    """Store `day`'s header (with its parent's ts) and its message `index`, posted as `ts`."""
    record = repos.digests.get(day) or DigestRecord(date=day, channel="C1", created_at=AT)
    record.parent_ts = parent or f"{ts}-parent"
    record.message_count = max(record.message_count, index + 1)
    repos.digests.save(record)
    message = DigestMessage(date=day, index=index, kind="checkin_30", entries=list(entries))
    repos.digests.save_message(message)  # planned: not posted, links nothing
    message.ts = ts
    repos.digests.save_message(message)


def _link(repos, task_id: str) -> tuple[dict[str, str], date | None]:
    stored = repos.tasks.require(task_id)
    return stored.slack, stored.digest_date


def test_a_posted_message_links_its_tasks_and_the_latest_digest_keeps_them(repos):
    for tid, sid in (("aaaaa", "cus_1"), ("bbbbb", "cus_1"), ("ccccc", "cus_2")):
        repos.tasks.create(task(tid, sid, key=f"{sid}:{tid}"))
    planned = DigestMessage(date=DAY, index=0, kind="checkin_30", entries=[["aaaaa", "bbbbb"]])
    repos.digests.save_messages([planned])
    assert _link(repos, "aaaaa") == ({}, None)  # planned, not posted yet

    _post(repos, DAY, 0, "2.0", ["aaaaa", "bbbbb"], ["ccccc"], parent="1.0")
    assert _link(repos, "aaaaa") == ({"channel": "C1", "ts": "2.0", "thread_ts": "1.0"}, DAY)
    assert repos.tasks.for_subscriber("cus_2")[0].slack["ts"] == "2.0"

    _post(repos, DAY2, 0, "9.0", ["ccccc"], parent="8.0")  # carried over the next day
    _post(repos, DAY, 1, "3.0", ["ccccc"], parent="1.0")  # an old day posted late: no steal
    assert _link(repos, "ccccc") == ({"channel": "C1", "ts": "9.0", "thread_ts": "8.0"}, DAY2)
    assert _link(repos, "bbbbb")[0]["ts"] == "2.0"
    loaded = {t.id: t.slack["ts"] for t in repos.tasks.load(repos.tasks.raw())}
    assert loaded == {"aaaaa": "2.0", "bbbbb": "2.0", "ccccc": "9.0"}


def test_links_are_read_back_from_the_files_after_a_restart(tmp_path):
    store = Store(tmp_path / "data", shards=8)
    repos = Repos.open(store)
    repos.tasks.create(task("aaaaa", "cus_1"))
    _post(repos, DAY, 0, "2.0", ["aaaaa"], parent="1.0")
    _post(repos, DAY2, 3, "7.0", ["aaaaa"], parent="6.0")
    store.close()

    store = Store(tmp_path / "data", shards=8)
    reopened = Repos.open(store)
    assert _link(reopened, "aaaaa") == ({"channel": "C1", "ts": "7.0", "thread_ts": "6.0"}, DAY2)
    store.close()


def test_a_post_writes_no_task_and_a_task_write_keeps_the_link_out_of_its_document(repos):
    repos.tasks.create(task("aaaaa", "cus_1"))
    written = []
    repos.tasks.changes.add(written.append)
    _post(repos, DAY, 0, "2.0", ["aaaaa"], parent="1.0")
    assert written == []  # no task was written

    claimed, _ = repos.tasks.mutate("aaaaa", lambda t: setattr(t, "claimed_by", "U1"))

    assert claimed.slack["ts"] == "2.0" and claimed.digest_date == DAY
    stored = [d for d in repos.tasks.raw() if d["id"] == "aaaaa"][0]
    assert stored["claimed_by"] == "U1" and "slack" not in stored and "digest_date" not in stored


def test_a_task_linked_by_an_earlier_version_reads_its_stored_link_until_a_later_post(repos):
    """Stores written before links were derived carry `slack` in the task: read as it is."""
    old = {"channel": "C1", "ts": "0.5", "thread_ts": "0.1"}

    def linked_the_old_way(t: Task) -> None:
        t.slack, t.digest_date = dict(old), DAY

    repos.tasks.create(task("aaaaa", "cus_1"))
    repos.tasks.mutate("aaaaa", linked_the_old_way)
    assert _link(repos, "aaaaa") == (old, DAY)
    repos.tasks.mutate("aaaaa", lambda t: setattr(t, "claimed_by", "U1"))
    assert _link(repos, "aaaaa") == (old, DAY)  # a later write keeps it

    _post(repos, DAY2, 0, "9.0", ["aaaaa"], parent="8.0")
    assert _link(repos, "aaaaa") == ({"channel": "C1", "ts": "9.0", "thread_ts": "8.0"}, DAY2)


def test_links_reported_to_listeners_and_dropped_with_an_undone_transaction(tmp_path):
    store = Store(tmp_path / "data", shards=8)
    repos = Repos.open(store)
    repos.tasks.create(task("aaaaa", "cus_1"))
    heard: list = []
    repos.digests.linked.add(lambda ids: heard.append(None if ids is None else sorted(ids)))
    _post(repos, DAY, 0, "2.0", ["aaaaa"], parent="1.0")
    assert heard == [["aaaaa"]]

    with pytest.raises(RuntimeError), store.transaction({"action": "test"}):
        _post(repos, DAY2, 0, "9.0", ["aaaaa"], parent="8.0")
        assert _link(repos, "aaaaa")[0]["ts"] == "9.0"
        raise RuntimeError("killed half-way")

    assert heard[-1] is None  # anything may have changed: listeners rank again
    assert _link(repos, "aaaaa") == ({"channel": "C1", "ts": "2.0", "thread_ts": "1.0"}, DAY)
    store.close()


def test_the_link_index_keeps_half_a_year_of_digests_and_every_open_tasks_link(tmp_path):
    # It held one entry per task ever posted. A task still open is carried into every digest;
    # one last listed over KEEP_LINK_DAYS before the newest digest is long closed.
    first = DAY - timedelta(days=399)
    store = Store(tmp_path / "data", shards=8)
    repos = Repos.open(store)
    repos.tasks.create(task("opn00", "cus_open", key="cus_open:checkin_30"))
    for n in range(400):  # a digest a day, each listing a task of its own, for 400 days
        day = first + timedelta(days=n)
        repos.tasks.create(task(f"t{n:04d}", f"cus_{n}", key=f"cus_{n}:checkin_30"))
        listed = [f"t{n:04d}"] + (["opn00"] if n in (0, 399) else [])
        _post(repos, day, 0, f"{n}.5", listed, parent=f"{n}.1")
    kept_from = 399 - KEEP_LINK_DAYS

    def links(reopened) -> dict[str, str]:  # noqa: ANN001
        return {t.id: t.slack.get("ts", "") for t in reopened.tasks.load(reopened.tasks.raw())}

    for _ in range(2):  # as the bot ran, and after a restart
        shown = links(repos)
        assert shown["opn00"] == "399.5"  # carried into the newest digest: linked there
        assert shown[f"t{kept_from:04d}"] == f"{kept_from}.5" and shown["t0399"] == "399.5"
        assert sorted(tid for tid, ts in shown.items() if not ts) == [
            f"t{n:04d}" for n in range(kept_from)
        ]
        store.close()
        store = Store(tmp_path / "data", shards=8)
        repos = Repos.open(store)
    store.close()
