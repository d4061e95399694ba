"""Issue 4's figures: `/care claim` latency, digest rendering and posting, with 100k subscribers.

Each size runs in a fresh interpreter (`python -m benchmarks._slack_worker WORKDIR SIZE TASKS`).
The worker, on a JSON store in a temporary directory:
1. writes the subscribers with one `SubscriberRepo.put_many` (most of them between
   milestones, `TASKS` of them at their day-30 check-in) and 300 closed tasks of the past;
2. starts the real bot (`app.build` + `Runtime.start`, HTTP on port 0) against a FakeSlack
   on another loopback port, with the real 1 message/second `Pacer`;
3. posts today's digest (the engine opens the `TASKS` check-ins): messages posted, wall time
   from the first post to the last, and the bot's CPU time while posting (thread time of the
   posting thread, so the fake Slack's own work in this process is not counted);
4. renders the digest again from the plan (parent + one message per 5 entries), CPU time;
5. claims every digest task with a signed `/care claim ID` over HTTP, one after another:
   the time until the answer (target p95 < 100 ms) and until the fake Slack has received
   the `chat.update` of the task's digest message (target p95 < 300 ms). A claim whose write
   stalls past 2 s is answered "still working on it" and its answer follows through the
   response_url (`handlers.in_time`): the answer's time is then the response_url's, and the
   claims so answered are counted.

The fake Slack runs in the worker's process (as in the end-to-end tests), so its work shares
the interpreter with the bot: the latencies include that contention and are pessimistic.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import ROOT, Options, Report, Row, Section
from benchmarks.core import label

SIZES = (100_000,)
QUICK_SIZES = (1_000,)
DIGEST_TASKS, QUICK_DIGEST_TASKS = 200, 20
WORKER_TIMEOUT = 600
ANSWER_P95_MS, UPDATE_P95_MS, RENDER_CPU_MS, RENDER_TASKS = 100, 300, 1000, 200
EMAIL_OPEN_P95_MS = 300  # issue 9: the Email modal opens (views.open) within 300 ms
PACE_TOLERANCE, CPU_SHARE_LIMIT = 0.1, 10.0  # +-10% of 1 message/s; bot CPU < 10% of wall


def run(options: Options) -> Report:
    """Measure every size in its own process and compare with issue 4's targets."""
    sizes = options.sizes or (QUICK_SIZES if options.quick else SIZES)
    tasks = QUICK_DIGEST_TASKS if options.quick else DIGEST_TASKS
    console = Console(stderr=True)
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="care-bench-slack-") as tmp:
        for size in sizes:
            workdir = Path(tmp) / str(size)
            workdir.mkdir()
            with console.status(
                f"slack: {label(size)} subscribers: digest of {tasks} at 1/s, then {tasks} claims"
            ):
                results[size] = run_worker("benchmarks._slack_worker", [workdir, size, tasks])
    return report(results)


def run_worker(module: str, args: list[Any], timeout: float = WORKER_TIMEOUT) -> dict[str, Any]:
    """Run `python -m module ARGS` from the repository; its last stdout line is JSON."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker {module} {args} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def percentile(values: list[float], pct: float) -> float:
    """The `pct`-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats
    return ordered[int(rank) - 1]


def report(results: dict[int, dict[str, Any]]) -> Report:
    """The table rows and JSON data for the measured sizes."""
    sizes = sorted(results)
    columns = [label(s) for s in sizes]

    def values(key: str) -> dict[str, float | None]:
        return {label(s): results[s].get(key) for s in sizes}

    def below(key: str, limit: float) -> bool:
        return all(results[s][key] < limit for s in sizes)

    def paced(s: int) -> bool:
        return abs(results[s]["posting_rate"] - 1.0) <= PACE_TOLERANCE

    full_render = all(results[s]["render_tasks"] >= RENDER_TASKS for s in sizes)
    rows = [
        Row("Subscribers loaded", values("subscribers")),
        Row("Tasks in the digest", values("digest_tasks")),
        Row("Write the data (put_many + tasks)", values("build_s"), "s"),
        Row("Bot start (build, load the store)", values("start_s"), "s"),
        Row("Digest: engine run + plan, before posting", values("prepare_s"), "s"),
        Row("Messages posted (parent + replies)", values("posted")),
        Row("Posting: first to last message", values("posting_wall_s"), "s"),
        Row(
            "Posting pace, messages per second",
            values("posting_rate"),
            "",
            f"1/s (Slack's limit) +-{PACE_TOLERANCE:.0%}",
            all(paced(s) for s in sizes),
        ),
        Row("Bot CPU while posting", values("posting_cpu_s"), "s"),
        Row(
            "Bot CPU while posting, % of wall time",
            values("posting_cpu_pct"),
            "",
            f"< {CPU_SHARE_LIMIT:.0f}%",
            below("posting_cpu_pct", CPU_SHARE_LIMIT),
        ),
        Row(
            f"Render the digest (CPU, median of 5), {RENDER_TASKS} tasks",
            values("render_cpu_ms"),
            "ms",
            f"< {RENDER_CPU_MS:,} ms",
            below("render_cpu_ms", RENDER_CPU_MS) if full_render else None,
        ),
        Row("Claims sent", values("claims")),
        Row("/care claim answered, p50", values("answer_p50_ms"), "ms"),
        Row(
            "/care claim answered, p95",
            values("answer_p95_ms"),
            "ms",
            f"< {ANSWER_P95_MS} ms",
            below("answer_p95_ms", ANSWER_P95_MS),
        ),
        Row("  slowest answer", values("answer_max_ms"), "ms"),
        Row(
            "  answered late (still working, then the response_url)",
            values("late_answers"),
        ),
        Row("  slowest first answer (Slack waits 3 s)", values("first_answer_max_ms"), "ms"),
        Row("Whole claim (to chat.update), p50", values("update_p50_ms"), "ms"),
        Row(
            "Whole claim (to chat.update), p95",
            values("update_p95_ms"),
            "ms",
            f"< {UPDATE_P95_MS} ms",
            below("update_p95_ms", UPDATE_P95_MS),
        ),
        Row("  parent counts updated too, p95", values("parent_p95_ms"), "ms"),
        Row("Slowest whole claim", values("update_max_ms"), "ms"),
        Row("  full GC runs during the claims", values("gc_full_pauses")),
        Row("  longest full GC pause", values("gc_longest_pause_ms"), "ms"),
        Row("Email button clicks (issue 9)", values("email_clicks")),
        Row("Email modal opened (views.open), p50", values("email_open_p50_ms"), "ms"),
        Row(
            "Email modal opened (views.open), p95",
            values("email_open_p95_ms"),
            "ms",
            f"< {EMAIL_OPEN_P95_MS} ms",
            below("email_open_p95_ms", EMAIL_OPEN_P95_MS),
        ),
        Row("Peak memory (RSS)", values("peak_rss_mb"), "MB"),
    ]
    notes = [
        "Bot and fake Slack share one process (as in the tests): latencies include that.",
        "Posting uses the real Pacer(1.0); CPU is the posting thread's own time.",
    ]
    if not full_render:
        notes.append(f"Render target not judged: the digest had fewer than {RENDER_TASKS} tasks.")
    return Report(
        section="slack",
        title="Issue 4: the Slack app (claims, digest rendering and posting)",
        columns=columns,
        rows=rows,
        data={"sizes": {str(s): results[s] for s in sizes}},
        notes=notes,
    )


SECTION = Section(
    name="slack",
    title="claim latency, digest render and posting",
    json_name="issue4",
    run=run,
    order=20,
)
