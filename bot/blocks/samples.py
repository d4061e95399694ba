"""The sample story behind docs/slack-surfaces.md: one past-due customer, Ann Lee, on Jun 15 2026.

Her digest entry, her cancel request in the shared inbox, the email Maya sent her, the Reply
draft, the queue beyond today's digest and a task's history, as the domain objects the real
builders take. `bot/blocks/examples.py` renders them into the doc.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.blocks.entry import EntryView
from bot.blocks.triage import Attachment, CancelState, TriageView
from bot.models import Risk, RiskReason, Subscriber, Subscription, Task
from bot.outbox.reply import ReplyDraft
from bot.priority import Priority
from bot.queue import WorkEntry

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 15, 13, 0, tzinfo=UTC)  # 09:00 in New York
TODAY = date(2026, 6, 15)


def sample_subscriber() -> Subscriber:
    """A past-due customer of 15 months."""
    return Subscriber(
        id="cus_Q1Ann",
        email="ann.lee@example.com",
        name="Ann Lee",
        source="stripe",
        owner="Maya",
        subscriptions=[
            Subscription(
                id="sub_1",
                plan="Coffee Club Monthly",
                status="past_due",
                amount=49.0,
                currency="usd",
                started=date(2025, 3, 2),
            )
        ],
        first_started=date(2025, 3, 2),
    )


def sample_entry() -> EntryView:
    """That customer with a churn-risk task and a check-in due together."""
    created = datetime(2026, 6, 12, 13, 0, tzinfo=UTC)
    reasons = ["2 failed payments in 30 days", "Asked to cancel by email on Jun 12"]
    tasks = [
        Task(
            id="k7qx2",
            key="cus_Q1Ann:churn_risk",
            kind="churn_risk",
            subscriber_id="cus_Q1Ann",
            due=date(2026, 6, 12),
            created_at=created,
            reason="Two failed payments, then asked to cancel",
            risk_score=95,
            risk_band="high",
            risk_reasons=reasons,
            value=49.0,
        ),
        Task(
            id="a3b4c",
            key="cus_Q1Ann:checkin_90",
            kind="checkin_90",
            subscriber_id="cus_Q1Ann",
            due=date(2026, 6, 15),
            created_at=created,
            reason="90 days since the plan change",
            value=49.0,
        ),
    ]
    risk = Risk(
        score=95,
        band="high",
        reasons=[
            RiskReason("payment_failed", 30, reasons[0]),
            RiskReason("cancel_request", 60, reasons[1]),
        ],
    )
    evidence = [
        *reasons,
        "NPS 4 on 2026-06-02: \u201cthe last two bags were stale\u201d",
        "2 support contacts in the last 30 days (last: \u201cticket 812: where is my box?\u201d)",
        "Last order on 2026-05-14 (32 days ago)",
        "Tags: gift, espresso",
    ]
    return EntryView(
        subscriber=sample_subscriber(),
        tasks=tasks,
        risk=risk,
        kind="churn_risk",
        evidence=evidence,
    )


def claimed(entry: EntryView, user: str = "U04MAYA", at: datetime | None = None) -> EntryView:
    """The entry with every task claimed by `user`."""
    at = at or datetime(2026, 6, 15, 13, 42, tzinfo=UTC)
    tasks = [replace(t, status="claimed", claimed_by=user, claimed_at=at) for t in entry.tasks]
    return replace(entry, tasks=tasks)


def later_entry(entry: EntryView) -> EntryView:
    """Another customer, unclaimed, whose day-30 check-in was due on the digest's day."""
    sub = replace(entry.subscriber, id="cus_R2Bo", name="Bo Park", email="bo@example.com")
    task = replace(
        entry.tasks[1],
        id="m4p8z",
        key="cus_R2Bo:checkin_30",
        kind="checkin_30",
        subscriber_id=sub.id,
        reason="30 days since the first box",
    )
    return EntryView(subscriber=sub, tasks=[task], kind="checkin_30")


