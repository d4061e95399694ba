"""Many threads writing through the repositories at once, as Bolt's listener threads do:
nothing is lost, and a compare-and-set style claim has exactly one winner."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from bot.models import TASK_CLAIMED, Task
from bot.repos import Repos
from bot.store import Store
from tests.bot.repos.factories import event, subscriber, task

THREADS = 24


class AlreadyClaimed(Exception):
    pass


def run_together(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run `work(n)` for n in range(threads), all released at once; re-raise any failure."""
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def target(n: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[n] = work(n)
        except BaseException as exc:  # collected and checked by the caller
            results[n] = exc

    pool = [threading.Thread(target=target, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a writer thread hung"
    return results


def no_errors(results: list[Any]) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors


def test_threads_creating_tasks_lose_none(repos: Repos) -> None:
    per_thread = 25

    def create(n: int) -> None:
        for i in range(per_thread):
            key = f"cus_{n}_{i}:checkin_30"
            with repos.store.lock:  # choose an id and create it as one step
                assert repos.tasks.create(task(repos.tasks.new_id(key), f"cus_{n}_{i}", key=key))

    no_errors(run_together(create))
    ids = [t.id for t in repos.tasks.all()]
    assert len(ids) == len(set(ids)) == THREADS * per_thread == repos.tasks.count()


def test_threads_creating_the_same_key_create_one_task(repos: Repos) -> None:
    results = run_together(lambda n: repos.tasks.create(task(f"id{n:03d}", "cus_1", key="k")))
    no_errors(results)
    assert results.count(True) == 1 and repos.tasks.count() == 1


def test_threads_incrementing_one_counter_lose_no_update(repos: Repos) -> None:
    repos.tasks.create(task("k7qx2"))
    rounds = 20

    def bump(t: Task) -> None:
        score = t.risk_score
        os.sched_yield()  # invite a switch between read and write, where a race would be
        t.risk_score = score + 1

    no_errors(run_together(lambda n: [repos.tasks.mutate("k7qx2", bump) for _ in range(rounds)]))
    assert repos.tasks.get("k7qx2").risk_score == THREADS * rounds


def test_exactly_one_of_many_claimants_wins_and_the_rest_learn_who(repos: Repos) -> None:
    repos.tasks.create(task("k7qx2"))

    def claim_as(user: str) -> Callable[[Task], str]:
        def claim(t: Task) -> str:
            if t.claimed_by:
                raise AlreadyClaimed(f"already claimed by {t.claimed_by}")
            os.sched_yield()
            t.status, t.claimed_by = TASK_CLAIMED, user
            return user

        return claim

    results = run_together(lambda n: repos.tasks.mutate("k7qx2", claim_as(f"U{n:02d}"))[1])
    winners = [r for r in results if isinstance(r, str)]
    refusals = [r for r in results if isinstance(r, AlreadyClaimed)]
    assert len(winners) == 1 and len(refusals) == THREADS - 1
    assert {str(r) for r in refusals} == {f"already claimed by {winners[0]}"}
    assert repos.tasks.get("k7qx2").claimed_by == winners[0]


def test_threads_adding_overlapping_events_store_each_once(repos: Repos) -> None:
    # Thread n adds events 0..39 of subscriber cus_{n % 6}: four threads share each set.
    def add(n: int) -> int:
        return sum(repos.events.add(event(f"cus_{n % 6}", i)) for i in range(40))

    results = run_together(add)
    no_errors(results)
    assert sum(results) == 6 * 40 == repos.events.count()
    assert all(len(repos.events.for_subscriber(f"cus_{s}")) == 40 for s in range(6))


def test_threads_writing_subscribers_tasks_and_events_lose_nothing(repos: Repos) -> None:
    def mixed(n: int) -> None:
        for i in range(10):
            sid = f"cus_{n}_{i}"
            repos.subscribers.put(subscriber(sid))
            assert repos.tasks.create(task(f"t{n:02d}{i:02d}", sid))
            assert repos.events.add(event(sid, i))

    no_errors(run_together(mixed))
    total = THREADS * 10
    assert (repos.subscribers.count(), repos.tasks.count(), repos.events.count()) == (total,) * 3


def test_concurrent_writes_survive_reopening_the_json_store(tmp_path) -> None:
    data = tmp_path / "data"
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        repos.tasks.create(task("k7qx2"))

        def work(n: int) -> None:
            assert repos.tasks.create(task(f"t{n:03d}", f"cus_{n}", "onboarding"))
            assert repos.events.add(event(f"cus_{n}", n))
            repos.tasks.mutate("k7qx2", lambda t: setattr(t, "risk_score", t.risk_score + 1))

        no_errors(run_together(work))
    with Store(data, shards=8) as store:
        repos = Repos.open(store)
        assert repos.tasks.count() == THREADS + 1
        assert repos.events.count() == THREADS
        assert repos.tasks.get("k7qx2").risk_score == THREADS


def test_put_many_from_threads_upserts_every_batch(repos: Repos) -> None:
    def batch(n: int) -> int:
        # Each thread writes 30 new subscribers and rewrites cus_shared.
        subs = [subscriber(f"cus_{n}_{i}") for i in range(30)]
        return repos.subscribers.put_many([*subs, subscriber("cus_shared", name=f"By {n}")])

    results = run_together(batch)
    no_errors(results)
    assert sum(results) == THREADS * 31
    assert repos.subscribers.count() == THREADS * 30 + 1
    assert repos.subscribers.get("cus_shared").name in {f"By {n}" for n in range(THREADS)}
