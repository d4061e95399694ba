"""Care and service metrics, outcomes of outreach and the risk-rule backtest (no Slack).

Everything is computed from stored history for any period and as-of day; nothing is written.
Definitions of every number: docs/metrics.md.
"""

from bot.metrics.care import Period
from bot.metrics.figures import Figure
from bot.metrics.history import Book
from bot.metrics.report import PERIODS, MetricsReport, build_report

__all__ = ["PERIODS", "Book", "Figure", "MetricsReport", "Period", "build_report"]
