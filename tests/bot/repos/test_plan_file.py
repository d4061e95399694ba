"""The plan index kept on disk between processes gives the plan a whole build gives.

A process that may write saves the subscribers' plan index (`bot.repos.plan_file`); the next
one to plan (a read-only preview, the bot after a restart) restores it and indexes afresh only
the documents written since. Over generated customers, subscribers written between the two
processes (changed, new) and days passing, the dry run, `plan_day` and the full plan must be
what a whole build gives; a file that is stale past what can be trusted, corrupt, cut short,
foreign or of another format is not used; a read-only process never writes it; a process
killed while saving it leaves the old file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from array import array
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from bot.repos import Repos, plan_file
from bot.store import Store
from tests.bot.builders import TODAY, member
from tests.bot.test_enginerun import _changes, _config, _copy, _day
from tests.bot.test_sizing import _stored, customer

# Writes between the saving process and the planning one: a customer's document changed to
# one that is due (a save before a scheduled cancellation, a check-in), or a new customer.
WRITES = ["cancels", "checkin", "new", "same"]


def _write(kind: str, repos: Repos, n: int, sids: list[str]) -> None:
    sid = sids[n % len(sids)]
    if kind == "cancels":
        repos.subscribers.put(member(sid, tenure=200, amount=450.0, cancel_at_period_end=True))
    elif kind == "checkin":
        repos.subscribers.put(member(sid, tenure=30, amount=30.0, status="past_due"))
    elif kind == "new":
        repos.subscribers.put(member(f"cus_new{n}", tenure=90, amount=300.0))
    else:  # written again as it was: same bytes
        stored = repos.subscribers.get(sid)
        assert stored is not None
        repos.subscribers.put(stored)


def _plans(data: Path, day_offset: int, limit: int | None, must_show: float) -> tuple:
    """The dry run, the sized and the full plan of a read-only open of `data` (a preview)."""
    day = TODAY + timedelta(days=day_offset)
    config = _config(data)
    with Store(data, read_only=True) as reader:
        repos = Repos.open(reader)
        changes = _changes(day, repos, config, None)
        sized = _day(day, repos, config, limit, must_show)
        planned = {sid: repos.subscribers.planned(sid) for sid in repos.subscribers.ids()}
    return changes, sized, planned


@contextlib.contextmanager
def _restores() -> Iterator[list]:
    """The results of every `plan_file.restore` while inside."""
    seen: list = []
    real = plan_file.restore

    def spy(*args, **kwargs):  # noqa: ANN202
        seen.append(real(*args, **kwargs))
        return seen[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan_file, "restore", spy)
        yield seen


def _whole(data: Path, *args) -> tuple:
    """`_plans` of a copy of `data` without the saved index: the whole build."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data, copy)
        (copy / plan_file.NAME).unlink(missing_ok=True)
        return _plans(copy, *args)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.lists(customer, min_size=8, max_size=12),
    writes=st.lists(st.tuples(st.sampled_from(WRITES), st.integers(0, 9)), max_size=3),
    day_offset=st.sampled_from([0, 1, 2, 9]),
    limit=st.integers(0, 4).map(lambda n: n or None),
    must_show=st.sampled_from([0.0, 300.0]),
)
def test_a_restored_index_plans_what_the_whole_build_plans(
    customers, writes, day_offset, limit, must_show
):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with Store(data, shards=16) as store:  # an import: it saves the index at its end
            repos = Repos.open(store)
            sids = _copy(_stored(customers), repos)
            repos.subscribers.keep_plan_index()
        assert (data / plan_file.NAME).exists()
        with Store(data, shards=16) as store:  # another process writes, never plans
            repos = Repos.open(store)
            for n, (kind, who) in enumerate(writes):
                _write(kind, repos, who + n, sids)
        with _restores() as restored:
            got = _plans(data, day_offset, limit, must_show)
        assert restored and restored[0] is not None  # the file was used, not built anew
        assert got == _whole(data, day_offset, limit, must_show)


