"""The weekly care report in the digest channel, posted exactly once per week, and a cache of
recent reports for `/care report` and the App Home.

Exactly once, as the digest: the week's record is written before the post and its `ts` right
after; the message carries Slack metadata naming the week, so a run cut short between the post
and the record finds the message instead of posting again. The charts are uploaded in the
report's thread afterwards and recorded; a crash during their upload can repeat the charts,
never the report.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import schedule

from bot.blocks.report import build_report_message
from bot.clock import Clock
from bot.metrics.report import PERIODS, MetricsReport, build_report
from bot.posting import MessageSink
from bot.repos import Repos
from bot.repos.reports import CHARTS_DONE, CHARTS_UPLOADING, POSTED, ReportRecord, ReportRepo
from config import Settings
from config.rules import WEEKDAYS

log = logging.getLogger(__name__)
META_TYPE = "care_weekly_report"
CACHE_SECONDS = 3600


class Uploader(Protocol):
    def upload(self, channel: str, thread_ts: str, charts: list[Any]) -> None: ...


class ReportCache:
    """Recent reports by period, computed in the background so Slack never waits for them.

    `get` answers the cached report if it is under an hour old and for today; otherwise it
    starts computing one (once) and answers what it has, possibly None. While `hold()` is
    true (a digest posts) it starts nothing: a report reads the whole store, and at a million
    subscribers computing one beside the posting delayed claims' answers past a second.

    Args:
        hold: while it answers True, `get` answers what it has and computes nothing.
        pause: passed to `build_report`: its passes stop while a Slack request is in flight.
    """

    def __init__(
        self,
        repos: Repos,
        settings: Settings,
        clock: Clock,
        hold: Callable[[], bool] | None = None,
        pause: Callable[[], bool] | None = None,
    ) -> None:
        self.repos, self.settings, self.clock = repos, settings, clock
        self.hold, self.pause = hold, pause
        self._reports: dict[str, tuple[datetime, MetricsReport]] = {}
        self._computing: set[str] = set()
        self._lock = threading.Lock()

    def compute(self, period: str) -> MetricsReport:
        now = self.clock.now()
        today = now.astimezone(self.settings.timezone).date()
        report = build_report(self.repos, self.settings, today, PERIODS[period], now, self.pause)
        with self._lock:
            self._reports[period] = (now, report)
        return report

    def fresh(self, period: str) -> MetricsReport | None:
        now = self.clock.now()
        with self._lock:
            found = self._reports.get(period)
        if found is None:
            return None
        at, report = found
        today = now.astimezone(self.settings.timezone).date()
        if now - at > timedelta(seconds=CACHE_SECONDS) or report.period.last != today:
            return None
        return report

    def get(
        self, period: str, start: Callable[[Callable[[], None]], None] | None = None
    ) -> MetricsReport | None:
        """The fresh report, or None after starting its computation (`start` runs a job;
        default: a daemon thread). While `hold()` is true: the last report computed, or None."""
        report = self.fresh(period)
        if report is not None:
            return report
        held = self.hold is not None and self.hold()
        with self._lock:
            if held or period in self._computing:
                return self._stale(period)
            self._computing.add(period)

        def job() -> None:
            try:
                self.compute(period)
            except Exception:
                log.exception("Computing the %s report failed", period)
            finally:
                with self._lock:
                    self._computing.discard(period)

        (start or _thread)(job)
        return self.fresh(period)

    def _stale(self, period: str) -> MetricsReport | None:
        found = self._reports.get(period)
        return found[1] if found else None


def _thread(job: Callable[[], None]) -> None:
    threading.Thread(target=job, name="care-report", daemon=True).start()


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


class WeeklyReporter:
    """Posts the week's report (and its charts) to the digest channel, once."""

    def __init__(
        self,
        repos: Repos,
        settings: Settings,
        clock: Clock,
        sink: MessageSink,
        uploader: Uploader,
        cache: ReportCache,
        charts: Callable[[MetricsReport], list[Any]] | None = None,
    ) -> None:
        self.repos, self.settings, self.clock = repos, settings, clock
        self.sink, self.uploader, self.cache = sink, uploader, cache
        self.records = ReportRepo(repos.store)
        self.charts = charts
        self._posting = threading.Lock()

    @property
    def channel(self) -> str:
        return self.settings.slack.digest_channel

    def due_week(self) -> str | None:
        """This week's ISO week if its report day and time have passed and it is not posted."""
        local = self.clock.now().astimezone(self.settings.timezone)
        rules = self.settings.report
        day = WEEKDAYS.index(rules.weekly_day)
        if (local.weekday(), local.time()) < (day, rules.weekly_time):
            return None
        week = iso_week(local.date())
        record = self.records.get(week)
        return None if record is not None and record.status == POSTED else week

    def publish(self, week: str) -> ReportRecord:
        """Post `week`'s report unless it was posted; resume one cut short."""
        with self._posting:
            record = self.records.get(week) or ReportRecord(week, self.channel, self.clock.now())
            if record.status == POSTED:
                return record
            self.records.save(record)
            report = self.cache.compute(self.settings.report.weekly_period)
            if not record.ts:
                key = f"{week}:report"
                found = self.sink.find(record.channel, {"key": key})
                message = build_report_message(report, "Weekly care report")
                meta = {"event_type": META_TYPE, "event_payload": {"key": key}}
                record.ts = found.get(key) or self.sink.post(record.channel, message, metadata=meta)
                self.records.save(record)
            if record.charts != CHARTS_DONE and self.charts is not None:
                record.charts = CHARTS_UPLOADING
                self.records.save(record)
                self.uploader.upload(record.channel, record.ts, self.charts(report))
                record.charts = CHARTS_DONE
            record.status, record.posted_at = POSTED, self.clock.now()
            self.records.save(record)
            log.info("Weekly report for %s posted", week)
            return record

    def tick(self) -> None:
        week = self.due_week()
        if week is not None:
            self.publish(week)


def register_weekly_report(scheduler: schedule.Scheduler, reporter: WeeklyReporter) -> Any:
    """Check every 5 minutes whether this week's report is due (after a restart too)."""
    from bot.jobs import SingleFlight

    tick = SingleFlight("weekly-report", reporter.tick)
    scheduler.every(5).minutes.do(tick).tag("weekly-report")
    return tick
