"""Live-signal alerts: one thread per customer in the alerts channel.

The parent message says what happened last, who the customer is (`subscriber_context`) and
carries the digest's Claim / Log outreach buttons for the customer's task; each alert is also
a reply in the thread. Wording is dunning-aware: while the billing system will retry a soft
decline, the alert says when and that outreach can wait for it; a hard decline, no retry
left or exhausted retries ask for a person now. A recovered payment closes the thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import ids
from bot.blocks.context import subscriber_context
from bot.blocks.labels import kind_label
from bot.blocks.limits import MAX_SECTION_TEXT
from bot.blocks.text import clip, escape, one_line, slack_date, truncate, user_ref
from bot.models import Risk, Subscriber, Task
from bot.money import amount_text

HEADS = {
    "payment_failed": ":credit_card: *Payment failed*",
    "retries_exhausted": ":rotating_light: *Payment retries exhausted*",
    "cancellation_scheduled": ":warning: *Cancellation scheduled*",
    "canceled": ":x: *Subscription cancelled*",
    "low_csat": ":slightly_frowning_face: *Low satisfaction rating*",
    "payment_recovered": ":white_check_mark: *Payment recovered*",
}
SOURCES = {
    "stripe": "Stripe",
    "shopify": "Shopify",
    "chargebee": "Chargebee",
    "recharge": "Recharge",
    "zendesk": "Zendesk",
    "gorgias": "Gorgias",
    "front": "Front",
}


@dataclass
class Alert:
    """One event the team must not miss, with what its wording needs. Strings are raw."""

    key: str
    kind: str  # one of HEADS
    source: str
    at: datetime
    amount: float | None = None
    currency: str = ""
    attempt: int = 0
    next_retry: datetime | None = None
    decline_code: str = ""
    hard: bool = False
    reason: str = ""
    ends: str = ""  # the day a scheduled cancellation takes effect (ISO)
    score: float | None = None  # CSAT 0-100
    invoice: str = ""  # the failed payment's invoice, to match a decline reported apart
    retry_unknown: bool = False  # the source does not say whether it retries (Shopify)

    @property
    def needs_person_now(self) -> bool:
        """A failed payment no automatic retry will fix."""
        return self.kind == "retries_exhausted" or (
            self.kind == "payment_failed" and (self.hard or self.next_retry is None)
        )


@dataclass
class AlertView:
    """What an alert thread's parent shows."""

    subscriber: Subscriber
    alerts: list[Alert]  # the open thread's alerts, oldest first
    stage: str = ""
    risk: Risk | None = None
    task: Task | None = None  # the task the buttons act on
    closed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def alert_text(alert: Alert, tz: ZoneInfo) -> str:
    """One alert in words (mrkdwn, escaped), dunning-aware for payments."""
    source = SOURCES.get(alert.source, escape(alert.source))
    amount = amount_text(alert.amount, alert.currency) if alert.amount is not None else ""
    head = HEADS.get(alert.kind, f"*{escape(alert.kind)}*")
    if alert.kind == "payment_failed":
        parts = [p for p in (amount, f"attempt {alert.attempt}" if alert.attempt else "") if p]
        if alert.decline_code:
            kind = "hard decline" if alert.hard else "soft decline"
            parts.append(f"{kind}: `{clip(one_line(alert.decline_code), 60)}`")
        else:
            parts.append("decline code unknown")
        text = f"{head}: {', '.join(parts)}." if parts else f"{head}."
        if alert.hard:
            text += f" {source} will not get this card through: reach out now."
        elif alert.next_retry is not None:
            text += (
                f" {source} retries {slack_date(alert.next_retry, tz=tz)}:"
                " outreach can wait for that retry."
            )
        elif alert.retry_unknown:
            text += (
                f" {source} does not say whether your subscription app retries:"
                " check its dunning before reaching out."
            )
        else:
            text += f" No retry is scheduled in {source}: reach out now."
        return text
    if alert.kind == "retries_exhausted":
        return f"{head}{': ' + amount if amount else ''}. {source} has stopped retrying: reach out now."
    if alert.kind == "payment_recovered":
        return f"{head}{': ' + amount if amount else ''}. Thread closed."
    if alert.kind == "low_csat":
        score = f"{alert.score:.0f}/100" if alert.score is not None else "low"
        text = f"{head}: {score}."
    elif alert.kind == "cancellation_scheduled":
        ends = f" It ends {escape(alert.ends)}." if alert.ends else ""
        text = f"{head} in {source}.{ends}"
    else:
        text = f"{head} in {source}."
    if alert.reason:
        text += f" Reason: _{clip(one_line(alert.reason), 500)}_"
    return text


def build_alert_parent(view: AlertView, today: date, tz: ZoneInfo) -> dict[str, Any]:
    """The thread's parent: the latest alert, the customer's context, and the task's buttons."""
    latest = view.alerts[-1]
    blocks: list[dict[str, Any]] = [_section(truncate(alert_text(latest, tz), MAX_SECTION_TEXT))]
    if len(view.alerts) > 1:
        earlier = ", ".join(HEADS[a.kind].split("*")[1].lower() for a in view.alerts[:-1])
        blocks.append(_context(f"Earlier in this thread: {earlier}."))
    blocks.append(
        _section(
            subscriber_context(
                view.subscriber, today, stage=view.stage, risk=view.risk, open_task=view.task
            )
        )
    )
    task = view.task
    if view.closed:
        blocks.append(_context(":white_check_mark: Closed: the payment was recovered."))
    elif task is not None and task.active and not task.claimed_by:
        blocks.append(
            {
                "type": "actions",
                "block_id": ids.block_id(ids.BLOCK_ENTRY_ACTIONS, f"alert-{task.id}"),
                "elements": [
                    _button("Claim", ids.ACTION_CLAIM, task, "primary"),
                    _button("Log outreach", ids.ACTION_LOG, task),
                ],
            }
        )
    elif task is not None and task.active:
        blocks.append(
            {
                "type": "actions",
                "block_id": ids.block_id(ids.BLOCK_ENTRY_ACTIONS, f"alert-{task.id}"),
                "elements": [_button("Log outreach", ids.ACTION_LOG, task, "primary")],
            }
        )
        blocks.append(_context(f"{kind_label(task.kind)} claimed by {user_ref(task.claimed_by)}"))
    name = clip(one_line(view.subscriber.display_name), 150)
    head = HEADS[latest.kind].replace("*", "").split(" ", 1)[1]
    return {"text": f"{head}: {name}", "blocks": blocks}


def build_alert_reply(alert: Alert, tz: ZoneInfo) -> dict[str, Any]:
    """An alert as a reply in its customer's thread."""
    text = truncate(alert_text(alert, tz), MAX_SECTION_TEXT)
    return {"text": text, "blocks": [_section(text)]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(label: str, action_id: str, task: Task, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": ids.encode_ids([task.id]),
    }
    if style:
        button["style"] = style
    return button
