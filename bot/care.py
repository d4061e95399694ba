"""What managers do with tasks: claim, release, assign, snooze, mark done, log outreach.

These are the business rules behind the Slack buttons and `/care` subcommands; they know
nothing of Slack. Every change runs under the store's lock, so of two managers who click
Claim in the same millisecond exactly one wins and the other is told who has it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.audit import SURFACE_COMMAND, SURFACES
from bot.blocks.text import escape
from bot.clock import Clock, local_today
from bot.ids import stable_id
from bot.models import (
    OUTREACH_CHANNELS,
    OUTREACH_OUTCOMES,
    TASK_CLAIMED,
    TASK_DONE,
    TASK_OPEN,
    Outreach,
    Subscriber,
    Task,
)
from bot.repos import Repos, TaskNotFound
from bot.roles import CareError, NotAllowed, Permissions

__all__ = ["CareError", "CareService", "NotAllowed", "Permissions"]


@dataclass
class ClaimResult:
    """`claimed` holds the tasks now claimed by the user; `holder` is set when someone else won."""

    claimed: list[Task] = field(default_factory=list)
    holder: str = ""
    holder_since: datetime | None = None
    already_mine: bool = False

    @property
    def won(self) -> bool:
        return bool(self.claimed) and not self.holder


@dataclass
class LogResult:
    outreach: Outreach
    closed: list[Task]
    follow_up: Task | None
    subscriber: Subscriber | None
    repeated: bool = False  # the same submission (`key`) was logged before: nothing changed


def normalize_choice(value: str, choices: Iterable[str], what: str) -> str:
    """Match `value` to one of `choices`, accepting case, spaces and dashes ("left message")."""
    wanted = value.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"phone": "call", "text": "sms", "msg": "left_message", "voicemail": "left_message"}
    wanted = aliases.get(wanted, wanted)
    options = list(choices)
    if wanted in options:
        return wanted
    raise CareError(
        f"Unknown {what} '{escape(value)}': use one of {', '.join(o.replace('_', ' ') for o in options)}."
    )


class CareService:
    """Task actions for managers. Construct once; share between listener threads."""

    def __init__(self, repos: Repos, clock: Clock, tz: ZoneInfo, permissions: Permissions) -> None:
        self.repos = repos
        self.clock = clock
        self.tz = tz
        self.permissions = permissions

    def _transaction(self, action: str, task_ids: Iterable[str], surface: str):  # noqa: ANN202
        """The store's lock, and one write for the change and its audit entry (or none).

        Raises:
            ValueError: an unknown surface (a caller's bug), before anything changes.
        """
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; one of {', '.join(SURFACES)}")
        return self.repos.store.transaction({"action": action, "tasks": list(task_ids)})

    def _record(
        self, action: str, tasks: list[Task], user: str, surface: str, **details: str
    ) -> None:
        """One audit entry per customer for `action` on `tasks` (inside the transaction)."""
        by_subscriber: dict[str, list[str]] = {}
        for task in tasks:
            by_subscriber.setdefault(task.subscriber_id, []).append(task.id)
        now = self.clock.now()
        for sid, ids in by_subscriber.items():
            self.repos.audit.record(sid, now, user, action, surface, task_ids=ids, **details)

    def today(self) -> date:
        return local_today(self.clock, self.tz)

    def tasks(self, task_ids: Iterable[str]) -> list[Task]:
        return [self.repos.tasks.require(t) for t in task_ids]

    def claim(self, task_ids: list[str], user: str, surface: str = SURFACE_COMMAND) -> ClaimResult:
        """Claim every task of one digest entry for `user`, or none of them.

        Raises:
            NotAllowed: the user is not a manager.
            CareError: a task is closed or unknown.
        """
        self.permissions.require(user)
        now = self.clock.now()
        with self._transaction("claim", task_ids, surface):
            tasks = self._active(task_ids)
            others = [t for t in tasks if t.status == TASK_CLAIMED and t.claimed_by != user]
            if others:
                return ClaimResult(holder=others[0].claimed_by, holder_since=others[0].claimed_at)
            if all(t.status == TASK_CLAIMED for t in tasks):
                return ClaimResult(claimed=tasks, already_mine=True)

            def claim(task: Task) -> None:
                if task.status == TASK_OPEN:
                    task.status, task.claimed_by, task.claimed_at = TASK_CLAIMED, user, now
                    task.snoozed_until = None

            claimed = [self.repos.tasks.mutate(t.id, claim)[0] for t in tasks]
            self._record("claim", claimed, user, surface)
            return ClaimResult(claimed=claimed)

    def release(self, task_ids: list[str], user: str, surface: str = SURFACE_COMMAND) -> list[Task]:
        """Give claimed tasks back to the team: the claimant's own, or anyone's for a lead."""
        self.permissions.require(user)
        with self._transaction("release", task_ids, surface):
            tasks = self._active(task_ids)
            for task in tasks:
                self.permissions.check_release(task, user)
            holder = next((t.claimed_by for t in tasks if t.claimed_by != user), "")

            def release(task: Task) -> None:
                task.status, task.claimed_by, task.claimed_at = TASK_OPEN, "", None

            released = [self.repos.tasks.mutate(t.id, release)[0] for t in tasks]
            self._record("release", released, user, surface, holder=holder)
            return released

    def assign(
        self, task_ids: list[str], assignee: str, user: str, surface: str = SURFACE_COMMAND
    ) -> list[Task]:
        """Hand tasks to another manager (claimed on their behalf).

        A manager hands on what they hold or what nobody holds; a lead, anything.
        """
        self.permissions.require(user)
        if not self.permissions.is_manager(assignee):
            raise CareError(f"<@{assignee}> is not one of the care team's managers.")
        now = self.clock.now()
        with self._transaction("assign", task_ids, surface):
            tasks = self._active(task_ids)
            for task in tasks:
                self.permissions.check_assign(task, user)
            holder = next((t.claimed_by for t in tasks if t.claimed_by), "")

            def assign(task: Task) -> None:
                task.status, task.claimed_by, task.claimed_at = TASK_CLAIMED, assignee, now
                task.snoozed_until = None

            assigned = [self.repos.tasks.mutate(t.id, assign)[0] for t in tasks]
            self._record("assign", assigned, user, surface, holder=holder, assignee=assignee)
            return assigned

    def snooze(
        self, task_ids: list[str], days: int, user: str, surface: str = SURFACE_COMMAND
    ) -> list[Task]:
        """Hide tasks from the digest until `days` from today; they keep their due date."""
        self.permissions.require(user)
        if not 1 <= days <= 30:
            raise CareError("Snooze for 1 to 30 days, e.g. `/care snooze k7qx2 3`.")
        until = self.today() + timedelta(days=days)
        with self._transaction("snooze", task_ids, surface):
            tasks = self._active(task_ids)
            for task in tasks:
                if task.status == TASK_CLAIMED and task.claimed_by != user:
                    raise CareError(f"Task {task.id} is claimed by <@{task.claimed_by}>.")

            def snooze(task: Task) -> None:
                task.snoozed_until = until

            snoozed = [self.repos.tasks.mutate(t.id, snooze)[0] for t in tasks]
            self._record("snooze", snoozed, user, surface, detail=f"until {until.isoformat()}")
            return snoozed

    def done(self, task_ids: list[str], user: str, surface: str = SURFACE_COMMAND) -> list[Task]:
        """Close tasks without an outreach log (the touch happened elsewhere)."""
        self.permissions.require(user)
        now = self.clock.now()
        with self._transaction("done", task_ids, surface):
            tasks = self._active(task_ids)
            self._refuse_others_claims(tasks, user)
            closed = [self.repos.tasks.mutate(t.id, _closer(user, now, "done"))[0] for t in tasks]
            self._record("done", closed, user, surface)
            return closed

    def log_outreach(
        self,
        target: str | list[str],
        user: str,
        channel: str,
        outcome: str,
        note: str = "",
        follow_up: date | None = None,
        surface: str = SURFACE_COMMAND,
        close: bool = True,
        key: str = "",
    ) -> LogResult:
        """Record an outreach and close the tasks it answers, in one store transaction.

        The outreach, the closed tasks, the follow-up task and the audit entry are stored
        together or not at all, even if the process is killed half-way (see `bot.journal`).

        Args:
            target: task ids (one digest entry), or a single task id or subscriber email/id.
            follow_up: with outcome follow_up, a date for the new task (same kind, claimed by
                the same manager).
            close: false to log the outreach on the open tasks and leave them open (and
                whoever holds them): an email sent from Slack is logged either way.
            key: one submission's key (a modal's view id): logged once, however often it is
                sent; a repeat changes nothing and comes back with `repeated` set.

        Raises:
            CareError: bad channel/outcome/date, unknown target, or someone else's claim.
        """
        self.permissions.require(user)
        channel = normalize_choice(channel, OUTREACH_CHANNELS, "channel")
        outcome = normalize_choice(outcome, OUTREACH_OUTCOMES, "outcome")
        if outcome == "follow_up" and follow_up is None:
            raise CareError("A follow-up needs a date: pick one in the form.")
        if follow_up is not None and follow_up <= self.today():
            raise CareError("The follow-up date must be after today.")
        now = self.clock.now()
        with self._transaction("log", [], surface) as intent:
            earlier = self._logged_before(key, target)
            if earlier is not None:
                return LogResult(earlier, [], None, None, repeated=True)
            tasks, subscriber = self._resolve_target(target)
            if close:
                self._refuse_others_claims(tasks, user)
            intent["tasks"] = [t.id for t in tasks]
            sid = subscriber.id if subscriber else tasks[0].subscriber_id
            primary = tasks[0].id if tasks else ""
            outreach = Outreach(
                id=_log_id(key)
                if key
                else stable_id(sid, primary, user, now.isoformat(), channel, outcome, note),
                subscriber_id=sid,
                task_id=",".join(t.id for t in tasks),
                by=user,
                channel=channel,
                outcome=outcome,
                at=now,
                note=note.strip(),
                follow_up=follow_up,
            )
            self.repos.outreach.add(outreach)
            closed = [
                self.repos.tasks.mutate(t.id, _closer(user, now, outcome))[0]
                for t in (tasks if close else [])
            ]
            follow = (
                self._follow_up(tasks[0], follow_up, user, now) if tasks and follow_up else None
            )
            if follow is not None:
                intent["tasks"].append(follow.id)
            self.repos.audit.record(
                sid,
                now,
                user,
                "log",
                surface,
                task_ids=[t.id for t in (closed if close else tasks)],
                detail=f"{channel}, {outcome}" + (f", follow-up {follow_up}" if follow_up else ""),
            )
            return LogResult(
                outreach=outreach, closed=closed, follow_up=follow, subscriber=subscriber
            )

    def _logged_before(self, key: str, target: str | list[str]) -> Outreach | None:
        """The outreach a submission with `key` already logged on `target`'s customer."""
        first = ([target] if isinstance(target, str) else target)[:1]
        task = self.repos.tasks.get(first[0]) if key and first else None
        if task is None:
            return None
        wanted = _log_id(key)
        return next(
            (o for o in self.repos.outreach.for_subscriber(task.subscriber_id) if o.id == wanted),
            None,
        )

    def _active(self, task_ids: Iterable[str]) -> list[Task]:
        ids = [t.strip().lower() for t in task_ids if t.strip()]
        if not ids:
            raise CareError("Which task? Give its id, e.g. `/care claim k7qx2`.")
        tasks = []
        for task_id in ids:
            try:
                task = self.repos.tasks.require(task_id)
            except TaskNotFound as exc:
                raise CareError(
                    f"No task '{escape(task_id)}'. Task ids look like 'k7qx2': see /care mine or the digest."
                ) from exc
            if not task.active:
                when = f" on {task.closed_at.astimezone(self.tz):%b %d}" if task.closed_at else ""
                by = f" by <@{task.closed_by}>" if task.closed_by else ""
                raise CareError(f"Task {task.id} is already {task.status}{by}{when}.")
            tasks.append(task)
        return tasks

    def _refuse_others_claims(self, tasks: list[Task], user: str) -> None:
        for task in tasks:
            if task.status == TASK_CLAIMED and task.claimed_by != user:
                raise CareError(
                    f"Task {task.id} is claimed by <@{task.claimed_by}>; ask them or use /care assign."
                )

    def _resolve_target(self, target: str | list[str]) -> tuple[list[Task], Subscriber | None]:
        if isinstance(target, list):
            tasks = self._active(target)
            return tasks, self.repos.subscribers.get(tasks[0].subscriber_id)
        task = self.repos.tasks.get(target)
        if task is not None:
            tasks = self._active([task.id])
            return tasks, self.repos.subscribers.get(task.subscriber_id)
        subscriber = self.repos.subscribers.resolve(target)
        if subscriber is None:
            raise CareError(
                f"No task or subscriber '{escape(target)}': give a task id (k7qx2) or the customer's email."
            )
        active = [t for t in self.repos.tasks.for_subscriber(subscriber.id) if t.active]
        return sorted(active, key=lambda t: t.due), subscriber

    def _follow_up(self, task: Task, on: date, user: str, now: datetime) -> Task | None:
        base = task.key.split(":follow_up:", 1)[0]
        key = f"{base}:follow_up:{on.isoformat()}"
        follow = Task(
            id=self.repos.tasks.new_id(key),
            key=key,
            kind=task.kind,
            subscriber_id=task.subscriber_id,
            due=on,
            created_at=now,
            status=TASK_CLAIMED,
            reason=f"Follow-up on the {now.astimezone(self.tz):%b %d} outreach ({task.reason})".strip(),
            risk_score=task.risk_score,
            risk_band=task.risk_band,
            risk_reasons=list(task.risk_reasons),
            value=task.value,
            claimed_by=user,
            claimed_at=now,
        )
        return follow if self.repos.tasks.create(follow) else self.repos.tasks.by_key(key)


def _log_id(key: str) -> str:
    return stable_id("log", key)


def _closer(user: str, now: datetime, outcome: str):  # noqa: ANN202
    def close(task: Task) -> None:
        task.status, task.closed_at, task.closed_by, task.outcome = TASK_DONE, now, user, outcome
        if not task.claimed_by:
            task.claimed_by, task.claimed_at = user, now

    return close
