"""The metrics report as a Slack message: `/care report` (ephemeral) and the weekly post.

Pure functions of a `MetricsReport`. Numbers that cannot be computed show "n/a" with the
reason; outside text (inbox subjects) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.blocks.limits import MAX_SECTION_TEXT
from bot.blocks.text import bullet_list, escape, truncate
from bot.metrics.figures import Figure
from bot.metrics.report import LABELS, MetricsReport

CARE_KEYS = (
    "churn_rate", "voluntary_cancel_rate", "involuntary_cancel_rate", "cancellations",
    "win_backs", "new_customers", "nps", "saves",
)  # fmt: skip
SERVICE_KEYS = (
    "tickets", "first_response_median", "first_response_p90", "resolution_median",
    "first_contact_resolution", "csat",
)  # fmt: skip
HEADLINE_KEYS = ("churn_rate", "nps", "saves", "first_response_median", "csat")


def figure_line(key: str, figure: Figure) -> str:
    label = LABELS.get(key, key)
    if figure.value is None:
        return f"{label}: _n/a ({escape(figure.why)})_"
    based = f" (of {figure.n:,})" if figure.n and figure.unit == "%" else ""
    answers = f" ({figure.n:,} answers)" if figure.n and key in ("nps", "csat") else ""
    return f"{label}: *{escape(figure.text())}*{based}{answers}"


def headline_lines(figures: Mapping[str, Figure]) -> list[str]:
    """The few numbers the App Home shows, of a report's figures (`MetricsReport.figures`,
    `bot.metrics.headline.Headline.figures`)."""
    return [figure_line(k, figures[k]) for k in HEADLINE_KEYS if k in figures]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}}


def build_report_message(report: MetricsReport, title: str = "Care report") -> dict[str, Any]:
    """Header, care numbers, service numbers, team, inbox patterns, reached vs not reached."""
    period = report.period
    heading = f"{title}: {period.days} days, {period.first:%b %d} to {period.last:%b %d, %Y}"
    care = [figure_line(k, report.care[k]) for k in CARE_KEYS if k in report.care]
    service = [figure_line(k, report.service[k]) for k in SERVICE_KEYS if k in report.service]
    team = report.team
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading[:150]}},
        _section("*Care*\n" + bullet_list(care, MAX_SECTION_TEXT - 10)),
        _section("*Service*\n" + bullet_list(service, MAX_SECTION_TEXT - 10)),
        _section(
            f"*Team*: {team.due} due, {team.claimed} claimed, {team.done} done, "
            f"{team.expired} expired, {team.open_now} open now"
            + (f", {team.automated} emailed by the bot (tech touch)" if team.automated else "")
        ),
    ]
    if report.patterns:
        lines = [
            escape(p.sentence())
            + (f" (e.g. “{'”, “'.join(escape(e) for e in p.examples)}”)" if p.examples else "")
            for p in report.patterns[:5]
        ]
        blocks.append(_section("*Inbox this week*\n" + bullet_list(lines, MAX_SECTION_TEXT - 20)))
    compared = [c for c in report.comparisons if c.reached.known or c.not_reached.known]
    if compared:
        lines = [escape(c.sentence()) for c in compared[:6]]
        blocks.append(
            _section("*Does outreach help?*\n" + bullet_list(lines, MAX_SECTION_TEXT - 30))
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Every number is defined in docs/metrics.md."}],
        }
    )
    churn = report.care.get("churn_rate")
    text = f"{heading}. Churn {churn.text() if churn else 'n/a'}."
    return {"text": text, "blocks": blocks}
