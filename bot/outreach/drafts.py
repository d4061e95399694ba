"""The draft an Email button opens with: the right template, filled for one customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.blocks.labels import kind_rank
from bot.models import Subscriber, Task
from bot.outreach.fields import customer_fields, template_kind
from bot.outreach.templates import Draft, Templates
from bot.repos import Repos
from bot.risk import score
from config.settings import Settings


@dataclass(frozen=True)
class CustomerDraft:
    """A draft and whom it is for."""

    subscriber: Subscriber
    draft: Draft


class DraftService:
    """Drafts outreach emails from templates and what the store knows of a customer."""

    def __init__(self, repos: Repos, settings: Settings, templates: Templates) -> None:
        self.repos = repos
        self.settings = settings
        self.templates = templates

    def for_customer(self, subscriber: Subscriber, kind: str, today: date) -> Draft:
        """The draft of template `kind` (a task kind or `failed_payment`) for `subscriber`.

        A churn-risk draft whose risk is a failed or past-due payment uses `failed_payment`.

        Raises:
            bot.outreach.templates.TemplateProblem: the template is missing or does not render.
        """
        events = self.repos.events.for_subscriber(subscriber.id)
        tz = self.settings.timezone
        risk = score(subscriber, events, today, self.settings.risk, tz=tz)
        fields = customer_fields(
            subscriber, events, risk, today, tz=tz, signature=self.settings.outreach.signature
        )
        chosen = template_kind(kind, risk) if kind == "churn_risk" else kind
        return self.templates.render(chosen, fields)

    def for_tasks(self, tasks: Sequence[Task], today: date) -> CustomerDraft:
        """The draft for a digest entry's tasks: the most urgent task's kind decides.

        Raises:
            LookupError: no tasks, or their subscriber is gone.
            bot.outreach.templates.TemplateProblem: as `for_customer`.
        """
        if not tasks:
            raise LookupError("No tasks to write about")
        subscriber = self.repos.subscribers.get(tasks[0].subscriber_id)
        if subscriber is None:
            raise LookupError(f"Subscriber {tasks[0].subscriber_id} is not in the store")
        kind = sorted((t.kind for t in tasks), key=kind_rank)[0]
        return CustomerDraft(subscriber, self.for_customer(subscriber, kind, today))
