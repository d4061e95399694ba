"""What a digest plan holds: one entry per customer due, the day's counts, and its sizing.

Order: by the kind of the entry's most urgent task (churn_risk, win_back, pre_renewal,
onboarding, checkin_30, checkin_90, checkin_180, anniversary), then by `bot.priority`
(overdue first, then risk, value at stake, and how long since the customer was last reached).

`DigestPlan.choose` sizes the day to the team: the entries that matter most by
`bot.priority` are posted (every must-show entry among them), the rest wait in the queue.
`bot.digest.plan_digest` builds a plan; `bot.digest_entries.Entries` builds its entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from bot import priority
from bot.duetask import TaskFacts
from bot.models import TASK_OPEN, Risk, Subscriber, Task
from bot.priority import Priority
from config.settings import Settings

KIND_ORDER = (
    "churn_risk",
    "win_back",
    "pre_renewal",
    "onboarding",
    "checkin_30",
    "checkin_90",
    "checkin_180",
    "anniversary",
)
KIND_LABELS = {
    "churn_risk": "Churn risk",
    "win_back": "Win-back",
    "pre_renewal": "Pre-renewal",
    "onboarding": "Onboarding",
    "checkin_30": "Day-30 check-in",
    "checkin_90": "Day-90 check-in",
    "checkin_180": "Day-180 check-in",
    "anniversary": "Anniversary",
}
OVERDUE = "overdue"  # the key of the overdue count in `DigestPlan.counts`
QUEUED = "queued"  # tasks due but waiting in the queue (a posted digest's counts)
QUEUED_ENTRIES = "queued_entries"  # customers they belong to
LIMIT = "limit"  # the day's bound on posted entries (0: none)


def kind_rank(kind: str) -> float:
    """Position of a kind in the digest; other check-in days sit by the configured ones."""
    if kind in KIND_ORDER:
        return KIND_ORDER.index(kind)
    if kind.startswith("checkin_") and kind[8:].isdigit():
        return KIND_ORDER.index("checkin_180") + 0.5
    return len(KIND_ORDER)


def kind_label(kind: str) -> str:
    """A reader's name for a kind ("Day-30 check-in")."""
    if kind in KIND_LABELS:
        return KIND_LABELS[kind]
    if kind.startswith("checkin_"):
        return f"Day-{kind[8:]} check-in"
    return kind.replace("_", " ").capitalize()


@dataclass
class DigestEntry:
    """One customer in the digest: every task of theirs due now, with their current risk.

    Attributes:
        subscriber: the customer (a bare `Subscriber(id=...)` if they are no longer stored).
        tasks: their due tasks, most urgent kind first.
        risk: their risk score today.
        kind: the kind of the most urgent task; the entry is listed under it.
        overdue: whether any of the tasks is overdue.
        priority: what it is ranked by (`bot.priority`).
    """

    subscriber: Subscriber
    tasks: list[Task]
    risk: Risk
    kind: str
    overdue: bool
    priority: Priority = field(default_factory=Priority)

    def rank_key(self, today: date) -> tuple[Any, ...]:
        first_due = min((t.due for t in self.tasks), default=today)
        return priority.sort_key(self.priority, today, first_due, self.subscriber.id)

    @property
    def task_ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    @property
    def reasons(self) -> list[str]:
        """Why this customer is here: each task's reason, then the risk reasons, no repeats."""
        texts = [t.reason for t in self.tasks if t.reason]
        texts += self.risk.reason_texts()
        return list(dict.fromkeys(texts))

    @property
    def value(self) -> float:
        """Monthly subscription value now, else as noted on the tasks (an ended customer)."""
        return self.subscriber.monthly_value or max((t.value for t in self.tasks), default=0.0)


