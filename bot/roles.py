"""Who may do what: managers work tasks, leads may also take back or hand on anyone's claim.

- Nobody configured as a manager: every member is one (a small team's default).
- A manager claims what is free, releases only their own claims, and assigns only tasks they
  hold or nobody holds.
- A lead (`CARE_LEADS`, `leads` in care.toml) is a manager who may also release or reassign
  a task someone else has claimed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks.text import user_ref
from bot.models import TASK_CLAIMED, Task


class CareError(Exception):
    """An action that cannot be done; the message is shown to the manager as is.

    The message is Slack mrkdwn: whatever the manager typed is escaped in it, and `<@U…>`
    mentions name our own users (a claimant), so that Slack shows who has a task.
    """


class NotAllowed(CareError):
    pass


@dataclass(frozen=True)
class Permissions:
    """The configured managers (empty: everyone) and leads."""

    managers: frozenset[str] = frozenset()
    leads: frozenset[str] = frozenset()

    def is_manager(self, user_id: str) -> bool:
        return not self.managers or user_id in self.managers or user_id in self.leads

    def is_lead(self, user_id: str) -> bool:
        return user_id in self.leads

    def require(self, user_id: str) -> None:
        if not self.is_manager(user_id):
            raise NotAllowed(
                "Sorry, only the care team's managers can work on tasks. "
                "Ask an admin to add you to CARE_MANAGERS (or [slack] managers in care.toml)."
            )

    def check_release(self, task: Task, user_id: str) -> None:
        """Raise CareError unless `user_id` may give `task` back to the team."""
        if task.status != TASK_CLAIMED:
            raise CareError(f"Task {task.id} is not claimed.")
        if task.claimed_by != user_id and not self.is_lead(user_id):
            raise CareError(
                f"Task {task.id} is claimed by {user_ref(task.claimed_by)}; only they or a "
                "care lead can release it."
            )

    def check_assign(self, task: Task, user_id: str) -> None:
        """Raise CareError unless `user_id` may hand `task` to someone."""
        held_by_other = task.status == TASK_CLAIMED and task.claimed_by != user_id
        if held_by_other and not self.is_lead(user_id):
            raise CareError(
                f"Task {task.id} is claimed by {user_ref(task.claimed_by)}; only they or a "
                "care lead can hand it to someone else."
            )
