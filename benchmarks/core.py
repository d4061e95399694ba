"""Issue 3's figures: import, digest plan, one task write and peak memory at 1k-100k.

Each size runs in a fresh interpreter (`python -m benchmarks._core_worker MODE WORKDIR SIZE`),
so its peak RSS (`ru_maxrss`) belongs to that size alone. The synthetic CSVs are written by the
parent first, so their generation counts neither in the timings nor in the memory.

The worker (`benchmarks/_core_worker.py`), on a JSON store in a temporary directory, as the
bot would:
1. imports the Stripe export (timed: target 100k rows < 10 s), then the events CSV;
2. runs the engine once, so the lifecycle and churn-risk tasks exist;
3. plans the day as the bot posts it (`bot.sizing.plan_day`: the team's entries in full,
   the queue as counts; median of 3; target 100k < 2 s), then once the full plan that
   `--all`, `--json` and tech touch build (shown, not judged);
4. creates one task and updates one task, 50 times each (medians; target < 20 ms at every
   size, and 100k no more than 1.5x 1k); each write is followed by a bare atomic write of
   1 KiB, the disk's floor under any write (two fsyncs), and its CPU time is kept apart;
5. reports its peak resident memory (target 100k < 500 MB), and its peak after each step.

A third process plans the digest from the files, read-only, as `digest --preview` does; a
fourth opens them as the bot starts (read every file, build every index: `app.build`'s
`_load_and_freeze`). Once every size is measured, one last process opens every size's store and
times the same task writes on each in turn (a 1k write, then a 1M write, ...), so every size's
writes see the same disk: the write ratios are judged on these side-by-side figures (fsync
latency on a shared disk moves tenfold within the minutes between two sizes' runs).

A million subscribers (issue 13 item 4) is not in the default sizes (it takes some 20
minutes): `python -m benchmarks core --sizes 1000000` runs it (with 1k beside it, for the write
ratio) against its targets: the bot's peak memory (read every file, or read them and plan, as
`digest --preview` does) < 1.5 GB, plan < 8 s, start-up < 30 s, a task write within 1.5x the
smallest size measured in the same run. The import worker's own peak (the whole import, engine
and plans in one process) is shown beside it, not judged.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import ROOT, Options, Report, Row, Section

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (200, 1_000)
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
SEED = 3
REPEAT_WRITES = 50
REPEAT_PLANS = 3
WORKER_TIMEOUT = 600  # seconds per 100k rows, at least

# (figure key, label, unit); targets are checked in `report`.
IMPORT_LIMIT_S, PLAN_LIMIT_S, WRITE_LIMIT_MS, RATIO_LIMIT, RSS_LIMIT_MB = 10, 2, 20, 1.5, 500
TARGET_SIZE = 100_000
# Issue 13 item 4: one machine up to a million subscribers.
LARGE_SIZE, LARGE_RSS_MB, LARGE_PLAN_S, LARGE_START_S = 1_000_000, 1536, 8, 30


def label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def run(options: Options) -> Report:
    """Measure every size in its own process and compare with issue 3's targets."""
    sizes = options.sizes or (QUICK_SIZES if options.quick else SIZES)
    if min(sizes) >= LARGE_SIZE:  # a million on its own: its write ratio needs 1k beside it
        sizes = (QUICK_SIZES[-1], *sizes)
    console = Console(stderr=True)
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="care-bench-") as tmp:
        for size in sizes:
            workdir = Path(tmp) / str(size)
            workdir.mkdir()
            with console.status(f"core: {label(size)} subscriber rows: writing the CSVs"):
                prepare(workdir, size)
            with console.status(f"core: {label(size)}: import, engine, digest, task writes"):
                results[size] = measure_in_subprocess(workdir, size, "measure")
            with console.status(f"core: {label(size)}: digest --preview from the files"):
                results[size].update(measure_in_subprocess(workdir, size, "preview"))
            with console.status(f"core: {label(size)}: bot start-up (load and index)"):
                results[size].update(measure_in_subprocess(workdir, size, "startup"))
        if len(sizes) > 1:
            with console.status("core: task writes on every size, side by side"):
                side = measure_in_subprocess(Path(tmp), max(sizes), "writes", sizes)
            for size in sizes:
                results[size].update({f"side_{k}": v for k, v in side[str(size)].items()})
    return report(results)