@dataclass
class DigestPlan:
    """What the digest holds on `date`.

    Attributes:
        date: the digest date (team timezone).
        entries: one per customer, in digest order.
        counts: due tasks per kind (kinds in digest order), plus `"overdue"`: how many of them
            are overdue.
        grace_days: tasks due more than this many days ago are overdue.
        deferred: customers whose lifecycle touch waits: reached in the last
            `[outreach] quiet_days` (bot.outreach.contact).
    """

    date: date
    entries: list[DigestEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    grace_days: int = 7
    deferred: int = 0

    @property
    def tasks(self) -> list[Task]:
        """Every task, in digest order."""
        return [t for e in self.entries for t in e.tasks]

    @property
    def overdue(self) -> int:
        return self.counts.get(OVERDUE, 0)

    def ranked(self) -> list[DigestEntry]:
        """Every entry in priority order (`bot.priority`), kinds mixed."""
        return priority.rank(self.entries, lambda e: e.rank_key(self.date))

    def choose(self, limit: int | None, must_show_value: float) -> DigestChoice[DigestEntry]:
        """What is posted today and what waits in the queue.

        The bound counts entries someone can still claim: entries whose tasks are all
        claimed are the team's work in hand and are always posted.

        Args:
            limit: entries to post (None: all).
            must_show_value: high churn risks and failed payments worth this much a month or
                more are posted even past `limit`.
        """
        ranked = self.ranked()
        held = [e for e in ranked if not any(t.status == TASK_OPEN for t in e.tasks)]
        shown, waiting = priority.select(
            [e for e in ranked if any(t.status == TASK_OPEN for t in e.tasks)],
            limit,
            lambda e: priority.must_show(e.priority, must_show_value),
        )
        keep = {id(e) for e in [*held, *shown]}
        return DigestChoice(
            posted=[e for e in self.entries if id(e) in keep],
            queued=waiting,
            limit=limit or 0,
        )

    def groups(self) -> list[tuple[str, list[DigestEntry]]]:
        """Entries grouped under their kind, in digest order."""
        grouped: dict[str, list[DigestEntry]] = {}
        for entry in self.entries:
            grouped.setdefault(entry.kind, []).append(entry)
        return list(grouped.items())

    def to_json(self) -> dict[str, Any]:
        """The plan as one JSON-ready object: one item per task, in digest order."""
        items = []
        for entry in self.entries:
            sub = entry.subscriber
            risk = {
                "score": entry.risk.score,
                "band": entry.risk.band,
                "reasons": entry.risk.reason_texts(),
            }
            for task in entry.tasks:
                items.append(
                    {
                        "id": task.id,
                        "kind": task.kind,
                        "subscriber": {"id": sub.id, "email": sub.email, "name": sub.name},
                        "due": task.due.isoformat(),
                        "overdue": task.overdue(self.date, self.grace_days),
                        "risk": dict(risk),
                        "status": task.status,
                        "claimed_by": task.claimed_by,
                        "reason": task.reason,
                        "value": task.value,
                    }
                )
        return {"date": self.date.isoformat(), "tasks": items}


class HasTasks(Protocol):
    """A customer's due tasks: a full `DigestEntry` or a cheap `Due`."""

    @property
    def tasks(self) -> Sequence[TaskFacts]: ...


Q = TypeVar("Q", bound=HasTasks)


@dataclass
class DigestChoice(Generic[Q]):
    """The day sized to the team.

    Attributes:
        posted: the entries posted, in digest order (kinds grouped).
        queued: the rest: full entries in priority order (`DigestPlan.choose`), or cheap
            `Due` records in no order (`bot.sizing.plan_day`); they wait in the queue.
        limit: the bound that was applied (0: none).
    """

    posted: list[DigestEntry]
    queued: list[Q]
    limit: int = 0

    @property
    def queued_tasks(self) -> int:
        return sum(len(e.tasks) for e in self.queued)


def daily_limit(settings: Settings) -> int | None:
    """Entries to post a day: `[digest] max_entries`, else capacity x managers (None: all)."""
    return settings.digest.limit(settings.slack.team_size)


def count_tasks(entries: Sequence[HasTasks], today: date, grace_days: int) -> dict[str, int]:
    """Due tasks per kind (kinds in digest order), plus how many of them are overdue."""
    counts: dict[str, int] = {}
    for entry in entries:
        for task in entry.tasks:
            counts[task.kind] = counts.get(task.kind, 0) + 1
    counts = {k: counts[k] for k in sorted(counts, key=kind_rank)}
    counts[OVERDUE] = sum(t.overdue(today, grace_days) for e in entries for t in e.tasks)
    return counts


@dataclass(slots=True)
class Due:
    """One customer due on the day, before their entry is built: what ranks them cheaply.

    Attributes:
        subscriber_id: the customer.
        tasks: their due tasks, most urgent kind first: `Task`s, or a stored one's
            `bot.duetask.DueTask` facts (`gather(slim=True)`).
        overdue: any task is overdue.
        last_reached: the day they were last reached (`bot.priority`).
    """

    subscriber_id: str
    tasks: list[TaskFacts]
    overdue: bool
    last_reached: date | None

    @property
    def claimable(self) -> bool:
        """Someone can still claim one of the tasks (else the entry is work in hand)."""
        return any(t.status == TASK_OPEN for t in self.tasks)

    @property
    def first_due(self) -> date:
        tasks = self.tasks
        return tasks[0].due if len(tasks) == 1 else min(t.due for t in tasks)
