"""The bot saves the plan index again after its daily run, when it was written since.

A long-running bot keeps its plan index up to date in memory while customers are written;
its file ages until a preview or a restart indexes the day's writes afresh (or builds it whole
once a quarter of the documents changed). After the engine's run the bot saves it again, only
if it holds the index and documents were written since its file was: the next process
restores it with nothing to index afresh, and plans what a whole build plans.
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FixedClock
from bot.engine import run_engine
from bot.repos import Repos, plan_file
from bot.store import Store
from tests.bot.builders import TODAY, at_noon
from tests.bot.repos.test_plan_file import _planned_with, _saved, _whole, _write
from tests.bot.test_enginerun import _config


def test_the_bot_saves_the_index_again_after_its_daily_run_when_written_since():
    with _saved() as (data, sids):
        path = data / plan_file.NAME
        config = _config(data)
        tomorrow = TODAY + timedelta(days=1)
        with Store(data, shards=16) as store:  # the bot: a day's run, writes, the next run
            repos = Repos.open(store)
            run_engine(TODAY, repos, config, FixedClock(at_noon(TODAY)))
            first = path.read_bytes()  # restored as it was: not saved again
            for n, kind in enumerate(["cancels", "checkin", "new"]):
                _write(kind, repos, n, sids)
            assert path.read_bytes() == first  # a write does not save it
            run_engine(tomorrow, repos, config, FixedClock(at_noon(tomorrow)))
            assert path.read_bytes() != first
            again = path.read_bytes()
            run_engine(tomorrow, repos, config, FixedClock(at_noon(tomorrow)))
            assert path.read_bytes() == again  # nothing written since: not saved again
        restored, got = _planned_with(data)
        assert restored is not None and restored[2] == 0  # nothing to index afresh
        assert got == _whole(data, 0, 3, 300.0)


def test_a_process_that_does_not_hold_the_index_does_not_build_it_to_save_it():
    with _saved() as (data, sids):
        path = data / plan_file.NAME
        before = path.read_bytes()
        with Store(data, shards=16) as store:
            repos = Repos.open(store)
            _write("cancels", repos, 0, sids)
            assert repos.subscribers.resave_plan_index() is False
            assert repos.subscribers.planned(sids[0]) is None  # still not built
        assert path.read_bytes() == before
        with Store(data, read_only=True) as reader:  # a preview plans, never writes it
            repos = Repos.open(reader)
            repos.subscribers.plan_candidates(_windows(), [])
            assert repos.subscribers.resave_plan_index() is False
        assert path.read_bytes() == before


def _windows():  # noqa: ANN202
    from tests.bot.repos.test_plan_file import plan_file_windows

    return plan_file_windows()
