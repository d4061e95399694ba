"""A stored document that cannot be read (hand-edited, or written by an old bug) is skipped by
every reader with one logged error naming its file, doc id and record id; the rest loads, and
the document is left in its file untouched."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.digest import plan_digest
from bot.engine import run_engine
from bot.inbox.models import TriageItem
from bot.repos import Repos
from bot.store import Store
from config import load_settings
from tests.bot.repos.factories import NOW, event, outreach, subscriber, task
from tests.stored import edit_stored

TODAY = date(2026, 6, 15)


def _item(item_id: str, sender: str) -> TriageItem:
    return TriageItem(item_id, f"<{item_id}@mail>", "Hello", "hello", sender, NOW, NOW)


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, dict[str, tuple[Path, str]]]:
    """A data directory where one record of each kind cannot be read, beside good ones."""
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        repos.subscribers.put_many([subscriber("cus_good"), subscriber("cus_bad")])
        repos.tasks.create_many([task("goodt", "cus_good"), task("badtt", "cus_bad")])
        repos.outreach.add_many([outreach("cus_good", "goodt", 1), outreach("cus_bad", "x", 2)])
        repos.events.add_many([event("cus_good", 1), event("cus_bad", 2)])
        repos.inbox.create_item(_item("gooditem", "a@example.com"))
        repos.inbox.create_item(_item("baditem", "b@example.com"))
        bad_outreach = repos.outreach.for_subscriber("cus_bad")[0].id
        bad_event = repos.events.for_subscriber("cus_bad")[0].id
    broken = {
        "task": edit_stored(data, "tasks", "badtt", due="soon", created_at=None),
        "outreach": edit_stored(data, "outreach", bad_outreach, at="yesterday"),
        "event": edit_stored(data, "events", bad_event, at=None),
        "item": edit_stored(data, "inbox_items", "baditem", created_at=5),
        "subscriber": edit_stored(data, "subscribers", "cus_bad", subscriptions="none"),
    }
    return data, broken


def test_unreadable_records_are_skipped_and_every_reader_still_works(
    damaged: tuple[Path, dict[str, tuple[Path, str]]], caplog: pytest.LogCaptureFixture
) -> None:
    data, broken = damaged
    caplog.set_level(logging.ERROR, logger="bot.repos.loading")
    settings = load_settings({"CARE_DATA_DIR": str(data)}, dotenv=False)
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        assert [t.id for t in repos.tasks.all()] == ["goodt"]
        assert repos.tasks.get("badtt") is None and repos.tasks.for_subscriber("cus_bad") == []
        assert [t.id for t in repos.tasks.active()] == ["goodt"]
        assert [o.subscriber_id for o in repos.outreach.all()] == ["cus_good"]
        assert repos.outreach.for_subscriber("cus_bad") == []
        assert list(repos.events.by_subscriber()) == ["cus_good"]
        assert [i.id for i in repos.inbox.active_items()] == ["gooditem"]
        assert repos.inbox.item("baditem") is None
        assert repos.subscribers.get("cus_bad") is None
        assert repos.subscribers.get("cus_good") is not None
        plan = plan_digest(TODAY, repos, settings, NOW)
        assert "badtt" not in {t.id for e in plan.entries for t in e.tasks}
        run_engine(TODAY, repos, settings, FixedClock(datetime(2026, 6, 15, 7, tzinfo=UTC)))

    logged = [r.getMessage() for r in caplog.records]
    for kind, (path, doc_id) in broken.items():
        named = [m for m in logged if str(path) in m and f"doc id {doc_id}," in m]
        assert named, f"no error naming {path} doc {doc_id} for the {kind}: {logged}"
    assert any("record 'badtt'" in m and "field 'due'" in m for m in logged)
    assert len(logged) == len(set(logged)), "each unreadable document is reported once"


def test_an_unreadable_document_is_left_in_its_file_when_its_shard_is_written(
    damaged: tuple[Path, dict[str, tuple[Path, str]]],
) -> None:
    data, broken = damaged
    path, doc_id = broken["task"]
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        repos.tasks.create(task("newtk", "cus_bad", key="cus_bad:again"))  # same shard
        assert {t.id for t in repos.tasks.all()} == {"goodt", "newtk"}
    assert json.loads(path.read_text())["_default"][doc_id]["due"] == "soon"