@contextlib.contextmanager
def _saved(count: int = 12) -> Iterator[tuple[Path, list[str]]]:
    """A data directory whose subscribers' plan index was saved; their ids."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        customers = [
            {"tenure": t, "amount": 30.0 * (n % 3), "status": "active", "cancels": n % 4 == 0,
             "events": [("payment_failed", 3)] if n % 2 else [], "reached": None,
             "claimed": False}
            for n, t in enumerate([7, 30, 90, 120, 33, 45] * (count // 6))
        ]  # fmt: skip
        with Store(data, shards=16) as store:
            repos = Repos.open(store)
            sids = _copy(_stored(customers), repos)
            repos.subscribers.keep_plan_index()
        yield data, sids


def _planned_with(data: Path) -> tuple[object, tuple]:
    """What restoring gave, and the plans of a read-only open."""
    with _restores() as restored:
        got = _plans(data, 0, 3, 300.0)
    return restored[0] if restored else "not read", got


def test_a_file_cut_short_corrupt_or_of_another_format_is_not_used():
    with _saved() as (data, _):
        path = data / plan_file.NAME
        good = path.read_bytes()
        whole = _whole(data, 0, 3, 300.0)
        assert _planned_with(data)[0] is not None
        encoded = plan_file._decoder.decode(good)
        other = plan_file._encoder.encode(replace(encoded, format=plan_file.FORMAT + 1))
        swapped = plan_file._encoder.encode(replace(encoded, byteorder="neither"))
        far = array("i", [10**6]).tobytes()  # a position past the subscribers saved
        beyond = plan_file._encoder.encode(replace(encoded, by_day={TODAY.isoformat(): far}))
        back = array("i", [0, -1]).tobytes()  # a position before the first
        before = plan_file._encoder.encode(replace(encoded, by_month_day={"06-15": back}))
        nobody = plan_file._encoder.encode(  # a position saved as no readable subscriber
            replace(encoded, sids=[None, *encoded.sids[1:]], unsure=array("i", [0]).tobytes())
        )
        cases = (good[: len(good) // 2], b"\x00garbage", b"", other, swapped, beyond, before)
        for broken in (*cases, nobody):
            path.write_bytes(broken)
            restored, got = _planned_with(data)
            assert restored is None
            assert got == whole


def test_a_file_of_another_data_directory_is_not_used():
    with _saved() as (data, _), _saved(count=24) as (other, _):
        shutil.copy(other / plan_file.NAME, data / plan_file.NAME)
        restored, got = _planned_with(data)
        assert restored is None
        assert got == _whole(data, 0, 3, 300.0)


def test_a_document_gone_or_holding_another_id_is_not_trusted():
    with _saved() as (data, sids):
        with Store(data) as store:  # hand-edited: one document removed
            store.table("subscribers").remove(doc_ids=[2])
        restored, got = _planned_with(data)
        assert restored is None
        assert got == _whole(data, 0, 3, 300.0)
    with _saved() as (data, sids):
        with Store(data) as store:  # hand-edited: a document's id changed
            store.table("subscribers").update({"id": "cus_renamed"}, doc_ids=[3])
        restored, got = _planned_with(data)
        assert restored is None
        assert got == _whole(data, 0, 3, 300.0)


def test_most_documents_changed_is_a_whole_build():
    with _saved() as (data, sids):
        with Store(data) as store:
            repos = Repos.open(store)
            for sid in sids[: len(sids) // 2]:
                repos.subscribers.put(member(sid, tenure=30, amount=99.0))
        restored, got = _planned_with(data)
        assert restored is None
        assert got == _whole(data, 0, 3, 300.0)


def test_a_read_only_process_never_writes_the_file():
    with _saved() as (data, _):
        (data / plan_file.NAME).unlink()
        _plans(data, 0, 3, 300.0)
        assert not (data / plan_file.NAME).exists()


def test_a_process_that_builds_the_index_in_full_saves_it_for_the_next():
    with _saved() as (data, _):
        (data / plan_file.NAME).unlink()
        with Store(data) as store:  # the bot's first plan after a start
            Repos.open(store).subscribers.plan_candidates(plan_file_windows(), [])
        assert (data / plan_file.NAME).exists()
        restored, got = _planned_with(data)
        assert restored is not None and restored[2] == 0
        assert got == _whole(data, 0, 3, 300.0)


def plan_file_windows():  # noqa: ANN201
    from bot.lifecycle import MilestoneWindows
    from config.rules import LifecycleRules

    return MilestoneWindows(TODAY, LifecycleRules())


# A process that saves the index after a write and is SIGKILLed inside the save: the new
# file's temporary copy half written, not yet renamed over the old one.
KILLED_SAVE = """\
import os, signal, sys, tempfile
from pathlib import Path
from bot.repos import Repos, plan_file
from bot.store import Store
from tests.bot.builders import member

def write(path, payload, **kwargs):
    fd, _ = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.write(fd, payload[: len(payload) // 2])
    os.kill(os.getpid(), signal.SIGKILL)

plan_file.atomic_write = write
with Store(Path(sys.argv[1])) as store:
    repos = Repos.open(store)
    repos.subscribers.put(member("cus_00", tenure=30, amount=450.0, cancel_at_period_end=True))
    repos.subscribers.keep_plan_index()
"""


def test_a_process_killed_while_it_saves_the_index_leaves_the_old_file():
    root = Path(__file__).resolve().parents[3]
    with _saved() as (data, _):
        before = (data / plan_file.NAME).read_bytes()
        proc = subprocess.run(
            [sys.executable, "-c", KILLED_SAVE, str(data)],
            cwd=root, capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": str(root)},
        )  # fmt: skip
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert (data / plan_file.NAME).read_bytes() == before
        restored, got = _planned_with(data)
        assert restored is not None and restored[2] == 1  # the written customer afresh
        assert got == _whole(data, 0, 3, 300.0)
        with Store(data) as store:  # the next save clears what the killed one left
            Repos.open(store).subscribers.keep_plan_index()
        assert not list(data.glob(f".{plan_file.NAME}.*"))
