"""The `digest` section's claims after posting (see `benchmarks._digest_worker`'s `post`):
two rows of `/care claim`s of the posted entries left open, one as the bot runs the App Home
headline (its scheduler turn waits for a lull in Slack requests), one while the headline
computes anyway (as once deferred past its bound)."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta
from typing import Any

from benchmarks._slack_worker import MANAGERS, TODAY, _claim
from benchmarks.slack import percentile

TURN_S = 60  # the headline's scheduler turn (bot.jobs.register_headline)
LULL_WAIT_S = 600  # after the claims, how long the turns may take to find the lull


def after_posting(runtime: Any, fake: Any, record: Any, sender: Any) -> dict[str, Any]:
    """The posted entries still open, claimed one after another in two rows (every other
    entry in each, so both rows claim alike):

    1. as the bot runs: the headline's scheduler turn every minute from the end of posting
       (`Turns`), which waits for a lull in Slack requests; the turns go on after the claims
       until it computes (`headline_*`: when it started, its wall and CPU time);
    2. while the headline computes anyway, as it does once deferred past its bound
       (`Forced`: computed again and again until the row's claims are done), its passes
       pausing while each claim is in flight (`forced_*`).

    The bot's clock runs with real time from the end of posting, as the system clock does,
    so the lull is real seconds.
    """
    s = runtime.services
    keeper = s.extras["headline"]
    run_clock(s.clock)
    entries = open_entries(s.repos)
    if len(entries) < 2:
        raise RuntimeError("fewer than two posted entries left open to claim after posting")
    turns = Turns(keeper, TURN_S)
    turns.start()
    first = claim_row(fake, record, sender, entries[0::2])
    claims_end = time.perf_counter()
    turns.join(timeout=LULL_WAIT_S)
    turns.stop()
    if turns.started_at is None:
        raise RuntimeError(f"the headline did not start within {LULL_WAIT_S} s of the claims")
    out = {
        "claims": len(first),
        "answer_p50_ms": statistics.median(first),
        "answer_p95_ms": percentile(first, 95),
        "headline_turns_deferred": turns.deferred,
        "headline_started_in_claims": turns.started_at < claims_end,
        "headline_start_after_claims_s": turns.started_at - claims_end,
        **turns.figures,
    }
    forced = Forced(keeper)
    forced.start()
    if not forced.running.wait(60):
        raise RuntimeError("the forced headline did not start")
    second = claim_row(fake, record, sender, entries[1::2])
    forced.stop()
    forced.join()
    if forced.error:
        raise RuntimeError(f"the forced headline failed: {forced.error}")
    out.update(
        {
            "forced_claims": len(second),
            "forced_p50_ms": statistics.median(second),
            "forced_p95_ms": percentile(second, 95),
            **forced.figures,
        }
    )
    return out


def run_clock(clock: Any) -> None:
    """From now on the bot's `FixedClock` runs with real time (as `SystemClock` does)."""
    base, start = clock.now(), time.monotonic()
    clock.now = lambda: base + timedelta(seconds=time.monotonic() - start)


class Turns(threading.Thread):
    """The headline's scheduler turn (`bot.jobs.register_headline`: every `every` s, the
    first at once): `HeadlineKeeper.tick`, which computes only after a lull in Slack requests
    (or once deferred past its bound). Ends once it computed, or at `stop()`."""

    def __init__(self, keeper: Any, every: float) -> None:
        super().__init__(name="bench-headline-turns", daemon=True)
        self.keeper, self.every = keeper, every
        self.deferred, self.started_at = 0, None  # type: int, float | None
        self.figures: dict[str, Any] = {}
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            wall, cpu = time.perf_counter(), time.thread_time()
            if self.keeper.tick():
                self.started_at = wall
                self.figures = {
                    "headline_s": time.perf_counter() - wall,
                    "headline_cpu_s": time.thread_time() - cpu,
                    "headline_computed": self.keeper.current() is not None,
                }
                return
            self.deferred += 1
            self._stopped.wait(self.every)

    def stop(self) -> None:
        self._stopped.set()


class Forced(threading.Thread):
    """The headline computed as it is once deferred past its bound (`HeadlineKeeper.refresh`,
    pausing while a Slack request is in flight), again and again until `stop()`: the first
    computation's wall and CPU time, and how many ran."""

    def __init__(self, keeper: Any) -> None:
        super().__init__(name="bench-headline-forced", daemon=True)
        self.keeper, self.running = keeper, threading.Event()
        self.figures: dict[str, Any] = {}
        self.error = ""
        self._stopped = threading.Event()

    def run(self) -> None:
        runs = 0
        try:
            while not self._stopped.is_set():
                wall, cpu = time.perf_counter(), time.thread_time()
                self.running.set()
                self.keeper.refresh()
                runs += 1
                if runs == 1:
                    self.figures = {
                        "forced_headline_s": time.perf_counter() - wall,
                        "forced_headline_cpu_s": time.thread_time() - cpu,
                    }
        except Exception as exc:  # reported by after_posting
            self.error = f"{type(exc).__name__}: {exc}"
            self.running.set()
        self.figures["forced_headline_runs"] = runs

    def stop(self) -> None:
        self._stopped.set()


def open_entries(repos: Any) -> list[tuple[str, str, str]]:
    """The posted entries still open after posting: (task id, manager, message ts), in the
    digest's order; each message's entries claimed by one manager."""
    entries = []
    for n, message in enumerate(repos.digests.messages(TODAY)):
        for entry in message.entries:
            task = repos.tasks.require(entry[0])
            if task.status == "open":
                entries.append((task.id, MANAGERS[n % len(MANAGERS)], message.ts))
    return entries


def claim_row(fake: Any, record: Any, sender: Any, entries: list[tuple[str, str, str]]) -> list:
    """`/care claim` each entry, one at a time, waiting for its message's and the parent's
    `chat.update`: ms to each answer."""
    return [_claim(sender, fake, t, user, ts, record.parent_ts)[0] for t, user, ts in entries]
