"""The digest plan: who needs a proactive touch on a date, one entry per customer.

`plan_digest` only reads. It takes the active tasks (open or claimed), adds what the engine
would create that day and drops what it would expire, leaves out tasks not yet due or snoozed
past the day, and groups the rest by subscriber: one `DigestEntry` per customer with all of
their tasks, every reason and their current risk.

Order: by the kind of the entry's most urgent task (churn_risk, win_back, pre_renewal,
onboarding, checkin_30, checkin_90, checkin_180, anniversary), then by `bot.priority`
(overdue first, then risk, value at stake, and how long since the customer was last reached).

`DigestPlan.choose` sizes the day to the team: the entries that matter most by
`bot.priority` are posted (every must-show entry among them), the rest wait in the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from bot import duetask, priority
from bot.bulk import paused_gc
from bot.compact import decode_doc
from bot.duetask import TaskFacts
from bot.engine import EngineChanges, plan_since_run, scored
from bot.holdout import held_out
from bot.models import ACTIVE_TASK_STATUSES, TASK_OPEN, Risk, Subscriber, Task
from bot.outreach.contact import deferrable, last_contact, reached_within
from bot.priority import Priority
from bot.repos import Repos
from bot.repos.records import GroupedDocs
from bot.repos.subscriber_index import value_and_flags
from bot.risk import MAX_SCORE, Mark, UpperBound, doc_flags, marks, subscription_flags
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


def plan_digest(today: date, repos: Repos, settings: Settings, now: datetime) -> DigestPlan:
    """What the digest would hold on `today`, without changing any data.

    Every customer due gets a full entry; `bot.sizing.plan_day` builds them only for what
    is posted.

    Args:
        today: the digest date, in the team's timezone.
        repos: the repositories (only read).
        settings: lifecycle and risk rules.
        now: the time the planned (not yet created) tasks would carry.

    Returns:
        The plan: entries in digest order and counts. Claimed tasks are included (with their
        status); tasks due after `today` or snoozed past it are not.
    """
    with paused_gc():
        dues, entries, deferred = gather(today, repos, settings, now)
        built = [entries.entry(due) for due in dues]
    built.sort(key=lambda e: (kind_rank(e.kind), *e.rank_key(today)))
    grace = settings.lifecycle.grace_days
    return DigestPlan(today, built, count_tasks(built, today, grace), grace, deferred=deferred)


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


class _Mark(msgspec.Struct):
    """What the risk bound reads of a stored event (`bot.risk.Mark`), as `dict.get` would."""

    type: Any = ""
    at: Any = ""


_read_mark = msgspec.json.Decoder(_Mark).decode


class Entries:
    """Builds a due customer's entry, and the facts that rank them, as the digest shows them.

    Today's risk is scored as the engine scores it (`bot.engine.scored`), only when asked for;
    its upper bound (`bound`) costs no parsing.
    """

    def __init__(self, today: date, repos: Repos, settings: Settings, changes: EngineChanges):
        self.today, self.repos, self.settings, self.changes = today, repos, settings, changes
        self._bound = UpperBound(today, settings.risk)
        self._flags: dict[str, int] = {}  # the risk bits each `bound` was computed from

    def facts(self, due: Due, *, bounded: bool = True) -> tuple[float, int | None]:
        """(at least the customer's `value`, `bound`): what ranks them before their entry is
        built, from the plan index if it is built, else from one slim read of the stored
        document. Without `bounded` the bound may be left out (None) when it costs a read of
        the customer's events.

        The value is the subscriptions' monthly value, or the most noted on the tasks if that
        is more (the entry's own value is never more than this); a document whose fields do
        not have the model's types is read in full.
        """
        sid = due.subscriber_id
        if sid not in self.changes.subscribers:
            slim = self.repos.subscribers.planned(sid)
            if slim is None:
                held = self.repos.subscribers.held(sid)
                slim = value_and_flags(held) if held is not None else None
            if slim is not None:
                tasks = due.tasks
                noted = tasks[0].value if len(tasks) == 1 else max(t.value for t in tasks)
                return max(slim[0], noted), self._points(sid, slim[1]) if bounded else None
        sub = self.changes.subscribers.get(sid) or self.repos.subscribers.get(sid)
        value = self.value(due, sub or Subscriber(id=sid))
        return value, self.bound(sid, sub)

    def bound(self, sid: str, sub: Subscriber | None = None) -> int:
        """The most risk points the customer can score today (0: their risk is exactly none).

        `sub`, the customer as stored, gives their `bot.risk.doc_flags` when the plan has no
        index of them (a plan after the engine's run skips the dry run that reads it): the
        same facts as the document's, as `bot.risk.score` reads them.
        """
        if sid in self.changes.risks:
            return self.changes.risks[sid].score
        flags = self.changes.flags.get(sid)
        if flags is None and sub is not None:
            subs = ((s.status, s.cancel_at_period_end) for s in sub.subscriptions)
            flags = subscription_flags(subs, bool(sub.last_order))
        if flags is None:  # not indexed (an unexpected shape): read the document
            doc = self.repos.subscribers.raw_doc(sid)
            try:
                flags = doc_flags(doc) if doc is not None else 0
            except (KeyError, TypeError, AttributeError, ValueError):
                return MAX_SCORE  # let the scoring decide
        return self._points(sid, flags)

    def _points(self, sid: str, flags: int) -> int:
        self._flags[sid] = flags
        return self._bound.points_of_marks(flags, self._marks(sid))

    def _marks(self, sid: str) -> list[Mark]:
        """What the risk bound reads of the customer's events, from a slim decode of each."""
        events = self.changes.events
        if not isinstance(events, GroupedDocs):
            return marks(events.get(sid, ()))
        found = []
        for raw in events.encoded(sid):
            try:
                mark = _read_mark(raw)
                found.append((mark.type, str(mark.at)))
            except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
                found.extend(marks([decode_doc(raw)]))
        return found

    def may_pin(self, sid: str, most: int) -> bool:
        """Whether the must-show rules could pin the customer, their risk bound being `most`
        (`bound`): a high band needs `most` in it, a payment reason a late subscription or a
        failed payment in the window (`bot.risk.UpperBound.payment_possible`)."""
        if most >= self.settings.risk.high:
            return True
        risk = self.changes.risks.get(sid)  # scored by the dry run
        if risk is not None:
            return any(r.rule in priority.PAYMENT_RULES for r in risk.reasons)
        flags = self._flags.get(sid)
        if flags is None:  # bounded otherwise (a document read in full): score it
            return True
        return self._bound.payment_possible_marks(flags, self._marks(sid))

    def subscriber(self, sid: str) -> Subscriber:
        """The customer as stored (a bare `Subscriber(id=...)` if no longer stored)."""
        return (
            self.changes.subscribers.get(sid)
            or self.repos.subscribers.get(sid)
            or Subscriber(id=sid)
        )

    def value(self, due: Due, sub: Subscriber | None = None) -> float:
        """Monthly value now, else as noted on the tasks (`DigestEntry.value`)."""
        sub = sub or self.subscriber(due.subscriber_id)
        return sub.monthly_value or max((t.value for t in due.tasks), default=0.0)

    def entry(self, due: Due) -> DigestEntry:
        """The customer's full entry: subscriber, today's risk, priority."""
        sid, tasks = due.subscriber_id, duetask.full(self.repos, due.tasks)
        sub, risk = self.changes.subscribers.get(sid), self.changes.risks.get(sid)
        if sub is None or risk is None:
            stored = self.repos.subscribers.get(sid)
            sub = stored or Subscriber(id=sid)
            risk = Risk(0, "low", [])
            if stored is not None:
                events = self.changes.events.get(sid, ())
                risk = scored(stored, events, self.bound(sid), self.today, self.settings)
        entry = DigestEntry(sub, tasks, risk, due.tasks[0].kind, due.overdue)
        entry.priority = priority.of_tasks(
            tasks,
            self.today,
            self.settings.lifecycle.grace_days,
            risk=risk,
            value=entry.value,
            last_reached=due.last_reached,
        )
        return entry


def gather(
    today: date, repos: Repos, settings: Settings, now: datetime, *, slim: bool = False
) -> tuple[list[Due], Entries, int]:
    """Every customer due on `today` (cheap facts only), what builds their entries, and how
    many customers' touches are deferred.

    With `slim`, a stored task is kept as its `bot.duetask.DueTask` facts (its entry reads it
    again in full): the sized plan builds a few hundred entries, not one per customer due.
    """
    grace = settings.lifecycle.grace_days
    day = today.isoformat()
    stored: list[tuple[str, TaskFacts]] = []
    if slim:  # the facts kept between plans
        stored.extend(duetask.shown(repos, today))
    else:
        docs = (d for d in repos.tasks.raw() if _shown(d, day))
        loaded = repos.tasks.load(docs)
        stored.extend((t.subscriber_id, t) for t in loaded if t.due <= today and not t.held_out)
    # After the engine's run today, only for the subscribers written since (bot/enginerun.py)
    changes = plan_since_run(today, repos, settings, now)
    expiring = {t.id for t in changes.expire}
    by_subscriber: dict[str, list[TaskFacts]] = {}
    for sid, task in stored:
        if task.id not in expiring:
            by_subscriber.setdefault(sid, []).append(task)
    for task in changes.create:
        if task.id not in expiring and task.due <= today and not task.held_out:
            by_subscriber.setdefault(task.subscriber_id, []).append(task)
    outreach = repos.outreach.raw_by_subscriber()
    dues = []
    deferred = 0
    for sid, tasks in by_subscriber.items():
        logged = outreach[sid] if sid in outreach else ()  # noqa: SIM401 - no KeyError raised
        if logged and _deferred(sid, tasks, today, repos, settings):
            deferred += 1
            continue
        if len(tasks) > 1:
            tasks.sort(key=lambda t: (kind_rank(t.kind), t.due, t.id))
        overdue = any(t.overdue(today, grace) for t in tasks)
        dues.append(Due(sid, tasks, overdue, priority.last_reached_on(logged)))
    return dues, Entries(today, repos, settings, changes), deferred


def _deferred(
    sid: str, tasks: list[TaskFacts], today: date, repos: Repos, settings: Settings
) -> bool:
    """An unclaimed lifecycle touch for a customer reached in the last quiet days waits."""
    if not deferrable(t.kind for t in tasks) or any(t.status != TASK_OPEN for t in tasks):
        return False
    contact = last_contact(repos.outreach.for_subscriber(sid))
    return reached_within(contact, today, settings.outreach.quiet_days, settings.timezone)


def _shown(doc: dict[str, Any], day: str) -> bool:
    """An active stored task that is due by `day` (ISO) and not snoozed past it."""
    return (
        doc.get("status") in ACTIVE_TASK_STATUSES
        and not held_out(doc)
        and str(doc.get("due")) <= day
        and not (doc.get("snoozed_until") and str(doc["snoozed_until"]) > day)
    )
