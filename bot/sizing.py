"""The day sized to the team, building full entries only for what is posted.

`DigestPlan.choose` ranks a full entry for every customer due (milestones, today's risk
score, evidence, priority), about 350 us each: 25k at 100k subscribers, 250k at a million,
while the team's day posts a few hundred. `plan_day` gives the same posted entries, in the
same order, from cheap facts:

- every due customer's overdue flag, oldest due date, last reached day (from their tasks and
  the outreach log), and monthly value (one decode of the stored document);
- an upper bound of their risk score from the planning index (`bot.risk_bound.UpperBound`, no
  parsing): 0 means their risk is exactly none, and only a customer whose bound could change
  where they rank is scored.

Work in hand (no task left to claim) is posted, as `choose` does. The must-show rules can pin
only a customer with a risk bound above 0 worth `must_show_value` or more: those are scored,
and the pinned ones posted. The rest of the bound is filled best first from a heap keyed by the
most each customer could rank (`bot.priority.sort_key` with the risk bound for the score):
a customer popped with a bound is scored and pushed back with its real key, one popped with
its real key is next in the true order. A real key is never better than the bound's, so the
order is exactly `choose`'s. A customer the must-show rules cannot pin (worth less than
`must_show_value`) is first keyed as if at the highest risk, and bounded (their events read)
only if popped: when overdue work fills the day, those not overdue are never bounded. What waits in the queue is kept as the cheap `Due` records, a
stored task as its `bot.duetask.DueTask` facts (a posted entry reads its tasks in full): the
digest counts them, `/care queue` ranks them from the tasks (`bot.queue`). With no engine run
the day before, the dry run's new tasks are kept the same way: a customer whose risk cannot
open a churn_risk task gets their milestone tasks as `bot.duetask.PlannedTask` facts, neither
scored nor worded until their entry is built (`bot.engine.plan_changes` with `lazy`).
"""

from __future__ import annotations

import heapq
from datetime import date, datetime
from typing import Any

from bot import priority
from bot.bulk import paused_gc
from bot.digest import gather
from bot.digest_entries import Entries
from bot.digest_plan import DigestChoice, DigestEntry, DigestPlan, Due, count_tasks, kind_rank
from bot.repos import Repos
from bot.risk import MAX_SCORE
from config.settings import Settings


def plan_day(
    today: date,
    repos: Repos,
    settings: Settings,
    now: datetime,
    limit: int | None,
    must_show_value: float,
) -> tuple[DigestPlan, DigestChoice]:
    """The posted part of `plan_digest(...).choose(limit, must_show_value)`, cheaply.

    Args:
        today: the digest date, in the team's timezone.
        repos: the repositories (only read).
        settings: lifecycle and risk rules.
        now: the time the planned (not yet created) tasks would carry.
        limit: entries to post (None: all).
        must_show_value: high churn risks and failed payments worth this much a month or
            more are posted even past `limit`.

    Returns:
        (the plan: its `entries` are the posted ones in digest order, its counts those of
        every customer due; the choice: the same posted entries, and the queue as `Due`
        records in no particular order).
    """
    grace = settings.lifecycle.grace_days
    with paused_gc():
        dues, entries, deferred = gather(today, repos, settings, now, slim=True)
        waiting: list[Due] = []
        held: list[Due] = []
        claimable: list[Due] = []
        for due in dues:
            (claimable if due.claimable else held).append(due)
        if limit is None or len(claimable) <= limit:
            posted = [entries.entry(d) for d in dues]
        else:
            chosen, waiting = _size(claimable, limit, must_show_value, entries, today)
            posted = [entries.entry(d) for d in held] + chosen
    posted.sort(key=lambda e: (kind_rank(e.kind), *e.rank_key(today)))
    plan = DigestPlan(today, posted, count_tasks(dues, today, grace), grace, deferred=deferred)
    return plan, DigestChoice(posted=posted, queued=waiting, limit=limit or 0)


def _size(
    dues: list[Due], limit: int, must_show_value: float, entries: Entries, today: date
) -> tuple[list[DigestEntry], list[Due]]:
    """(entries shown: every must-show one, then the best by rank up to `limit`; the rest)."""
    built: dict[int, DigestEntry] = {}
    heap: list[tuple[tuple[Any, ...], int]] = []
    pinned: set[int] = set()
    unbounded: set[int] = set()  # keyed as if at the highest risk: bounded when popped
    for i, due in enumerate(dues):
        value, most = entries.facts(due, bounded=False)
        if most is None and value >= must_show_value:  # the must-show rules may pin it
            value, most = entries.facts(due)
        if most is None:
            unbounded.add(i)
            most = MAX_SCORE
        elif most > 0 and value >= must_show_value and entries.may_pin(due.subscriber_id, most):
            # the must-show rules can pin it: score it
            entry = built[i] = entries.entry(due)
            if priority.must_show(entry.priority, must_show_value):
                pinned.add(i)
                continue
        if i in built:
            heap.append((built[i].rank_key(today), i))
        else:
            heap.append((_key(due, most, value, today), i))
    heapq.heapify(heap)
    shown = [built[i] for i in sorted(pinned)]
    room = max(limit - len(pinned), 0)
    taken: set[int] = set(pinned)
    while room > 0 and heap:
        key, i = heapq.heappop(heap)
        if i in unbounded:  # its bound now: never a better key than the highest risk's
            unbounded.discard(i)
            value, most = entries.facts(dues[i])
            assert most is not None
            heapq.heappush(heap, (_key(dues[i], most, value, today), i))
            continue
        if i not in built:
            built[i] = entries.entry(dues[i])
            real = built[i].rank_key(today)
            if real != key:
                heapq.heappush(heap, (real, i))
                continue
        shown.append(built[i])
        taken.add(i)
        room -= 1
    return shown, [d for i, d in enumerate(dues) if i not in taken]


def _key(due: Due, most: int, value: float, today: date) -> tuple[Any, ...]:
    """The best key `due` can have with a risk of at most `most` (`bot.priority.facts_key`)."""
    return priority.facts_key(
        due.overdue, most, value, due.last_reached, today, due.first_due, due.subscriber_id
    )
