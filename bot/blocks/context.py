"""Who a customer is, in two or three lines: for triage messages and live-signal alerts.

`subscriber_context` is the one place that says plan, status, tenure, value, stage, risk with
its reasons, and the open task with its claimant; every outside string is escaped.
"""

from __future__ import annotations

from datetime import date

from bot.blocks.labels import band_label, kind_label
from bot.blocks.limits import MAX_SECTION_TEXT
from bot.blocks.text import clip, escape, link, one_line, tenure, truncate, user_ref
from bot.models import Risk, Subscriber, Task
from bot.money import price_label


def subscriber_context(
    sub: Subscriber,
    today: date,
    *,
    stage: str = "",
    risk: Risk | None = None,
    open_task: Task | None = None,
    churn_task: Task | None = None,
    churn_link: str = "",
) -> str:
    """The customer's context as mrkdwn, within one section's limit."""
    details = [
        f":bust_in_silhouette: *{clip(one_line(sub.display_name), 150)}*",
        clip(one_line(sub.plan), 200) or "no plan",
        escape(sub.status.replace("_", " ")),
        f"customer for {tenure(sub.first_started, today)}",
    ]
    price = price_label(sub)
    if price:
        details.append(price)
    if stage:
        details.append(clip(one_line(stage), 100))
    lines = ["  ·  ".join(details)]
    if risk is not None:
        reasons = "; ".join(clip(one_line(r), 200) for r in risk.reason_texts()[:5])
        lines.append(
            f"Risk {band_label(risk.score, risk.band)}" + (f": {reasons}" if reasons else "")
        )
    for label, task in (("Open task", open_task), ("Churn-risk task", churn_task)):
        if task is None or (label == "Open task" and task is churn_task):
            continue
        line = f"{label} `{escape(task.id)}` {kind_label(task.kind)}"
        line += f", claimed by {user_ref(task.claimed_by)}" if task.claimed_by else ", unclaimed"
        if label == "Churn-risk task" and churn_link:
            line += f"  ·  {link(churn_link, 'open in the digest')}"
        lines.append(line)
    return truncate("\n".join(lines), MAX_SECTION_TEXT)