def sample_triage() -> TriageView:
    """A cancel request from that customer, with an attachment."""
    return TriageView(
        item_id="m9r2t",
        sender_email="ann.lee@example.com",
        sender_name="Ann Lee",
        subject="Please cancel my subscription",
        text="Hi, I was charged twice this month and I'd like to cancel. Thanks, Ann",
        received_at=datetime(2026, 6, 15, 12, 51, tzinfo=UTC),
        attachments=[Attachment("statement.pdf", 48_213)],
        intent="cancel",
        intents=[("cancel", "Please cancel my subscription"), ("billing", "I was charged twice")],
        cancel=CancelState("counted", 0.95),
        subscriber=sample_subscriber(),
        stage="active, month 15",
        risk=sample_entry().risk,
        churn_task=sample_entry().tasks[0],
        churn_task_link="https://example.slack.com/archives/C0DIGEST/p1781528400000100",
    )


def sample_outreach() -> TriageView:
    """The email Maya sent that customer from her digest entry, awaiting the answer."""
    return TriageView(
        item_id="p3w8k",
        sender_email="ann.lee@example.com",
        sender_name="Ann Lee",
        subject="How is your second year with us going?",
        subscriber=sample_subscriber(),
        stage="active, month 15",
        outreach_by="U04MAYA",
        outreach_at=datetime(2026, 6, 15, 13, 10, tzinfo=UTC),
        outreach_text="Hi Ann,\n\nYou have been with us for over a year now: thank you! "
        "Is there anything we could do better?\n\nMaya",
    )


def sample_reply() -> ReplyDraft:
    """The Reply modal's content for that conversation."""
    triage = sample_triage()
    return ReplyDraft(
        item_id=triage.item_id,
        to=triage.sender_email,
        to_name=triage.sender_name,
        subject="Re: " + triage.subject,
        quoted=triage.text,
        body=f"Hi Ann,\n\n\n\nOn Jun 15, 2026, Ann Lee wrote:\n> {triage.text}",
        received_at=triage.received_at,
        open_task=sample_entry().tasks[0],
    )


def sample_pending_triage() -> TriageView:
    """A hedged email with a weaker cancel request: it waits for a person to confirm it."""
    return replace(
        sample_triage(),
        item_id="p3k8w",
        subject="Skip December?",
        text="Please skip December and don't cancel my plan. How do I cancel the gift box?",
        attachments=[],
        intent="cancel",
        intents=[
            ("cancel", "How do I cancel the gift box?"),
            ("pause_skip", "Please skip December"),
        ],
        set_aside=[("cancel", "negated", "don't cancel my plan.")],
        cancel=CancelState("pending", 0.65),
        churn_task=None,
        churn_task_link="",
    )


def queued_entries(entry: EntryView) -> list[WorkEntry]:
    """The best of a queue: an overdue check-in, then a churn risk never reached."""
    later = later_entry(entry)
    late = replace(later.tasks[0], due=TODAY - timedelta(days=9), value=49.0)
    risky = Priority(risk=95, band="high", value=49.0)
    return [
        WorkEntry(later.subscriber, [late], Priority(overdue=True, value=49.0,
                  last_reached=TODAY - timedelta(days=64)), "checkin_30"),
        WorkEntry(entry.subscriber, list(entry.tasks), risky, "churn_risk"),
    ]  # fmt: skip


def sample_history() -> list[AuditEntry]:
    """Maya claims from the digest, the lead hands it to Ben, Ben snoozes it (newest first)."""

    def at(minute: int) -> datetime:
        return datetime(2026, 6, 15, 13, minute, tzinfo=UTC)

    entries = [
        AuditEntry("a1", "cus_Q1Ann", at(42), "U04MAYA", "claim", "button", ["k7qx2", "a3b4c"]),
        AuditEntry(
            "a2",
            "cus_Q1Ann",
            at(55),
            "U02LEAD",
            "assign",
            "command",
            ["k7qx2", "a3b4c"],
            holder="U04MAYA",
            assignee="U05BEN",
        ),
        AuditEntry(
            "a3",
            "cus_Q1Ann",
            at(58),
            "U05BEN",
            "snooze",
            "home",
            ["k7qx2", "a3b4c"],
            detail="until 2026-06-17",
        ),
    ]
    return entries[::-1]
