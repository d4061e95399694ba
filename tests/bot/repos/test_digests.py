"""Digest records: a small header per day, one document per message, found by its ts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.repos import Repos
from bot.repos.digests import MESSAGES_PER_SHARD, DigestMessage, DigestRecord
from bot.store import DEFAULT_SHARDS, Store, raw_docs

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
