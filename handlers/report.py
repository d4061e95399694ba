"""`/care report [7d|30d|90d]`, the weekly report's chart upload, and the App Home headline.

The report's numbers come from `bot.metrics.weekly.ReportCache`: computing a report reads the
whole store, so Slack gets the cached one (under an hour old) and a report not cached yet is
computed in the background while the manager is told to ask again in a moment. The Home's
headline is computed once a day after the digest is posted and kept
(`bot.metrics.headline.HeadlineKeeper`): a Home view never starts a computation.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from bot.activity import Activity
from bot.blocks import replies
from bot.blocks.report import build_report_message, headline_lines
from bot.care import CareError
from bot.jobs import register_headline
from bot.metrics.headline import Headline, HeadlineKeeper
from bot.metrics.report import PERIODS
from bot.metrics.weekly import ReportCache
from handlers.context import Services

log = logging.getLogger(__name__)
CACHE = "reports"
HEADLINE = "headline"


class SlackUploader:
    """`bot.metrics.weekly.Uploader` over slack_sdk's files_upload_v2 (three Web API calls)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def upload(self, channel: str, thread_ts: str, charts: list[Any]) -> None:
        if not charts:
            return
        self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            file_uploads=[
                {"content": c.png, "filename": c.filename, "title": c.title, "alt_txt": c.alt_text}
                for c in charts
            ],
        )


def cache_of(services: Services) -> ReportCache | None:
    cache = services.extras.get(CACHE)
    return cache if isinstance(cache, ReportCache) else None


def report_reply(services: Services, args: list[str]) -> dict[str, Any]:
    """The ephemeral answer to `/care report [7d|30d|90d]`."""
    period = (args[0] if args else "30d").lower()
    if period.isdigit():
        period += "d"
    if period not in PERIODS:
        raise CareError("Usage: `/care report [7d|30d|90d]`")
    cache = cache_of(services)
    report = cache.get(period) if cache is not None else None
    if report is None:
        return replies.build_info(
            f"The {period} report is being computed from the whole history. "
            f"Run `/care report {period}` again in a minute."
        )
    return build_report_message(report)


def keeper_of(services: Services) -> HeadlineKeeper | None:
    keeper = services.extras.get(HEADLINE)
    return keeper if isinstance(keeper, HeadlineKeeper) else None


def headline(services: Services) -> Headline | None:
    """The App Home's headline (30 days) as last computed, or None before the first. Reads
    only what is kept: the daily job computes it (`HeadlineKeeper.tick`)."""
    keeper = keeper_of(services)
    return keeper.current() if keeper is not None else None


def headline_view(services: Services) -> tuple[list[str] | None, datetime | None]:
    """The headline's lines and when they were computed, as `build_home` takes them."""
    found = headline(services)
    return (headline_lines(found.figures), found.computed_at) if found else (None, None)


def _charts(report: Any) -> list[Any]:
    """The weekly report's charts. matplotlib (55 MB, seconds to import) loads on the first."""
    from bot.metrics.charts import charts

    return charts(report)


def build_reports(services: Services, scheduler: Any, activity: Activity | None = None) -> None:
    """The report cache, the weekly reporter and its 5-minute check, the headline's keeper
    and its turn (called by app.build). `activity`: the Slack requests the HTTP layer sees;
    the headline waits for a lull in them, and both computations pause while one is in
    flight."""
    from bot.metrics.weekly import WeeklyReporter, register_weekly_report
    from handlers.slack_sink import SlackSink

    cache = ReportCache(  # not computed while a digest posts: claims come first
        services.repos,
        services.settings,
        services.clock,
        hold=lambda: services.publisher.posting,
        pause=activity.pause if activity is not None else None,
    )
    services.extras[CACHE] = cache
    reporter = WeeklyReporter(
        services.repos,
        services.settings,
        services.clock,
        SlackSink(services.client),
        SlackUploader(services.client),
        cache,
        _charts,
    )
    services.extras["weekly_report"] = reporter
    services.extras["weekly_report_job"] = register_weekly_report(scheduler, reporter)
    publisher = services.publisher
    keeper = HeadlineKeeper(  # computed after the day's digest is posted, never beside it
        services.repos,
        services.settings,
        services.clock,
        ready=lambda: not publisher.posting and not publisher.is_due(),
        activity=activity,
    )
    services.extras[HEADLINE] = keeper
    services.extras["headline_job"] = register_headline(scheduler, keeper)
