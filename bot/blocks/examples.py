"""Rendered examples of the Slack surfaces, for docs/slack-surfaces.md.

The doc is generated from the real builders so it cannot drift from them:

    python -m bot.blocks.examples --write      # rewrite docs/slack-surfaces.md
    python -m bot.blocks.examples              # print it

`tests/bot/blocks/test_examples.py` fails when the file is stale.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.blocks.audit import build_task_history
from bot.blocks.carried import build_carried_message
from bot.blocks.digest import DigestProgress, build_digest_parent, build_entry_message
from bot.blocks.entry import EntryView
from bot.blocks.modal import build_log_outreach_modal
from bot.blocks.outreach_post import build_outreach_post
from bot.blocks.plain import to_text
from bot.blocks.queue import build_queue
from bot.blocks.reply import build_reply_modal, build_reply_note
from bot.blocks.triage import Attachment, CancelState, TriageView
from bot.blocks.triage_message import build_triage_message
from bot.models import Risk, RiskReason, Subscriber, Subscription, Task
from bot.outbox.reply import ReplyDraft
from bot.priority import Priority
from bot.queue import WorkEntry

DOC = Path(__file__).resolve().parents[2] / "docs" / "slack-surfaces.md"
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


def _later(entry: EntryView) -> EntryView:
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


def surfaces() -> list[tuple[str, str, dict[str, Any]]]:
    """(title, what it is, payload) for each example in the doc."""
    entry = sample_entry()
    counts = {"churn_risk": 3, "pre_renewal": 2, "win_back": 1, "checkin_30": 4, "overdue": 2}
    counts.update({"queued": 214, "queued_entries": 187, "limit": 150})
    progress = DigestProgress(claimed=4, done=3, open=3)
    return [
        (
            "The digest parent message",
            "Posted at 09:00 in the digest channel; its counts are `chat.update`d as tasks "
            "are claimed and done. The day is sized to the team (`[digest] capacity` x "
            "managers): the rest wait in the queue, and the parent says how many.",
            build_digest_parent(TODAY, counts, progress),
        ),
        (
            "A task entry in the digest thread",
            "One customer with all of its due tasks, unclaimed, in the first churn-risk message "
            "(so it opens with the kind's header; a message holds up to "
            "`tasks_per_message` customers). Claim claims both tasks.",
            build_entry_message(entry, TODAY, TZ, NOW, header_kind="churn_risk"),
        ),
        (
            "The same entry, claimed",
            "After Claim, the message is updated in place: claimant, time, Log outreach / "
            "Release. The time is a Slack date token, shown in each reader's timezone.",
            build_entry_message(claimed(entry), TODAY, TZ, NOW, header_kind="churn_risk"),
        ),
        (
            "The Log outreach modal",
            "Opened by Log outreach. Field errors (no channel, a follow-up without a date, a "
            "date in the past) are shown under each field. Stored too slowly for Slack, it closes "
            "and a private message follows: logged, or not saved with what was entered.",
            build_log_outreach_modal(["k7qx2", "a3b4c"], entry.subscriber),
        ),
        (
            "The next morning: still open from earlier days",
            "Customers an earlier digest listed and nobody finished are not posted in full "
            "again: they open the next day's thread as one line each, oldest first, with Claim "
            "(or Log outreach once claimed). They belong to that day's digest now: claims and "
            "logs edit this message and that day's parent. The parent says how many there are.",
            build_carried_message(
                [claimed(entry), _later(entry)], TODAY + timedelta(days=1), first=True, total=3
            ),
        ),
        (
            "An earlier day's entry whose tasks moved on",
            "When the next digest lists them, the earlier message says so and loses its "
            "buttons; that day's parent counts them as moved on, so it stays equal to what "
            "its own thread shows.",
            build_entry_message(
                replace(entry, moved_to=TODAY + timedelta(days=1)), TODAY, TZ, NOW, "churn_risk"
            ),
        ),
        (
            "A triage message from the shared inbox",
            "One email conversation, with who the sender is as a subscriber.",
            build_triage_message(sample_triage(), NOW, TZ),
        ),
        (
            "The Reply modal",
            "Opened by Reply on a triage message: the exact recipient and subject, the "
            "customer's message, a draft. Only Send emails the customer; a failed send comes "
            "back here with the reason on top and the text kept.",
            build_reply_modal(sample_reply(), "Acme Support <support@acme.example>", "{}"),
        ),
        (
            "A reply in the triage thread",
            "Posted in the conversation's thread once the mail server took the email.",
            build_reply_note(
                "U04MAYA",
                "ann.lee@example.com",
                "Re: Please cancel my subscription",
                "Hi Ann,\n\nSorry about the double charge: I have refunded it. Would a pause "
                "for a month help instead of cancelling?\n\nMaya",
            ),
        ),
        (
            "An outreach email in the triage channel",
            "Posted when an email is sent from a digest entry; no buttons until the customer "
            "answers. The answer lands in this thread and the message becomes a triage message "
            "for it.",
            build_outreach_post(sample_outreach(), NOW, TZ),
        ),
        (
            "A cancel request waiting for a person",
            "Below `[triage] cancel_confidence` a cancel request is not counted until someone "
            "confirms it; a negated mention is shown as not counted, with its words.",
            build_triage_message(sample_pending_triage(), NOW, TZ),
        ),
        (
            "`/care history k7qx2`",
            "Everything done to a task, oldest first: who, when, from which surface, and where "
            "it stands now. A lead reassigned it here; the trail says whose it was.",
            build_task_history(
                claimed(entry, "U05BEN").tasks[0],
                entry.subscriber.display_name,
                sample_history(),
                TODAY,
                TZ,
            ),
        ),
        (
            "`/care queue`",
            "What is due beyond today's digest, best first (overdue, risk, value at stake, "
            "longest since reached), each with its value, risk and why; Claim works as in the "
            "digest. `/care queue churn_risk` lists one kind. The Home tab shows the same list.",
            build_queue(_queued(entry), 187, 214, TODAY),
        ),
    ]


def _queued(entry: EntryView) -> list[WorkEntry]:
    """The best of a queue: an overdue check-in, then a churn risk never reached."""
    later = _later(entry)
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


def render_markdown() -> str:
    """The whole of docs/slack-surfaces.md."""
    out = [
        "# What Proactive Care looks like in Slack",
        "",
        "Generated by `python -m bot.blocks.examples --write` from the real Block Kit builders "
        "in `bot/blocks/` (do not edit by hand; a test fails when this file is stale). Each "
        "surface is shown as text (roughly what Slack displays) and as the Block Kit JSON the "
        "bot sends; paste the JSON into Slack's Block Kit Builder to see it rendered.",
        "",
    ]
    for title, what, payload in surfaces():
        out += [f"## {title}", "", what, "", "```text", to_text(payload), "```", ""]
        out += ["<details><summary>Block Kit JSON</summary>", "", "```json"]
        out += [json.dumps(payload, indent=2, ensure_ascii=False), "```", "", "</details>", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print the doc, or write it with --write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC}")
    args = parser.parse_args(argv)
    text = render_markdown()
    if args.write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
