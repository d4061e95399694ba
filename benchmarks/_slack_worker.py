"""The `slack` section's worker: one size, in a fresh interpreter (see benchmarks/slack.py).

    python -m benchmarks._slack_worker WORKDIR SUBSCRIBERS DIGEST_TASKS

Prints one JSON object of figures as its last line. Uses the test suite's FakeSlack and
signed-request helpers (tests/fakeslack, tests/slackreq.py): the bench drives the bot the
way the end-to-end tests do.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.core import peak_rss_mb
from benchmarks.slack import percentile
from tests.fakeslack.fixtures import SIGNING_SECRET

HISTORY_TASKS = 300
MONDAY_MORNING = datetime(2026, 6, 15, 13, 30, tzinfo=UTC)  # 09:30 in New York
TODAY = date(2026, 6, 15)
SEED = 4
DIGEST, COMMANDS = "C0DIGEST", "C1"
# Managers must be among the care team that tests.handlers.conftest.fake_settings configures.
MANAGERS = [f"UM{i:02d}" for i in range(10)]


def _watched_slack() -> Any:
    """A FakeSlack that timestamps each chat.update as it answers it, and can wait for one."""
    from tests.fakeslack.server import FakeSlack

    class WatchedSlack(FakeSlack):
        def __init__(self) -> None:
            super().__init__()
            self.updated: dict[str, list[float]] = defaultdict(list)  # ts -> perf_counter
            self.opened: list[float] = []  # views.open answers (perf_counter)
            self.responded: dict[str, list[float]] = defaultdict(list)  # response_url posts
            self._seen = threading.Condition()
            self._lean = 0  # calls before this one keep only their plain arguments

        def dispatch(self, method: str, args: dict[str, Any], token: str | None) -> Any:
            answer = super().dispatch(method, args, token)
            with self._lock:  # the bot never keeps what it sent: neither may the bench's Slack
                for call in self._calls[self._lean :]:  # (thousands of block trees, at 1M
                    trees = [k for k, v in call.args.items() if isinstance(v, (dict, list))]
                    for key in trees:  # claims, made each full collection walk them for ~1 s)
                        del call.args[key]
                self._lean = len(self._calls)
            if method in ("chat.update", "views.open"):
                with self._seen:
                    if method == "views.open":
                        self.opened.append(time.perf_counter())
                    else:
                        self.updated[str(args.get("ts"))].append(time.perf_counter())
                    self._seen.notify_all()
            return answer

        def respond(self, url: str, raw: bytes) -> Any:
            answer = super().respond(url, raw)
            with self._seen:
                self.responded[url].append(time.perf_counter())
                self._seen.notify_all()
            return answer

        def wait_responded(self, url: str, timeout: float = 30.0) -> float:
            """When the first post to `url` (a command's response_url) was answered."""
            with self._seen:
                if not self._seen.wait_for(lambda: self.responded[url], timeout):
                    raise RuntimeError(f"nothing posted to {url} after {timeout}s")
                return self.responded[url][0]

        def wait_opened(self, count: int, timeout: float = 10.0) -> float:
            """When the `count`-th views.open was answered (perf_counter)."""
            with self._seen:
                if not self._seen.wait_for(lambda: len(self.opened) >= count, timeout):
                    raise RuntimeError(f"no views.open #{count} after {timeout}s")
                return self.opened[count - 1]

        def wait_update(self, ts: str, count: int, timeout: float = 10.0) -> float:
            """When the `count`-th chat.update of message `ts` was answered (perf_counter)."""
            with self._seen:
                if not self._seen.wait_for(lambda: len(self.updated[ts]) >= count, timeout):
                    raise RuntimeError(f"no chat.update #{count} of {ts} after {timeout}s")
                return self.updated[ts][count - 1]

    return WatchedSlack()


def _metered_pacer() -> Any:
    """The real Pacer(1.0), noting the posting thread's CPU and the time at its first wait."""
    from bot.posting import Pacer

    class MeteredPacer(Pacer):
        started: tuple[float, float] | None = None  # (perf_counter, thread_time)

        def wait(self, channel: str) -> None:
            if self.started is None:
                self.started = (time.perf_counter(), time.thread_time())
            super().wait(channel)

    return MeteredPacer(interval=1.0)


class GcPauses:
    """A `gc.callbacks` hook: how many full (generation 2) collections ran, and the longest."""

    def __init__(self) -> None:
        self.count, self.longest = 0, 0.0
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.count += 1
            self.longest = max(self.longest, time.perf_counter() - self._started)
            self._started = None


PLANS = (("Starter", 19.0), ("Classic", 29.0), ("Pro", 49.0), ("Family", 89.0))


def build_data(data_dir: Path, size: int, due: int) -> list[str]:
    """Write `size` subscribers (`due` of them at their day-30 check-in) and closed tasks.

    The others started 200 to 330 days ago on monthly plans: past the day-180 check-in's
    window, before their anniversary, no pre-renewal, so the engine opens nothing for them.
    Returns the ids of the subscribers due today.
    """
    from bot.repos import Repos
    from bot.store import Store

    rng = random.Random(SEED)
    subscribers: list[Any] = []
    due_ids: list[str] = []
    for i in range(size):
        is_due = i % max(size // due, 1) == 0 and len(due_ids) < due
        age = 30 if is_due else rng.randint(200, 330)
        subscribers.append(_subscriber(i, TODAY - timedelta(days=age), rng))
        if is_due:
            due_ids.append(subscribers[-1].id)
    with Store(data_dir) as store:
        repos = Repos.open(store)
        repos.subscribers.put_many(subscribers)
        picked = rng.sample([s.id for s in subscribers], min(HISTORY_TASKS, size))
        repos.tasks.create_many(_closed_tasks(repos, picked, rng))
    return due_ids


def _subscriber(i: int, started: date, rng: random.Random) -> Any:
    from bot.models import Subscriber, Subscription

    sid = f"cus_{i:06d}"
    plan, amount = rng.choice(PLANS)
    subscription = Subscription(
        id=f"sub_{sid}",
        plan=plan,
        amount=amount,
        currency="usd",
        started=started,
        current_period_end=TODAY + timedelta(days=rng.randint(1, 30)),
    )
    return Subscriber(
        id=sid,
        email=f"customer{i}@example.com",
        name=f"Customer {i}" if i % 7 else f"O'Brien & <Sons> {i}",  # markup to escape
        source="stripe",
        first_started=started,
        subscriptions=[subscription],
    )


def _closed_tasks(repos: Any, subscriber_ids: list[str], rng: random.Random) -> list[Any]:
    """Day-180 check-ins done in the past months, one for each of `subscriber_ids`."""
    from bot.models import TASK_DONE, Task

    tasks: list[Any] = []
    reserved: set[str] = set()
    for sid in subscriber_ids:
        key = f"{sid}:checkin_180"
        task_id = repos.tasks.new_id(key, reserved)
        reserved.add(task_id)
        due_on = TODAY - timedelta(days=rng.randint(20, 150))
        at = datetime.combine(due_on, MONDAY_MORNING.timetz())
        tasks.append(
            Task(
                id=task_id,
                key=key,
                kind="checkin_180",
                subscriber_id=sid,
                due=due_on,
                created_at=at,
                status=TASK_DONE,
                reason="Day 180",
                closed_at=at,
                closed_by=MANAGERS[0],
                outcome="reached",
            )
        )
    return tasks


def start_bot(fake: Any, data_dir: Path, pacer: Any, *, start: bool = True, **env: str) -> Any:
    """The bot as `python app.py` builds it, on port 0, its Web API calls going to `fake`.

    Args:
        fake: the FakeSlack (the bench's managers are added to it).
        data_dir: the bot's data directory.
        pacer: the digest publisher's pacer.
        start: serve at once; False leaves `Runtime.start()` to the caller (to time it).
        **env: more settings, as environment variables (IMAP_HOST=...).
    """
    import app
    from bot.clock import FixedClock
    from tests.handlers.conftest import fake_settings

    for user in MANAGERS:
        fake.add_user(user)
    settings = fake_settings(fake, data_dir, **env)
    runtime = app.build(settings, clock=FixedClock(MONDAY_MORNING), port=0, pacer=pacer)
    if start:
        runtime.start(serve_http=True)
    return runtime


def measure_posting(runtime: Any, fake: Any, pacer: Any) -> dict[str, Any]:
    """Post today's digest at 1 message/s: engine and plan first, then the paced posts."""
    wall, cpu = time.perf_counter(), time.thread_time()
    record = runtime.services.publisher.publish(TODAY)
    end_wall, end_cpu = time.perf_counter(), time.thread_time()
    posts = [c for c in fake.calls("chat.postMessage") if c.status == 200 and not c.error]
    first_wall, first_cpu = pacer.started
    span = posts[-1].time - posts[0].time
    posting_cpu = end_cpu - first_cpu
    return {
        "digest_tasks": len(_task_ids(runtime)),
        "posted": len(posts),
        "prepare_s": first_wall - wall,
        "prepare_cpu_s": first_cpu - cpu,
        "posting_wall_s": span,
        "posting_rate": (len(posts) - 1) / span if span > 0 else 0.0,
        "posting_cpu_s": posting_cpu,
        "posting_cpu_pct": 100 * posting_cpu / (end_wall - first_wall),
        "record": record,
    }


def _task_ids(runtime: Any) -> list[str]:
    """Today's digest tasks, in thread order."""
    return [t for m in runtime.services.repos.digests.messages(TODAY) for t in m.task_ids]


def measure_render(runtime: Any, repeat: int = 5) -> dict[str, Any]:
    """CPU time to render the digest's parent and replies from today's plan (median)."""
    from bot.blocks.render import DigestRenderer
    from bot.digest import plan_digest

    s = runtime.services
    plan = plan_digest(TODAY, s.repos, s.settings, s.clock.now())
    per = s.settings.digest.tasks_per_message
    batches: list[tuple[str, list[Any], bool]] = []
    for entry in plan.entries:
        last = batches[-1] if batches else None
        if last is not None and last[0] == entry.kind and len(last[1]) < per:
            last[1].append(entry)
        else:
            batches.append((entry.kind, [entry], last is None or last[0] != entry.kind))
    renderer = DigestRenderer(s.settings.timezone, s.clock)
    progress = {"claimed": 0, "done": 0, "open": len(plan.tasks), "expired": 0}
    times = []
    for _ in range(repeat):
        start = time.process_time()
        renderer.parent(TODAY, plan.counts, progress)
        for kind, entries, first in batches:
            renderer.batch(kind, entries, first)
        times.append(time.process_time() - start)
    return {
        "render_cpu_ms": statistics.median(times) * 1000,
        "render_tasks": len(plan.tasks),
        "render_messages": len(batches) + 1,
    }


def measure_claims(runtime: Any, fake: Any, record: Any) -> dict[str, Any]:
    """Claim every digest task by `/care claim ID`, one at a time, timing answer and update."""
    from tests.slackreq import SlackSender

    url = f"http://127.0.0.1:{runtime.server.port}/slack/events"
    sender = SlackSender(url, SIGNING_SECRET, timeout=30)
    tasks = runtime.services.repos.tasks
    task_ids = _task_ids(runtime)
    timings = []
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    try:
        for n, task_id in enumerate(task_ids):
            user = MANAGERS[n % len(MANAGERS)]
            entry_ts = tasks.require(task_id).slack["ts"]
            timings.append(_claim(sender, fake, task_id, user, entry_ts, record.parent_ts))
    finally:
        gc.callbacks.remove(pauses)
    answers, firsts, updates, parents = (list(column) for column in zip(*timings, strict=True))
    claimed = sum(1 for t in task_ids if tasks.require(t).claimed_by)
    if claimed != len(task_ids):
        raise RuntimeError(f"only {claimed} of {len(task_ids)} tasks ended up claimed")
    return {
        "claims": len(answers),
        "answer_p50_ms": statistics.median(answers),
        "answer_p95_ms": percentile(answers, 95),
        "answer_max_ms": max(answers),
        "first_answer_max_ms": max(firsts),
        "late_answers": sum(1 for a, f in zip(answers, firsts, strict=True) if a != f),
        "update_p50_ms": statistics.median(updates),
        "update_p95_ms": percentile(updates, 95),
        "update_max_ms": max(updates),
        "gc_full_pauses": pauses.count,
        "gc_longest_pause_ms": pauses.longest * 1000,
        "parent_p95_ms": percentile(parents, 95),
    }


def _claim(
    sender: Any, fake: Any, task_id: str, user: str, entry_ts: str, parent_ts: str
) -> tuple[float, float, float, float]:
    """One `/care claim`: ms until the manager reads the answer, until the HTTP answer, and
    until the entry's chat.update and the parent's.

    A claim not stored within `handlers.in_time.ANSWER_WITHIN` (a stalled disk) is answered
    "still working on it", and its answer follows through the response_url: then the first
    two differ, and the slowest first answer shows how long Slack waited.
    """
    from handlers.in_time import HOLDING
    from tests.slackreq import command_body

    url = fake.new_response_url(COMMANDS, user)
    body = command_body(
        "/care",
        f"claim {task_id}",
        user_id=user,
        channel_id=COMMANDS,
        trigger_id=fake.issue_trigger_id(user),
        response_url=url,
    )
    seen_entry, seen_parent = len(fake.updated[entry_ts]), len(fake.updated[parent_ts])
    start = time.perf_counter()
    status, _, text = sender.post(body)
    first = answered = time.perf_counter()
    if status == 200 and HOLDING in text:
        answered = fake.wait_responded(url)
        text = json.dumps(fake.responses(url)[0])
    if status != 200 or "You claimed" not in text:
        raise RuntimeError(f"/care claim {task_id} was answered {status}: {text[:300]}")
    updated = fake.wait_update(entry_ts, seen_entry + 1)
    parent = fake.wait_update(parent_ts, seen_parent + 1)
    ms = [(t - start) * 1000 for t in (answered, first, updated, parent)]
    return ms[0], ms[1], ms[2], ms[3]


def measure_email_modal(runtime: Any, fake: Any, clicks: int = 100) -> dict[str, Any]:
    """Click Email on digest entries: ms from the signed click to views.open with the draft."""
    from bot.blocks import ids
    from tests.handlers.conftest import entry_buttons
    from tests.slackreq import SlackSender, block_actions_body

    url = f"http://127.0.0.1:{runtime.server.port}/slack/events"
    sender = SlackSender(url, SIGNING_SECRET, timeout=30)
    tasks = runtime.services.repos.tasks
    timings = []
    for n, task_id in enumerate(_task_ids(runtime)[:clicks]):
        user = MANAGERS[n % len(MANAGERS)]
        message = fake.message(DIGEST, tasks.require(task_id).slack["ts"])
        button = entry_buttons(message, task_id)[ids.ACTION_EMAIL]
        body = block_actions_body(
            ids.ACTION_EMAIL,
            button["value"],
            user_id=user,
            channel_id=DIGEST,
            message=message,
            block_id=button["block_id"],
            trigger_id=fake.issue_trigger_id(user),
        )
        seen = len(fake.opened)
        start = time.perf_counter()
        status, _, text = sender.post(body)
        if status != 200:
            raise RuntimeError(f"Email on {task_id} was answered {status}: {text[:300]}")
        timings.append((fake.wait_opened(seen + 1) - start) * 1000)
    return {
        "email_clicks": len(timings),
        "email_open_p50_ms": statistics.median(timings),
        "email_open_p95_ms": percentile(timings, 95),
    }


def worker(workdir: Path, size: int, due: int) -> dict[str, Any]:
    """Measure one size on a fresh JSON store in `workdir`; returns the figures."""
    data_dir = workdir / "data"
    start = time.perf_counter()
    due_ids = build_data(data_dir, size, due)
    out: dict[str, Any] = {"build_s": time.perf_counter() - start, "due": len(due_ids)}
    fake, pacer = _watched_slack().start(), _metered_pacer()
    try:
        start = time.perf_counter()
        runtime = start_bot(fake, data_dir, pacer)
        out["subscribers"] = runtime.services.repos.subscribers.count()
        out["start_s"] = time.perf_counter() - start
        try:
            posting = measure_posting(runtime, fake, pacer)
            record = posting.pop("record")
            out.update(posting)
            out.update(measure_render(runtime))
            out.update(measure_claims(runtime, fake, record))
            out.update(measure_email_modal(runtime, fake))
        finally:
            runtime.stop()
        if fake.violations:
            raise RuntimeError(f"the bot broke Slack's API contract: {fake.violations[:5]}")
    finally:
        fake.stop()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


if __name__ == "__main__":
    _dir, _size, _due = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(worker(_dir, _size, _due)))
