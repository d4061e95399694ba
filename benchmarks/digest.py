"""Issue 13's digest figures: posting cost, claims while posting, and the terminal preview.

On the core section's synthetic data (a Stripe export and an events CSV per size), each size
in fresh interpreters (`python -m benchmarks._digest_worker post|preview WORKDIR SIZE`):

1. `post`: the real bot (10 managers, the default care.toml: 15 touches each, so 150
   entries plus must-show ones) posts today's digest at Slack's 1 message/second against
   the fake Slack. While it posts, a signed `/care claim` arrives every 0.2 s: one posted
   entry in three (once its message is posted), and between them tasks waiting in the
   queue (the slowest answer is the 1M figure's "no claim ack over 1 s while a digest
   posts"). After posting, every posted entry still open is claimed by `/care claim`, one
   after another, in two rows of every other entry (p50 / p95 of the answer). The first is
   the ack target: the App Home headline's scheduler turn comes every minute from the end
   of posting, as in the bot, and waits for a lull in Slack requests (it starts after the
   claims; the bench waits for it). The second is claimed while the headline computes
   anyway, as it does once deferred past its bound, its passes pausing for each claim:
   shown, not judged (`benchmarks._after_posting`).
   CPU per posted message is the posting thread's own time over the messages it posted.
   Up to 100k, the posting step then runs `CARE_BENCH_POST_RUNS - 1` more times (2 by
   default; `repost`: claims while posting, nothing after) on fresh copies of the imported
   data, and the figure judged is the median of the runs: one run's figure moves by some
   10% between runs of the same code.
2. `preview`: `python app.py digest --preview` as a whole process, alternated with a process
   that only `json.load`s the files it reads (noted by one untimed run through Python's
   audit hook), 3 times each (medians); and `--all`. Its target is at 100k; above
   `PREVIEW_MAX_SIZE` it is not run (the core section measures the 1M preview).
   It runs after the post step: after the day's engine run and claims.
3. `morning` (run first, on a copy of the imported data): the engine runs for the day before
   only, as the bot's daily job did yesterday; then the day's `digest --preview` beside a
   bare `json.load`, as in 2: a manager previewing before the day's job. Same target.
4. `fresh` (also first, on a copy): the preview with no engine run at all, the first day
   after an import (or after a day the bot was down): the whole dry run, its subscribers'
   plan index restored from the file the import saved (`bot.repos.plan_file`). Same target.

Importing a million subscribers takes some 8 minutes before anything is measured. To reuse a
data directory already imported from the same synthetic exports (`core`'s, seed 3), name it
per size in `CARE_BENCH_DATA`, e.g. `CARE_BENCH_DATA=1000000=/path/to/data`
(`SIZE=DIR[,SIZE=DIR...]`): each run copies it (`cp -a`) into its own temporary directory and
posts from the copy, so the original is never written and runs stay independent. Without it
(a plain `make bench`) every size generates and imports its own data.
`CARE_BENCH_HOME_VIEWERS=N`: N managers have their App Home open while the digest posts (every
claim then redraws their Homes); 0 by default.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import Options, Report, Row, Section
from benchmarks._digest_worker import PRISTINE
from benchmarks.core import label, prepare
from benchmarks.slack import run_worker

SIZES = (1_000, 100_000)
WORKER_TIMEOUT = 3600  # a loaded machine: the 100k preview runs 9 processes
QUICK_SIZES = (200, 1_000)
PREVIEW_MAX_SIZE = 100_000  # the preview's target size; 1M previews are the core section's
DATA_ENV = "CARE_BENCH_DATA"
CPU_RATIO, POST_LIMIT_S, PREVIEW_RATIO, ACK_RATIO, ACK_MS, DURING_MS = 1.2, 180, 3, 1.2, 50, 1000
# Posting runs per size up to 100k (the first with everything after it, then reposts on fresh
# copies of the imported data): the CPU per message judged is their median.
POST_RUNS = int(os.environ.get("CARE_BENCH_POST_RUNS", "3"))


def run(options: Options) -> Report:
    sizes = options.sizes or (QUICK_SIZES if options.quick else SIZES)
    imported = imported_dirs(os.environ.get(DATA_ENV, ""))
    console = Console(stderr=True)
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="care-bench-digest-") as tmp:
        for size in sizes:
            workdir = Path(tmp) / str(size)
            workdir.mkdir()
            if size in imported:
                with console.status(f"digest: {label(size)}: copying {imported[size]}"):
                    copy_data(imported[size], workdir / "data")
            else:
                with console.status(f"digest: {label(size)}: writing the CSVs"):
                    prepare(workdir, size)
            results[size] = {}
            if size <= PREVIEW_MAX_SIZE:  # on a copy, before the post step runs today's engine
                with console.status(f"digest: {label(size)}: the morning's preview"):
                    results[size] = run_worker(
                        "benchmarks._digest_worker", ["morning", workdir, size], WORKER_TIMEOUT
                    )
                with console.status(f"digest: {label(size)}: the preview after an import"):
                    results[size].update(
                        run_worker(
                            "benchmarks._digest_worker", ["fresh", workdir, size], WORKER_TIMEOUT
                        )
                    )
            if size <= PREVIEW_MAX_SIZE:  # imported by now: kept as it is for the reposts
                copy_data(workdir / "data", workdir / PRISTINE)
            with console.status(f"digest: {label(size)}: posting at 1/s, claims while posting"):
                results[size].update(
                    run_worker("benchmarks._digest_worker", ["post", workdir, size], WORKER_TIMEOUT)
                )
                results[size]["reused_data"] = size in imported
            if size > PREVIEW_MAX_SIZE:
                continue
            runs = [results[size]["cpu_per_message_ms"]]
            for n in range(2, POST_RUNS + 1):
                with console.status(f"digest: {label(size)}: posting again ({n} of {POST_RUNS})"):
                    again = run_worker(
                        "benchmarks._digest_worker", ["repost", workdir, size], WORKER_TIMEOUT
                    )
                runs.append(again["cpu_per_message_ms"])
            results[size]["cpu_per_message_runs"] = runs
            results[size]["cpu_per_message_median_ms"] = statistics.median(runs)
            with console.status(f"digest: {label(size)}: digest --preview vs json.load"):
                results[size].update(
                    run_worker(
                        "benchmarks._digest_worker", ["preview", workdir, size], WORKER_TIMEOUT
                    )
                )
    return report(results)


def imported_dirs(spec: str) -> dict[int, Path]:
    """`CARE_BENCH_DATA`'s `SIZE=DIR[,SIZE=DIR...]`: size -> an imported data directory.

    Raises:
        ValueError: an entry is not `SIZE=DIR`, or DIR holds no imported store.
    """
    dirs: dict[int, Path] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        size, sep, path = item.partition("=")
        if not sep or not size.strip().isdigit():
            raise ValueError(f"{DATA_ENV}: expected SIZE=DIR, got {item!r}")
        data_dir = Path(path.strip()).expanduser()
        if not (data_dir / "subscribers.json").is_file():
            raise ValueError(f"{DATA_ENV}: {data_dir} is not an imported data directory")
        dirs[int(size)] = data_dir
    return dirs


def copy_data(source: Path, target: Path) -> None:
    """Copy an imported data directory (`cp -a`), so a run never writes into the original."""
    subprocess.run(["cp", "-a", str(source), str(target)], check=True, timeout=WORKER_TIMEOUT)


def report(results: dict[int, dict[str, Any]]) -> Report:
    sizes = sorted(results)
    small = sizes[0]
    # The 100k targets are judged at the largest size up to 100k (a 1M run beside 1k and 100k
    # is judged on its own target: no claim ack over 1 s while posting), else at the largest.
    big = max((s for s in sizes if small < s <= PREVIEW_MAX_SIZE), default=sizes[-1])
    previewed = max((s for s in sizes if "preview_over_load" in results[s]), default=big)
    morning = max((s for s in sizes if "morning_preview_over_load" in results[s]), default=None)
    fresh = max((s for s in sizes if "fresh_preview_over_load" in results[s]), default=None)

    # The median of several posting runs where both sizes have one (up to 100k), else one run.
    both = all("cpu_per_message_median_ms" in results[s] for s in (small, big))
    judged_cpu = "cpu_per_message_median_ms" if both else "cpu_per_message_ms"

    def values(key: str) -> dict[str, float | None]:
        return {label(s): results[s].get(key) for s in sizes}

    def ratio(key: str) -> float:
        return float(results[big][key] / results[small][key])

    def optional_ratio(key: str) -> float | None:
        both = results[big].get(key), results[small].get(key)
        return None if None in both else float(both[0] / both[1])  # type: ignore[operator]

    rows = [
        Row("Subscribers", values("subscribers")),
        Row("Entries posted (customers)", values("posted_entries")),
        Row("Tasks posted", values("posted_tasks")),
        Row("Tasks waiting in the queue", values("queued_tasks")),
        Row("Messages posted (parent + replies)", values("messages")),
        Row("Engine run + plan before the first post", values("prepare_s"), "s"),
        Row(
            "The default digest, start to last post",
            values("digest_wall_s"),
            "s",
            f"{label(big)} < {POST_LIMIT_S} s",
            results[big]["digest_wall_s"] < POST_LIMIT_S,
        ),
        Row("Bot CPU per posted message", values("cpu_per_message_ms"), "ms"),
        Row(
            "  the median of the posting runs (the figure judged)"
            if both
            else "  (one posting run: the figure judged)",
            values(judged_cpu),
            "ms",
        ),
        Row(
            f"  CPU per message {label(big)} / {label(small)}",
            {label(big): ratio(judged_cpu)},
            "x",
            f"<= {CPU_RATIO}",
            ratio(judged_cpu) <= CPU_RATIO,
        ),
        Row("  median of each message's own CPU", values("message_cpu_p50_ms"), "ms"),
        Row(
            "  like for like: a full message (as many customers as one holds), median",
            values("full_message_cpu_p50_ms"),
            "ms",
        ),
        Row("    full messages posted", values("full_messages")),
        Row("    tasks a full message holds, mean", values("full_message_tasks")),
        Row(
            f"    {label(big)} / {label(small)}",
            {label(big): optional_ratio("full_message_cpu_p50_ms")},
            "x",
        ),
        Row("Claims while posting (posted entries + queued tasks)", values("during_claims")),
        Row("  of posted entries (one in 3, once posted)", values("during_posted_claims")),
        Row("  answered, p50", values("during_p50_ms"), "ms"),
        Row("  answered, p95", values("during_p95_ms"), "ms"),
        Row(
            "  slowest answer",
            values("during_max_ms"),
            "ms",
            f"< {DURING_MS} ms (the 1M target)",
            all(results[s]["during_max_ms"] < DURING_MS for s in sizes),
        ),
        Row(
            f"  p95 {label(big)} / {label(small)}",
            {label(big): ratio("during_p95_ms")},
            "x",
        ),
        Row(
            "  answered in over 1 s",
            values("during_over_1s"),
            "",
            "none (the 1M target)",
            all(results[s].get("during_over_1s", 0) == 0 for s in sizes),
        ),
        Row("  answered in over 3 s (Slack's limit)", values("during_over_3s")),
        Row("  not answered within Slack's 3 s", values("during_unanswered")),
        Row(
            "After posting: /care claim of half the posted entries left (the headline waits "
            "for a lull)",
            values("claims"),
        ),
        Row(
            "  answered, p50",
            values("answer_p50_ms"),
            "ms",
            f"< {ACK_MS} ms",
            results[big]["answer_p50_ms"] < ACK_MS,
        ),
        Row(
            "  answered, p95",
            values("answer_p95_ms"),
            "ms",
            f"< {ACK_MS} ms",
            results[big]["answer_p95_ms"] < ACK_MS,
        ),
        Row(
            f"  p50 {label(big)} / {label(small)}",
            {label(big): ratio("answer_p50_ms")},
            "x",
            f"<= {ACK_RATIO}",
            ratio("answer_p50_ms") <= ACK_RATIO,
        ),
        Row(
            f"  p95 {label(big)} / {label(small)}",
            {label(big): ratio("answer_p95_ms")},
            "x",
            f"<= {ACK_RATIO}",
            ratio("answer_p95_ms") <= ACK_RATIO,
        ),
        Row("  the headline's turns that waited for a lull", values("headline_turns_deferred")),
        Row("  the headline started during these claims", values("headline_started_in_claims")),
        Row("  it started, after the last claim", values("headline_start_after_claims_s"), "s"),
        Row("  the Home headline's daily computation", values("headline_s"), "s"),
        Row("    its CPU", values("headline_cpu_s"), "s"),
        Row(
            "After posting: /care claim of the other half, while the headline computes anyway "
            "(past its bound)",
            values("forced_claims"),
        ),
        Row("  answered, p50", values("forced_p50_ms"), "ms"),
        Row("  answered, p95", values("forced_p95_ms"), "ms"),
        Row(
            f"  p50 {label(big)} / {label(small)}",
            {label(big): optional_ratio("forced_p50_ms")},
            "x",
        ),
        Row(
            f"  p95 {label(big)} / {label(small)}",
            {label(big): optional_ratio("forced_p95_ms")},
            "x",
        ),
        Row(
            "  the headline beside them (pausing for each claim)", values("forced_headline_s"), "s"
        ),
        Row("    its CPU", values("forced_headline_cpu_s"), "s"),
        Row("    computations run during the claims", values("forced_headline_runs")),
        Row("Data files the preview reads (of the directory's)", values("files_read")),
        Row("  their size", values("files_mb"), "MB"),
        Row("  the directory's files, all", values("files_in_data_dir")),
        Row("digest --preview, whole process", values("preview_process_s"), "s"),
        Row("  a bare json.load of the same files", values("json_load_process_s"), "s"),
        Row(
            "  preview / json.load",
            values("preview_over_load"),
            "x",
            f"{label(previewed)} <= {PREVIEW_RATIO}",
            results[previewed].get("preview_over_load", float("inf")) <= PREVIEW_RATIO,
        ),
        Row("digest --preview --all, whole process", values("preview_all_process_s"), "s"),
        Row(
            "digest --preview in the morning (the engine ran the day before, not yet today)",
            values("morning_preview_process_s"),
            "s",
        ),
        Row("  a bare json.load of the same files", values("morning_json_load_process_s"), "s"),
        Row(
            "  morning preview / json.load",
            values("morning_preview_over_load"),
            "x",
            f"{label(morning)} <= {PREVIEW_RATIO}" if morning else "",
            None
            if morning is None
            else results[morning]["morning_preview_over_load"] <= PREVIEW_RATIO,
        ),
        Row("  customers the day before's run noted for the day", values("morning_noted")),
        Row(
            "  the day before's engine run (plans the next day ahead)",
            values("morning_engine_s"),
            "s",
        ),
        Row(
            "digest --preview the first day after an import (no engine run: the whole dry run)",
            values("fresh_preview_process_s"),
            "s",
        ),
        Row("  a bare json.load of the same files", values("fresh_json_load_process_s"), "s"),
        Row(
            "  first-day preview / json.load",
            values("fresh_preview_over_load"),
            "x",
            f"{label(fresh)} <= {PREVIEW_RATIO}" if fresh else "",
            None if fresh is None else results[fresh]["fresh_preview_over_load"] <= PREVIEW_RATIO,
        ),
        Row("  the import saved the plan index (1: yes)", values("fresh_saved_index")),
        Row("Peak memory of the posting bot (RSS)", values("peak_rss_mb"), "MB"),
    ]
    return Report(
        section="digest",
        title="Issue 13: the digest sized to the team, posting cost, preview",
        columns=[label(s) for s in sizes],
        rows=rows,
        data={"sizes": {str(s): results[s] for s in sizes}},
        notes=[
            "Bot and fake Slack share one process: claim latencies include the fake's work.",
            "Posting uses the real Pacer(1.0); the team is 10 managers at capacity 15.",
        ],
    )


SECTION = Section(
    name="digest",
    title="the digest sized to the team: posting, claims while posting, preview",
    json_name="issue13",
    run=run,
    order=25,
)
