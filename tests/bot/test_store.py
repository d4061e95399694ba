"""The store's promises: atomic writes under SIGKILL, corrupt files left untouched, one
writing process per data directory, read-only access alongside it."""

from __future__ import annotations

import json
import queue
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.repos import Repos
from bot.store import AtomicJSONStorage, CorruptDataError, ReadOnlyError, Store, StoreError
from tests.bot import store_writer
from tests.bot.repos.factories import event, subscriber, task

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("subs", "task", "event", "done")


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter from the checkout, with `args` in sys.argv[1:]."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


class Writer:
    """tests/bot/store_writer.py in a subprocess, its progress lines read by a thread."""

    def __init__(self, data: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.bot.store_writer", str(data)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("")  # end of output

    def kill_on(self, steps: list[str], timeout: float = 30) -> int:
        """SIGKILL the writer once it has printed `steps` in order (`"write "`: any write).

        Returns:
            The last generation the writer said it had completely written.
        """
        last_done, pending = 0, list(steps)
        while pending:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.proc.kill()
                pytest.fail(f"writer printed nothing for {timeout}s while waiting for {steps}")
            if not line:
                _, err = self.proc.communicate(timeout=10)
                pytest.fail(f"writer ended before {steps}: {err}")
            if line == pending[0] or (pending[0] == "write " and line.startswith("write ")):
                pending.pop(0)
            if line.startswith("done "):
                last_done = int(line.split()[1])
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        return last_done


def every_data_file_is_a_json_table(data: Path) -> None:
    for path in data.rglob("*.json"):
        if path.name.startswith("."):
            continue
        try:
            doc = json.loads(path.read_bytes())
        except ValueError as exc:
            pytest.fail(f"{path} is torn ({exc})")
        assert isinstance(doc, dict), path


def stored_generations(data: Path) -> tuple[int, int, int]:
    """(subscribers gen, task gen, events gen) read through a read-only store."""
    with Store(data, read_only=True, shards=store_writer.SHARDS) as store:
        repos = Repos.open(store)
        docs = list(repos.subscribers.raw())
        names = {d["name"] for d in docs}
        assert len(names) <= 1, f"subscribers from several writes in one file: {names}"
        subs_gen = int(names.pop().split()[1]) if names else 0
        if docs:
            assert len(docs) == store_writer.BASE + store_writer.STEP * subs_gen
        stored_task = repos.tasks.get(store_writer.TASK_ID)
        task_gen = stored_task.risk_score if stored_task else 0
        event_ids = {e.id for e in repos.events.all()}
        events_gen = len(event_ids)
        assert event_ids == {f"ev-{g}" for g in range(1, events_gen + 1)}
    return subs_gen, task_gen, events_gen


def test_a_writer_killed_at_random_moments_leaves_old_or_new_data(tmp_path: Path) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    data = tmp_path / "data"
    done = subs_gen = task_gen = 0
    for round_ in range(8):
        phase = "create" if round_ == 0 and rng.random() < 0.3 else rng.choice(PHASES)
        resume = max(subs_gen, task_gen, 1)  # where store_writer starts again
        gen = 0 if phase == "create" else resume + rng.randint(0, 2)
        # Kill just before the phase's write, or inside it (after its file write started).
        steps = [f"{phase} {gen}"] + (["write "] if rng.random() < 0.6 else [])
        done = max(done, Writer(data).kill_on(steps))
        context = f"seed {seed}, round {round_}, killed after {steps}"

        every_data_file_is_a_json_table(data)
        (data / ".subscribers.json.planted.tmp").write_text('{"_default": {"1": {"id": "tor')
        subs_gen, task_gen, events_gen = stored_generations(data)
        # Writes go subscribers, task, event, in that order; each is all or nothing.
        assert task_gen <= subs_gen <= task_gen + 1, context
        assert events_gen <= task_gen <= events_gen + 1, context
        assert min(subs_gen, task_gen, events_gen) >= done, context

        with Store(data, shards=store_writer.SHARDS):  # takes over the killed writer's lock
            assert not list(data.rglob("*.tmp")), f"{context}: stale temporary files kept"


def test_temporary_files_are_never_read_as_data(file_store: Store) -> None:
    repos = Repos.open(file_store)
    repos.subscribers.put(subscriber("cus_1"))
    data = file_store.data_dir
    (data / ".subscribers.json.abc123.tmp").write_text('{"_default": {"9": {"id": "cus_9"}}}')
    file_store.close()
    with Store(data, read_only=True) as store:
        assert Repos.open(store).subscribers.ids() == ["cus_1"]


@pytest.mark.parametrize(
    "content", [b'{"_default": {"1": {"id": "cus_1", "na', b"", b"  \n", b"[1, 2]", b"\xff\xfe{"]
)
def test_a_corrupt_subscriber_file_raises_and_is_never_overwritten(
    tmp_path: Path, content: bytes
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "subscribers.json"
    path.write_bytes(content)
    with Store(data) as store:
        repos = Repos.open(store)
        with pytest.raises(CorruptDataError, match=str(path)):
            repos.subscribers.count()
        with pytest.raises(CorruptDataError, match=str(path)):
            repos.subscribers.put(subscriber("cus_2"))
        with pytest.raises(CorruptDataError):
            store.table("subscribers").insert({"id": "cus_3"})
    assert path.read_bytes() == content


def test_the_corrupt_file_message_says_it_was_left_alone_and_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "subscribers.json").write_text('{"_default": ')
    with Store(data) as store, pytest.raises(CorruptDataError) as err:
        Repos.open(store).subscribers.get("cus_1")
    assert "not valid JSON" in str(err.value)
    assert "has not been touched" in str(err.value) and "backup" in str(err.value)


def test_a_corrupt_task_shard_refuses_task_writes_and_keeps_its_bytes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data, shards=4) as store:
        repos = Repos.open(store)
        repos.tasks.create(task("aaaaa", "cus_1"))
    shard = next((data / "tasks").glob("*.json"))
    shard.write_bytes(shard.read_bytes()[:-7])
    damaged = shard.read_bytes()
    with Store(data, shards=4) as store:
        repos = Repos.open(store)
        with pytest.raises(CorruptDataError, match=str(shard)):
            repos.tasks.create(task("bbbbb", "cus_2"))
        with pytest.raises(CorruptDataError, match=str(shard)):
            repos.tasks.mutate("aaaaa", lambda t: setattr(t, "claimed_by", "U1"))
    assert shard.read_bytes() == damaged


