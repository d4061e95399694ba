"""The report's charts as PNG images, drawn with matplotlib's headless Agg backend.

- retention curves by start-month cohort (day 30, 90, 180, 365);
- cancellations and saves logged per week;
- median first-response time per week (business hours).

Each chart is `Chart(filename, title, alt_text, png)`, 1200x600 pixels (12x6 inches at 100 dpi).
Weeks or cohorts without data are left out of the lines rather than drawn as 0.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # headless: no display, no GUI toolkit

from matplotlib.axes import Axes  # noqa: E402  (after choosing the backend)
from matplotlib.figure import Figure  # noqa: E402

from bot.metrics.care import RETENTION_DAYS  # noqa: E402
from bot.metrics.report import MetricsReport  # noqa: E402

SIZE_INCHES, DPI = (12, 6), 100


@dataclass(frozen=True)
class Chart:
    filename: str
    title: str
    alt_text: str
    png: bytes


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _figure(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="tight")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig, ax


def retention_chart(report: MetricsReport) -> Chart:
    title = "Retention by start month"
    fig, ax = _figure(title)
    drawn = 0
    for cohort in report.cohorts:
        points = [(n, f.value) for n, f in cohort.retention.items() if f.value is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=cohort.month)
            drawn += 1
    ax.set_xticks(list(RETENTION_DAYS), [f"day {n}" for n in RETENTION_DAYS])
    ax.set_ylabel("% still customers")
    ax.set_ylim(0, 105)
    if drawn:
        ax.legend(ncol=4, fontsize="small")
    alt = f"{title}: {drawn} cohorts" + "".join(
        f"; {c.month} day 30 {c.retention[30].text()}" for c in report.cohorts[-3:]
    )
    return Chart("retention.png", title, alt[:1000], _png(fig))


def churn_saves_chart(report: MetricsReport) -> Chart:
    title = "Cancellations and saves per week"
    fig, ax = _figure(title)
    labels = [w.period.last.strftime("%b %d") for w in report.weeks]
    x = range(len(labels))
    ax.bar(
        [i - 0.2 for i in x], [w.cancellations for w in report.weeks], 0.4, label="cancellations"
    )
    ax.bar([i + 0.2 for i in x], [w.saves_logged for w in report.weeks], 0.4, label="saves logged")
    ax.set_xticks(list(x), labels, rotation=45)
    ax.legend()
    total = sum(w.cancellations for w in report.weeks)
    saves = sum(w.saves_logged for w in report.weeks)
    alt = f"{title}, {len(labels)} weeks to {report.period.last}: {total} cancellations, {saves} saves"
    return Chart("churn-and-saves.png", title, alt, _png(fig))


def response_chart(report: MetricsReport) -> Chart:
    title = "Median first response per week (business hours)"
    fig, ax = _figure(title)
    labels = [w.period.last.strftime("%b %d") for w in report.weeks]
    points = [
        (i, w.first_response_median.value)
        for i, w in enumerate(report.weeks)
        if w.first_response_median.value is not None
    ]
    if points:
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o")
    else:
        ax.text(0.5, 0.5, "No inbox conversation answered in these weeks", ha="center",
                transform=ax.transAxes)  # fmt: skip
    ax.set_xticks(list(range(len(labels))), labels, rotation=45)
    ax.set_ylabel("hours")
    alt = f"{title}: {len(points)} of {len(labels)} weeks with answered conversations"
    return Chart("first-response.png", title, alt, _png(fig))


def charts(report: MetricsReport) -> list[Chart]:
    """Every chart of the report."""
    return [retention_chart(report), churn_saves_chart(report), response_chart(report)]
