"""Sent mail: sharded by key, so one email's write is one small file; old directories moved."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.outbox.models import SentMail
from bot.repos.sent import NAME, SentMailRepo
from bot.store import Store

AT = datetime(2026, 6, 15, 14, tzinfo=UTC)


def mail(n: int, status: str = "sent", **fields) -> SentMail:
    return SentMail(
        key=f"techtouch:{n:05d}",
        message_id=f"<m{n}@care.example>",
        status=status,
        to=f"c{n}@example.com",
        subject="Checking in",
        by="care-bot",
        created_at=AT,
        **fields,
    )


def _written(data: Path, before: dict[Path, int]) -> list[Path]:
    now = {p: p.stat().st_mtime_ns for p in data.rglob("*.json")}
    return sorted(p for p, t in now.items() if before.get(p) != t)


def test_sending_one_email_rewrites_one_small_file_whatever_was_sent_before(tmp_path: Path):
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        repo = SentMailRepo(store)
        for n in range(400):
            repo.put(mail(n, item_id="item_7" if n % 100 == 0 else ""))
    with Store(data, shards=8) as store:
        repo = SentMailRepo(store)
        before = {p: p.stat().st_mtime_ns for p in data.rglob("*.json")}
        repo.put(mail(400, status="sending"))
        repo.change("techtouch:00400", lambda r: setattr(r, "status", "sent"))
        written = _written(data, before)
        assert len(written) == 1 and written[0].parent.name == NAME
        assert len(json.loads(written[0].read_text())["_default"]) < 100  # not all 401
        assert repo.get("techtouch:00400").status == "sent"
        assert repo.get("techtouch:00007").to == "c7@example.com"
        assert sorted(m.key for m in repo.for_item("item_7")) == [
            f"techtouch:{n:05d}" for n in (0, 100, 200, 300)
        ]
        assert len(repo.with_key_prefix("techtouch:")) == 401 and len(repo.all()) == 401


@pytest.mark.parametrize("kill", [False, True])
def test_a_directory_from_before_keeps_its_sent_mail_and_moves_it_at_the_first_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kill: bool
):
    data = tmp_path / "data"
    with Store(data, shards=8) as store:  # as earlier versions stored it: one table
        store.table(NAME).insert_multiple([mail(n).to_doc() for n in range(30)])
    if kill:  # killed while moving them: the transaction leaves them all where they were
        with Store(data, shards=8) as store:
            repo = SentMailRepo(store)
            monkeypatch.setattr(
                type(store.table(NAME)), "truncate", lambda self: (_ for _ in ()).throw(OSError)
            )
            with pytest.raises(OSError):
                repo.put(mail(30))
            monkeypatch.undo()
    with Store(data, shards=8, read_only=True) as store:  # read as they are
        repo = SentMailRepo(store)
        assert repo.get("techtouch:00003").to == "c3@example.com" and len(repo.all()) == 30
    with Store(data, shards=8) as store:
        repo = SentMailRepo(store)
        repo.put(mail(3, status="failed"))  # the first write moves them, then replaces
        assert len(repo.all()) == 30 and repo.get("techtouch:00003").status == "failed"
    assert json.loads((data / f"{NAME}.json").read_text())["_default"] == {}
    with Store(data, shards=8) as store:
        repo = SentMailRepo(store)
        assert len(repo.all()) == 30 and repo.get("techtouch:00003").status == "failed"
        assert repo.get("techtouch:00029").status == "sent"
