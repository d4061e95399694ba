"""Domain objects for builder tests: ordinary ones and hostile ones full of Slack markup."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from bot.blocks.entry import EntryView
from bot.blocks.limits import walk_strings
from bot.blocks.triage import Attachment, TriageView
from bot.models import Outreach, Risk, RiskReason, Subscriber, Subscription, Task

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
ALICE, BOB = "U0ALICE", "U0BOB"  # our own managers: the only mentions allowed in output

# Every kind of Slack markup that pings or links, plus an entity that must not be decoded.
HOSTILE = "<!channel> <!everyone> <!here> <@U123> <http://x|link> <!subteam^S1> &amp; *Eve*"
RAW_MARKERS = ("<!channel>", "<!everyone>", "<!here>", "<@U123>", "<http://x|link>", "<!subteam")


# What a damaged record may leave in a field (a model's attributes are not checked when set):
# any type, and times at the calendar's ends, which no timezone can show.
ANY_VALUE = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=50),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from([datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC)]),
)


def subscriber(name: str = "Ann Lee", **overrides: Any) -> Subscriber:
    values: dict[str, Any] = {
        "id": "cus_1",
        "email": "ann@example.com",
        "name": name,
        "source": "stripe",
        "subscriptions": [
            Subscription(
                id="sub_1", plan="Gold", amount=49.0, currency="usd", started=date(2025, 3, 2)
            )
        ],
        "first_started": date(2025, 3, 2),
    }
    values.update(overrides)
    return Subscriber(**values)


def task(task_id: str = "k7qx2", kind: str = "churn_risk", **overrides: Any) -> Task:
    values: dict[str, Any] = {
        "id": task_id,
        "key": f"cus_1:{kind}:{task_id}",
        "kind": kind,
        "subscriber_id": "cus_1",
        "due": TODAY,
        "created_at": NOW - timedelta(days=1),
        "reason": "Two failed payments",
        "risk_score": 75,
        "risk_band": "high",
        "risk_reasons": ["2 failed payments"],
    }
    values.update(overrides)
    return Task(**values)


def risk(*texts: str, score: int = 75, band: str = "high") -> Risk:
    reasons = [RiskReason(rule=f"r{i}", points=10, text=t) for i, t in enumerate(texts)]
    return Risk(score=score, band=band, reasons=reasons)


def entry(*tasks: Task, sub: Subscriber | None = None, **overrides: Any) -> EntryView:
    tasks = tasks or (task(),)
    values: dict[str, Any] = {
        "subscriber": sub or subscriber(),
        "tasks": list(tasks),
        "risk": risk("2 failed payments in 30 days"),
    }
    values.update(overrides)
    return EntryView(**values)


def claimed(e: EntryView, user: str = ALICE) -> EntryView:
    at = NOW - timedelta(minutes=30)
    tasks = [replace(t, status="claimed", claimed_by=user, claimed_at=at) for t in e.tasks]
    return replace(e, tasks=tasks)


def done(e: EntryView, user: str = ALICE, outcome: str = "reached") -> EntryView:
    tasks = [
        replace(t, status="done", outcome=outcome, closed_by=user, closed_at=NOW) for t in e.tasks
    ]
    return replace(e, tasks=tasks)


def outreach(note: str = "Happy with the new roast", **overrides: Any) -> Outreach:
    values: dict[str, Any] = {
        "id": "o1",
        "subscriber_id": "cus_1",
        "task_id": "k7qx2",
        "by": ALICE,
        "channel": "call",
        "outcome": "reached",
        "at": NOW - timedelta(hours=1),
        "note": note,
    }
    values.update(overrides)
    return Outreach(**values)


def triage_view(**overrides: Any) -> TriageView:
    """An ordinary triage view: Ann Lee asks to cancel, five minutes ago."""
    values: dict[str, Any] = {
        "item_id": "m9r2t",
        "sender_email": "ann@example.com",
        "sender_name": "Ann Lee",
        "subject": "Please cancel",
        "text": "Hi, please cancel my subscription.",
        "received_at": NOW - timedelta(minutes=5),
        "intent": "cancel",
    }
    values.update(overrides)
    return TriageView(**values)


def buttons(msg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A message's buttons and selects by action id."""
    return {
        e["action_id"]: e for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]
    }


def text_of(msg: dict[str, Any]) -> str:
    """Every string of a message's blocks, one a line."""
    return "\n".join(t for _, t in walk_strings(msg["blocks"]))


def hostile_subscriber() -> Subscriber:
    return subscriber(
        name=HOSTILE,
        email="eve+<!everyone>@example.com",
        owner=HOSTILE,
        id="cus_<!channel>",
        source="<!here>",
        subscriptions=[
            Subscription(id="s", plan=HOSTILE, amount=10, currency="<!here>", status="past_due")
        ],
    )


def hostile_task(task_id: str = "k7qx2", kind: str = "churn_risk", **overrides: Any) -> Task:
    return task(task_id, kind, reason=HOSTILE, risk_reasons=[HOSTILE], **overrides)


def hostile_entry(*tasks: Task) -> EntryView:
    tasks = tasks or (hostile_task(), hostile_task("a3b4c", "<!channel>"))
    return entry(*tasks, sub=hostile_subscriber(), risk=risk(HOSTILE, HOSTILE))


def hostile_triage(**overrides: Any) -> TriageView:
    values: dict[str, Any] = {
        "item_id": "m9r2t",
        "sender_email": "eve@<!channel>.com",
        "sender_name": HOSTILE,
        "subject": HOSTILE,
        "text": (HOSTILE + "\n") * 300,
        "received_at": NOW - timedelta(hours=3),
        "attachments": [Attachment(HOSTILE, 1234)],
        "notes": [HOSTILE],
        "intent": "<!everyone>",
        "subscriber": hostile_subscriber(),
        "stage": HOSTILE,
        "risk": risk(HOSTILE),
        "open_task": hostile_task("b5c6d", "checkin_30", claimed_by="<!channel>"),
        "churn_task": hostile_task(),
        "churn_task_link": "https://x.slack.com/archives/C1/p1|<!channel>",
    }
    values.update(overrides)
    return TriageView(**values)


_ALLOWED_TOKEN = re.compile(
    r"^(!date\^\d+\^[^|<>^]+\|[^<>|]*"  # our date tokens
    rf"|@({ALICE}|{BOB})"  # our managers
    r"|#C[A-Z0-9]+"  # channel links from our settings
    r"|https://[^\s<>|]+\|[^<>|]+)$"  # links to Slack permalinks we were given
)


def assert_no_markup_from_input(payload: Any) -> None:
    """Fail if any string in `payload` carries Slack markup that the bot did not write itself.

    Every `<...>` token must be one of ours (a date, a mention of ALICE/BOB, a channel, a
    permalink), every `&` must start an entity, and no raw hostile marker may appear.
    """
    for path, text in walk_strings(payload):
        for marker in RAW_MARKERS:
            assert marker not in text, f"{path}: raw {marker!r} in {text[:200]!r}"
        for token in re.findall(r"<([^<>]*)>", text):
            assert _ALLOWED_TOKEN.match(token), f"{path}: foreign token <{token}> in {text[:200]!r}"
        stray = re.search(r"&(?!amp;|lt;|gt;)", text)
        assert stray is None, f"{path}: unescaped & in {text[:200]!r}"
        assert "<" not in re.sub(r"<[^<>]*>", "", text), f"{path}: stray < in {text[:200]!r}"
