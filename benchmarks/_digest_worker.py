"""The `digest` section's worker: one size, in a fresh interpreter (see benchmarks/digest.py).

    python -m benchmarks._digest_worker post WORKDIR SIZE
    python -m benchmarks._digest_worker repost WORKDIR SIZE
    python -m benchmarks._digest_worker preview WORKDIR SIZE
    python -m benchmarks._digest_worker morning WORKDIR SIZE
    python -m benchmarks._digest_worker fresh WORKDIR SIZE

`post` imports the core section's synthetic exports (WORKDIR/stripe.csv, events.csv), starts
the real bot against the fake Slack (10 managers, the default care.toml), and posts today's
digest at Slack's 1 message/second while signed `/care claim`s of queued tasks arrive; then it
claims every posted task left, one after another, in two rows: beside the App Home headline
as the bot runs it, and while it computes anyway (`benchmarks._after_posting`).
`repost` posts again on a fresh copy of WORKDIR/pristine (the imported data, kept by the
harness before `post`), claims while posting included, nothing after: the CPU figures only.
`preview` times `python app.py digest --preview` as a whole process, side by side with a process that only `json.load`s the files it reads.
`morning` does the same on a copy of the imported data after an engine run for the day
before only (a manager previewing before the day's job): run it before `post`. `fresh` does
the same with no engine run at all (the first day after an import): run it before `post` too.
Each prints one JSON object of figures as its last line.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks._after_posting import after_posting
from benchmarks._slack_worker import (
    COMMANDS,
    MANAGERS,
    TODAY,
    _metered_pacer,
    _watched_slack,
    start_bot,
)
from benchmarks.core import NOW, peak_rss_mb
from benchmarks.slack import percentile
from tests.fakeslack.fixtures import SIGNING_SECRET

PREVIEW_RUNS = int(os.environ.get("CARE_BENCH_PREVIEW_RUNS", "3"))
SHARE_WHILE_POSTING = 3  # one posted entry in 3 is claimed while the digest posts
SLOW_MS = (1000, 3000)  # claims while posting answered slower than these are counted
CLAIM_INTERVAL_S = 0.2  # between claims while posting
TEAM = ",".join(MANAGERS)  # 10 managers: 150 entries a day at the default capacity of 15
# Managers who have their App Home open while the digest posts (each claim redraws theirs).
HOME_VIEWERS = int(os.environ.get("CARE_BENCH_HOME_VIEWERS", "0"))


def import_data(workdir: Path) -> Path:
    """Import WORKDIR's CSVs into WORKDIR/data; a data directory already there is used as it
    is (a copy of an imported one, to repeat a run without importing again)."""
    from bot.importers import import_file
    from bot.repos import Repos
    from bot.store import Store

    data_dir = workdir / "data"
    if (data_dir / "subscribers.json").exists():
        return data_dir
    with Store(data_dir) as store:
        repos = Repos.open(store)
        for name in ("stripe.csv", "events.csv"):
            result = import_file(workdir / name, "auto", repos, NOW)
            if result.rejected:
                raise RuntimeError(f"{len(result.rejected)} synthetic rows of {name} rejected")
    return data_dir


def post(workdir: Path, size: int, after: bool = True) -> dict[str, Any]:
    """Post the day's digest while a share of it and queued tasks are claimed; then the rest
    (unless not `after`)."""
    from tests.slackreq import SlackSender

    data_dir = import_data(workdir)
    fake, pacer = _watched_slack().start(), _metered_pacer()
    out: dict[str, Any] = {"size": size}
    try:
        runtime = start_bot(fake, data_dir, pacer, CARE_MANAGERS=TEAM)
        s = runtime.services
        url = f"http://127.0.0.1:{runtime.server.port}/slack/events"
        sender = SlackSender(url, SIGNING_SECRET, timeout=30)
        try:
            done = threading.Event()
            result: dict[str, Any] = {}

            meter = MessageMeter(s.publisher)

            def publish() -> None:
                meter.thread = threading.get_ident()
                wall, cpu = time.perf_counter(), time.thread_time()
                result["record"] = s.publisher.publish(TODAY)
                result["wall"], result["cpu"] = time.perf_counter(), time.thread_time()
                result["start"] = (wall, cpu)
                done.set()

            poster = threading.Thread(target=publish, name="bench-digest")
            poster.start()
            while pacer.started is None and not done.is_set():
                time.sleep(0.05)
            during = claim_while_posting(runtime, fake, sender, done)
            poster.join()
            record = result["record"]
            posts = [c for c in fake.calls("chat.postMessage") if c.status == 200 and not c.error]
            first_wall, first_cpu = pacer.started
            start_wall, _ = result["start"]
            counts = record.counts
            messages = s.repos.digests.messages(TODAY)
            out.update(
                {
                    "subscribers": s.repos.subscribers.count(),
                    "posted_entries": sum(len(m.entries) for m in messages),
                    "posted_tasks": sum(len(m.task_ids) for m in messages),
                    "queued_tasks": counts.get("queued", 0),
                    "messages": len(posts),
                    "digest_wall_s": result["wall"] - start_wall,
                    "prepare_s": first_wall - start_wall,
                    "posting_wall_s": result["wall"] - first_wall,
                    "cpu_per_message_ms": 1000 * (result["cpu"] - first_cpu) / max(len(posts), 1),
                    **meter.figures(s.settings.digest.tasks_per_message),
                    **during,
                }
            )
            if after:
                out.update(after_posting(runtime, fake, record, sender))
        finally:
            runtime.stop()
    finally:
        fake.stop()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


PRISTINE = "pristine"  # WORKDIR/pristine: the imported data as it was before `post`


def repost(workdir: Path, size: int) -> dict[str, Any]:
    """The posting step again (claims while posting included, none after), on a fresh copy of
    WORKDIR/pristine: its CPU figures only. The harness runs it to take the median of several
    runs' CPU per message (one run's figure moves by some 10% between runs of the same code)."""
    run_dir = workdir / "repost"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    try:
        subprocess.run(["cp", "-a", str(workdir / PRISTINE), str(run_dir / "data")], check=True)
        out = post(run_dir, size, after=False)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return {k: v for k, v in out.items() if "cpu" in k or k in ("messages", "full_messages")}


class MessageMeter:
    """Each digest message's own CPU in the posting thread, like for like across sizes.

    The mean CPU per message (`cpu_per_message_ms`) also measures what the messages hold:
    the 100k digest's messages carry more tasks each (6.1 against 4.9 at 1k) and fewer of
    them are a kind's short last message. Posting one message must cost the same whatever
    the store holds, so the like-for-like figure is the median over full messages (as many
    customers as a message holds) of each one's CPU, from the start of its rendering to the
    start of the next one's: render, post, store its ts. The last message's span runs to the
    end of the run (the record's last save), so it is left out.
    """

    def __init__(self, publisher: Any) -> None:
        self.thread: int | None = None  # the posting thread's (set as it starts)
        self.marks: list[tuple[float, Any]] = []  # (thread CPU, message) as each is rendered
        render = publisher.render_message

        def metered(message: Any) -> Any:
            if threading.get_ident() == self.thread:  # not a claim's edit in another thread
                self.marks.append((time.thread_time(), message))
            return render(message)

        publisher.render_message = metered

    def figures(self, per_message: int) -> dict[str, Any]:
        spans = [
            (1000 * (next_cpu - cpu), message)
            for (cpu, message), (next_cpu, _) in zip(self.marks, self.marks[1:], strict=False)
        ]
        full = [ms for ms, m in spans if not m.carried and len(m.entries) == per_message]
        tasks = [
            len(m.task_ids) for _, m in spans if not m.carried and len(m.entries) == per_message
        ]
        if not full:
            return {}
        return {
            "message_cpu_p50_ms": statistics.median(ms for ms, _ in spans),
            "full_messages": len(full),
            "full_message_tasks": statistics.mean(tasks),
            "full_message_cpu_p50_ms": statistics.median(full),
            "full_message_cpu_p90_ms": percentile(full, 90),
            "full_message_cpu_max_ms": max(full),
        }


def claim_while_posting(
    runtime: Any, fake: Any, sender: Any, done: threading.Event
) -> dict[str, Any]:
    """While the digest posts, `/care claim` one posted entry in `SHARE_WHILE_POSTING` (as
    soon as its message is posted) and, between them, tasks waiting in the queue: one claim
    every `CLAIM_INTERVAL_S`. The rest of the posted entries stay open for `after_posting`.

    The day's messages are stored before the parent is posted, so once the pacer has started
    the bench knows which tasks will be posted, and never claims one before its message is.
    """
    s = runtime.services
    planned = [m.entries for m in s.repos.digests.messages(TODAY)]
    posted_ids = {t for entries in planned for entry in entries for t in entry}
    share = [e[0] for entries in planned for e in entries][::SHARE_WHILE_POSTING]
    queued = waiting_tasks(s.repos, posted_ids)
    homes = open_homes(fake, sender, MANAGERS[:HOME_VIEWERS])
    answers: dict[str, list[float]] = {"posted": [], "queued": []}
    unanswered: list[str] = []
    slow: list[tuple[float, float]] = []  # (seconds since posting started, ms) over 1 s
    first = time.perf_counter()
    n = 0
    while not done.is_set() and (share or queued):
        task = s.repos.tasks.get(share[0]) if share else None
        if task is not None and task.slack.get("ts"):  # its message is posted: claim it
            where, task_id = "posted", share.pop(0)
        elif queued:
            where, task_id = "queued", queued.pop(0)
        else:
            time.sleep(CLAIM_INTERVAL_S)
            continue
        sent = time.perf_counter() - first
        ms, status, text = _ack(sender, fake, task_id, MANAGERS[n % len(MANAGERS)])
        n += 1
        answers[where].append(ms)
        if ms > SLOW_MS[0]:
            slow.append((round(sent, 1), round(ms, 1)))
        if status != 200 or "You claimed" not in text:  # not acked within 3 s, or refused
            unanswered.append(f"{task_id}: {status} {text[:100]}")
        time.sleep(CLAIM_INTERVAL_S)
    every = answers["posted"] + answers["queued"]
    return {
        "during_claims": len(every),
        "during_posted_claims": len(answers["posted"]),
        "during_queued_claims": len(answers["queued"]),
        "during_p50_ms": statistics.median(every) if every else float("nan"),
        "during_p95_ms": percentile(every, 95) if every else float("nan"),
        "during_max_ms": max(every, default=float("nan")),
        "during_over_1s": sum(ms > SLOW_MS[0] for ms in every),
        "during_over_3s": sum(ms > SLOW_MS[1] for ms in every),
        "during_slow": slow[:50],  # (seconds since the claims began, ms), the first 50
        "during_unanswered": len(unanswered),
        "during_unanswered_first": unanswered[:3],
        "home_viewers": len(homes),
        "home_redraws_while_posting": sum(
            1 for c in fake.calls("views.publish") if c.args.get("user_id") in homes
        ),
    }


def open_homes(fake: Any, sender: Any, users: list[str]) -> list[str]:
    """`users` open the bot's App Home (signed `app_home_opened` events): from then on every
    claim redraws their Homes. Waits until each is drawn once."""
    from tests.slackreq import app_home_opened

    for user in users:
        status, _, body = sender.event(app_home_opened(user))
        if status != 200:
            raise RuntimeError(f"app_home_opened for {user}: {status} {body[:200]}")
    fake.wait_for(
        lambda: {c.args.get("user_id") for c in fake.calls("views.publish")} >= set(users),
        timeout=600,
    )
    return users


def waiting_tasks(repos: Any, posted_ids: set[str]) -> list[str]:
    """One task per customer waiting in the queue (due, open, not posted today), from the
    stored documents. Not `bot.queue.queue`: ranking 25k customers here would compete with the
    bot for the CPU (and set off full collections) in the first seconds of posting."""
    from bot.holdout import held_out

    day, posted = TODAY.isoformat(), {repos.tasks.require(t).subscriber_id for t in posted_ids}
    chosen: dict[str, str] = {}
    for doc in repos.tasks.raw():
        sid = doc["subscriber_id"]
        if sid in posted or sid in chosen or doc.get("status") != "open" or held_out(doc):
            continue
        if str(doc.get("due")) <= day and not str(doc.get("snoozed_until") or "") > day:
            chosen[sid] = doc["id"]
    return list(chosen.values())


def _ack(sender: Any, fake: Any, task_id: str, user: str) -> tuple[float, int, str]:
    """One signed `/care claim ID`: ms until the HTTP answer, its status and text."""
    from tests.slackreq import command_body

    body = command_body(
        "/care", f"claim {task_id}", user_id=user, channel_id=COMMANDS,
        trigger_id=fake.issue_trigger_id(user), response_url=fake.new_response_url(COMMANDS, user),
    )  # fmt: skip
    start = time.perf_counter()
    status, _, text = sender.post(body)
    return (time.perf_counter() - start) * 1000, status, text


# Runs `app.py ARGS` noting every file under ROOT it opens (Python's audit hook "open").
OPENED = """\
import os, runpy, sys
root, out = sys.argv[1], sys.argv[2]
seen = set()
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(args[0]))
        if path.startswith(root):
            seen.add(path)