LOCK_PROBE = """
import sys
from bot.store import DataDirLocked, Store
try:
    Store(sys.argv[1])
except DataDirLocked as exc:
    print(type(exc).__name__, exc)
    sys.exit(3)
print("opened")
"""


def test_a_second_process_on_the_data_dir_is_refused_with_a_clear_message(
    file_store: Store,
) -> None:
    probe = run_python(LOCK_PROBE, str(file_store.data_dir))
    assert probe.returncode == 3, probe.stderr
    assert probe.stdout.startswith("DataDirLocked Another Proactive Care process is using")
    assert str(file_store.data_dir) in probe.stdout and "CARE_DATA_DIR" in probe.stdout


def test_the_data_dir_is_free_again_once_the_store_is_closed(file_store: Store) -> None:
    file_store.close()
    probe = run_python(LOCK_PROBE, str(file_store.data_dir))
    assert (probe.returncode, probe.stdout.strip()) == (0, "opened"), probe.stderr


def test_a_read_only_process_reads_while_the_bot_holds_the_dir(file_store: Store) -> None:
    Repos.open(file_store).subscribers.put_many([subscriber("cus_1"), subscriber("cus_2")])
    code = (
        "import sys\n"
        "from bot.repos import Repos\n"
        "from bot.store import Store\n"
        "print(Repos.open(Store(sys.argv[1], read_only=True)).subscribers.count())\n"
    )
    probe = run_python(code, str(file_store.data_dir))
    assert (probe.returncode, probe.stdout.strip()) == (0, "2"), probe.stderr


def test_a_read_only_store_refuses_every_write_and_changes_no_file(file_store: Store) -> None:
    writer = Repos.open(file_store)
    writer.subscribers.put(subscriber("cus_1"))
    writer.tasks.create(task("aaaaa", "cus_1"))
    writer.events.add(event("cus_1", 1))
    data = file_store.data_dir
    before = {p: p.read_bytes() for p in data.rglob("*.json")}
    with Store(data, read_only=True, shards=8) as store:
        reader = Repos.open(store)
        assert reader.subscribers.get("cus_1") is not None
        assert reader.tasks.get("aaaaa") is not None
        attempts = [
            lambda: reader.subscribers.put(subscriber("cus_2")),
            lambda: reader.tasks.create(task("bbbbb", "cus_2")),
            lambda: reader.tasks.mutate("aaaaa", lambda t: setattr(t, "claimed_by", "U1")),
            lambda: reader.events.add(event("cus_1", 2)),
            lambda: store.table("subscribers").insert({"id": "cus_3"}),
        ]
        for attempt in attempts:
            with pytest.raises(ReadOnlyError):
                attempt()
    assert {p: p.read_bytes() for p in data.rglob("*.json")} == before


def test_read_only_on_a_missing_data_dir_says_to_import_first(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="import subscribers first"):
        Store(tmp_path / "nothing-here", read_only=True)


def test_a_data_dir_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="Cannot create data directory"):
        Store(blocker / "data")


def test_a_missing_file_is_looked_for_once_until_it_is_written_or_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Most record shards of a young store do not exist, and a render reads several per entry:
    # a missing file must not be opened again on every read (it was, 4,500 opens a digest).

    path = tmp_path / "events" / "07.json"
    path.parent.mkdir()
    storage = AtomicJSONStorage(path)
    opened: list[Path] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        opened.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    assert storage.read() is None and storage.read() is None
    assert opened == [path]

    storage.write({"events": {"1": {"id": "e1"}}})
    assert storage.read() == {"events": {"1": {"id": "e1"}}}
    assert opened == [path]  # the written data is held, not read back

    storage.forget()  # a transaction undone: the file is read again
    assert storage.read() == {"events": {"1": {"id": "e1"}}}
    assert opened == [path, path]