def prepare(workdir: Path, size: int) -> None:
    """Write `size` rows of a synthetic Stripe export and an events CSV for its customers."""
    from sample.generate import write_synthetic_events, write_synthetic_stripe

    customers = write_synthetic_stripe(workdir / "stripe.csv", size, TODAY, seed=SEED)
    write_synthetic_events(workdir / "events.csv", customers, TODAY, seed=SEED)


def measure_in_subprocess(
    workdir: Path, size: int, mode: str, sizes: tuple[int, ...] = ()
) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._core_worker", mode, str(workdir), str(size)]
        + [str(s) for s in sizes],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT * max(1, size // 100_000),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker ({mode} {size}) failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def report(results: dict[int, dict[str, Any]]) -> Report:
    """The table rows and JSON data for the measured sizes."""
    sizes = sorted(results)
    columns = [label(s) for s in sizes]

    def values(key: str) -> dict[str, float | None]:
        return {label(s): results[s].get(key) for s in sizes}

    def at_target(key: str, limit: float) -> bool | None:
        if TARGET_SIZE not in results:
            return None
        return bool(results[TARGET_SIZE][key] < limit)

    big = label(TARGET_SIZE)
    write_ok = all(
        results[s][k] < WRITE_LIMIT_MS for s in sizes for k in ("task_create_ms", "task_update_ms")
    )
    rows = [
        Row("Subscribers imported", values("subscribers")),
        Row("Tasks after the engine run", values("tasks")),
        Row(
            "Import the Stripe CSV",
            values("import_s"),
            "s",
            f"{big} < {IMPORT_LIMIT_S} s",
            at_target("import_s", IMPORT_LIMIT_S),
        ),
        Row("Import the events CSV", values("import_events_s"), "s"),
        Row("Engine run (creates the tasks)", values("engine_s"), "s"),
        Row(
            "Plan the day as the bot posts it (median of 3)",
            values("plan_s"),
            "s",
            f"{big} < {PLAN_LIMIT_S} s",
            at_target("plan_s", PLAN_LIMIT_S),
        ),
        Row("  its CPU (median)", values("plan_cpu_s"), "s"),
        Row("  the first of them (builds the facts later plans keep)", values("plan_first_s"), "s"),
        Row(
            "Full plan, every due customer's entry (--all, tech touch)", values("full_plan_s"), "s"
        ),
        Row("digest --preview (read the files, plan the day)", values("preview_s"), "s"),
        Row("digest --preview peak memory", values("preview_rss_mb"), "MB"),
        Row("Bot start-up: read and index every file", values("startup_s"), "s"),
        Row("  its peak memory", values("startup_rss_mb"), "MB"),
        Row(
            f"Create one task (median of {REPEAT_WRITES})",
            values("task_create_ms"),
            "ms",
            f"< {WRITE_LIMIT_MS} ms at every size",
            all(results[s]["task_create_ms"] < WRITE_LIMIT_MS for s in sizes),
        ),
        Row(
            f"Update one task (median of {REPEAT_WRITES})",
            values("task_update_ms"),
            "ms",
            f"< {WRITE_LIMIT_MS} ms at every size",
            all(results[s]["task_update_ms"] < WRITE_LIMIT_MS for s in sizes),
        ),
        Row("  of which CPU, create", values("task_create_cpu_ms"), "ms"),
        Row("  of which CPU, update", values("task_update_cpu_ms"), "ms"),
        Row("  disk floor: 1 KiB atomic write", values("atomic_write_ms"), "ms"),
        Row(
            "Create one task, every size in turn (the ratios')", values("side_task_create_ms"), "ms"
        ),
        Row(
            "Update one task, every size in turn (the ratios')", values("side_task_update_ms"), "ms"
        ),
        Row("  of which CPU, create", values("side_task_create_cpu_ms"), "ms"),
        Row("  of which CPU, update", values("side_task_update_cpu_ms"), "ms"),
        Row("  disk floor, in turn", values("side_atomic_write_ms"), "ms"),
    ]
    ratios: dict[str, float] = {}
    smallest, largest = sizes[0], sizes[-1]
    if largest > smallest:
        for what in ("create", "update"):
            ratio = write_ratio(results, largest, smallest, f"task_{what}_ms")
            cpu = write_ratio(results, largest, smallest, f"task_{what}_cpu_ms")
            ratios[f"{what}_{label(largest)}_vs_{label(smallest)}"] = ratio
            ratios[f"{what}_cpu_{label(largest)}_vs_{label(smallest)}"] = cpu
            rows.append(
                Row(
                    f"Task {what}: {label(largest)} / {label(smallest)}",
                    {label(largest): ratio},
                    "x",
                    f"< {RATIO_LIMIT}",
                    ratio < RATIO_LIMIT,
                )
            )
            rows.append(
                Row(f"  CPU only: {label(largest)} / {label(smallest)}", {label(largest): cpu}, "x")
            )
    rows.append(
        Row(
            "Peak memory (RSS)",
            values("peak_rss_mb"),
            "MB",
            f"{big} < {RSS_LIMIT_MB} MB",
            at_target("peak_rss_mb", RSS_LIMIT_MB),
        )
    )
    rows += large_rows(results)
    notes = [f"Synthetic Stripe exports of 1 row per subscription, as of {TODAY}; seed {SEED}."]
    if TARGET_SIZE not in results:
        notes.append(f"Targets at {big} not checked: {big} was not measured.")
    if not write_ok:
        notes.append("A task write took 20 ms or more: see the per-size figures.")
    if LARGE_SIZE in results:
        notes.append(
            f"{label(LARGE_SIZE)}'s fifth target, no claim ack over 1 s while a digest posts, is the "
            f"digest section's: CARE_BENCH_DATA={LARGE_SIZE}=DIR python -m benchmarks digest "
            f"--sizes 1000,{LARGE_SIZE} (DIR: an imported {label(LARGE_SIZE)} data directory, copied)."
        )
    return Report(
        section="core",
        title="Issue 3: import, digest plan, task writes, memory",
        columns=columns,
        rows=rows,
        data={"sizes": {str(s): results[s] for s in sizes}, "ratios": ratios},
        notes=notes,
    )


def write_ratio(results: dict[int, dict[str, Any]], big: int, small: int, key: str) -> float:
    """A task-write figure at `big` over `small`: from the side-by-side run when there is one
    (every size's writes in turn in one process, so on the same disk: fsync latency on a shared
    disk moves 10x within minutes, and the sizes are measured minutes apart)."""
    side = f"side_{key}"
    if side in results[big] and side in results[small]:
        return float(results[big][side] / results[small][side])
    return float(results[big][key] / results[small][key])


def large_rows(results: dict[int, dict[str, Any]]) -> list[Row]:
    """Issue 13 item 4's targets, when a million subscribers was measured."""
    if LARGE_SIZE not in results:
        return []
    big = results[LARGE_SIZE]
    col = label(LARGE_SIZE)
    ratio = write_ratio(results, LARGE_SIZE, min(results), "task_update_ms")
    bot_peak = max(big["preview_rss_mb"], big["startup_rss_mb"])
    return [
        Row(
            f"{col}: peak memory of the bot (files read, a plan)",
            {col: bot_peak},
            "MB",
            f"< {LARGE_RSS_MB} MB",
            bot_peak < LARGE_RSS_MB,
        ),
        Row(f"{col}: peak memory importing it all (one process)", {col: big["peak_rss_mb"]}, "MB"),
        Row(
            f"{col}: plan the day (as the bot posts it)",
            {col: big["plan_s"]},
            "s",
            f"< {LARGE_PLAN_S} s",
            big["plan_s"] < LARGE_PLAN_S,
        ),
        Row(
            f"{col}:   its CPU (the wall time less the waits of a loaded machine)",
            {col: big.get("plan_cpu_s")},
            "s",
        ),
        Row(f"{col}: the first plan after the engine's run", {col: big.get("plan_first_s")}, "s"),
        Row(
            f"{col}: bot start-up",
            {col: big["startup_s"]},
            "s",
            f"< {LARGE_START_S} s",
            big["startup_s"] < LARGE_START_S,
        ),
        Row(
            f"{col}: task update / {label(min(results))}",
            {col: ratio},
            "x",
            f"< {RATIO_LIMIT}",
            ratio < RATIO_LIMIT,
        ),
    ]


SECTION = Section(
    name="core",
    title="subscriber data, digest plan, task writes",
    json_name="issue3",
    run=run,
    order=10,
)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    status = Path("/proc/self/status")
    if status.exists():  # VmHWM: same figure as ru_maxrss, readable at every step
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