sys.addaudithook(hook)
sys.argv = ["app.py", *sys.argv[3:]]
try:
    runpy.run_path("app.py", run_name="__main__")
finally:
    with open(out, "w") as f:
        f.write("\\n".join(sorted(seen)))
"""


def files_read(command: list[str], env: dict[str, str], data_dir: Path) -> list[str]:
    """The data files `app.py COMMAND` opens and that exist (one untimed run)."""
    out = data_dir.parent / "opened.txt"
    root = str(data_dir) + os.sep
    proc = subprocess.run(
        [sys.executable, "-c", OPENED, root, str(out), *command],
        env=env, capture_output=True, timeout=600,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{command} failed: {proc.stderr[-2000:]!r}")
    opened = (Path(p) for p in out.read_text().splitlines())
    return [str(p) for p in opened if p.is_file() and p.suffix == ".json"]  # not the plan index


def preview(workdir: Path, size: int) -> dict[str, Any]:
    """`digest --preview` as a whole process, and a bare `json.load` of the files it reads
    (found by one untimed run that notes them), alternately; and `--all`."""
    data_dir = import_data(workdir)
    return side_by_side(data_dir, every=True)


def morning(workdir: Path, size: int) -> dict[str, Any]:
    """The preview a manager runs in the morning before the day's job: on a copy of the
    imported data (before the `post` step runs the day's engine), the engine runs for the
    day before, as the bot's job did yesterday; then `digest --preview` of the day beside a
    bare `json.load` of the files it reads, alternately (`side_by_side`)."""
    from bot.clock import FixedClock
    from bot.engine import run_engine
    from bot.enginerun import AHEAD, RECORD
    from bot.repos import Repos
    from bot.store import Store
    from config import load_settings

    data_dir = workdir / "morning" / "data"
    shutil.rmtree(data_dir.parent, ignore_errors=True)
    data_dir.parent.mkdir()
    subprocess.run(["cp", "-a", str(import_data(workdir)), str(data_dir)], check=True)
    settings = load_settings(_env(data_dir))  # as `app.py digest --preview` reads them
    yesterday = TODAY - timedelta(days=1)
    start = time.perf_counter()
    with Store(data_dir) as store:
        run_engine(yesterday, Repos.open(store), settings, FixedClock(NOW - timedelta(days=1)))
    engine_s = time.perf_counter() - start
    noted = json.loads((data_dir / RECORD).read_bytes()).get(AHEAD) or {}
    try:
        out = side_by_side(data_dir, every=False)
    finally:
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    return {
        "morning_engine_s": engine_s,
        "morning_noted": len(noted.get("subscribers", [])) if noted.get("date") else None,
        **{f"morning_{key}": value for key, value in out.items()},
    }


def fresh(workdir: Path, size: int) -> dict[str, Any]:
    """The preview on the first day after an import (or after a day the bot was down): no
    engine run noted the day, so it runs the whole dry run. On a copy of the imported data
    (before the `post` step runs the day's engine), `digest --preview` beside a bare
    `json.load` of the files it reads, alternately (`side_by_side`)."""
    from bot.enginerun import RECORD
    from bot.repos.plan_file import NAME

    data_dir = workdir / "fresh" / "data"
    shutil.rmtree(data_dir.parent, ignore_errors=True)
    data_dir.parent.mkdir()
    subprocess.run(["cp", "-a", str(import_data(workdir)), str(data_dir)], check=True)
    (data_dir / RECORD).unlink(missing_ok=True)
    try:
        out = side_by_side(data_dir, every=False)
    finally:
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    return {
        "fresh_saved_index": int((workdir / "data" / NAME).is_file()),
        **{f"fresh_{key}": value for key, value in out.items()},
    }


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "CARE_DATA_DIR": str(data_dir), "CARE_MANAGERS": TEAM, "COLUMNS": "120"}
    env.pop("CARE_CONFIG", None)
    return env


def side_by_side(data_dir: Path, every: bool) -> dict[str, Any]:
    """`digest --preview` of `TODAY` as a whole process, a bare `json.load` of the files it
    reads (noted by one untimed run) and, if `every`, `--all`, alternately; medians."""
    env = _env(data_dir)
    command = ["digest", "--preview", "--date", str(TODAY)]
    # Python caches the bytecode of what it imports: a manager's second preview does not
    # compile the bot again. Where PYTHONDONTWRITEBYTECODE is set (this machine sets it), every
    # timed run would compile some hundred modules (~0.1 s): compile them once, untimed.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "app.py", "bot", "config"], check=True
    )
    files = files_read(command, env, data_dir)
    loader = "import json,sys\nfor p in sys.argv[1:]:\n    with open(p) as f: json.load(f)\n"
    preview_s: list[float] = []
    load_s: list[float] = []
    all_s: list[float] = []
    runs = [([sys.executable, "app.py", *command], preview_s)]
    runs.append(([sys.executable, "-c", loader, *files], load_s))
    if every:
        runs.append(([sys.executable, "app.py", *command, "--all"], all_s))
    for _ in range(PREVIEW_RUNS):
        for argv, times in runs:
            start = time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, timeout=600)
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise RuntimeError(f"{argv[:4]} failed: {proc.stderr[-2000:]!r}")
    every_file = list(data_dir.rglob("*.json"))
    out = {
        "preview_process_s": statistics.median(preview_s),
        "json_load_process_s": statistics.median(load_s),
        "preview_over_load": statistics.median(preview_s) / statistics.median(load_s),
        "files_read": len(files),
        "files_in_data_dir": len(every_file),
        "files_mb": sum(Path(f).stat().st_size for f in files) / 2**20,
        "data_dir_mb": sum(p.stat().st_size for p in every_file) / 2**20,
    }
    if every:
        out["preview_all_process_s"] = statistics.median(all_s)
    return out


if __name__ == "__main__":
    _mode, _dir, _size = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    modes = {"post": post, "repost": repost, "preview": preview, "morning": morning, "fresh": fresh}
    print(json.dumps(modes[_mode](_dir, _size)))
