"""Who wrote an email and what the triage message shows next to it (`TriageContext`).

`match_sender` finds the subscriber who wrote: by From, else Reply-To (contact forms), else a
forward's From, then the same addresses among those someone linked by hand (`bot.inbox.link`).
`build_context` gathers what the triage message shows beside the email: that subscriber,
their risk score, their most relevant active task and who holds it, and what the email asks
for (`bot.inbox.intent`, `bot.inbox.cancel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.inbox.filters import Classification
from bot.inbox.headers import sender
from bot.inbox.intent import Reading
from bot.inbox.parse import ParsedEmail
from bot.models import TASK_CLAIMED, Risk, Subscriber, Task
from bot.repos import Repos
from bot.risk import score
from config.settings import Settings


@dataclass(frozen=True)
class TriageContext:
    """Everything the triage message shows next to the email."""

    subscriber: Subscriber | None
    risk: Risk | None
    open_task: Task | None  # the subscriber's most relevant active task, if any
    claimant: str  # who holds `open_task` ("" when unclaimed or none)
    intent: str
    churn_task: Task | None  # the churn-risk task this email opened or raised
    classification: Classification
    reopened: bool = False  # a reply brought a resolved or snoozed item back to open
    reading: Reading = Reading()  # every intent found, with its trigger, and those set aside
    cancel: str = ""  # this email's cancel request: "" | pending | counted (bot.inbox.cancel)
    changed: bool = False  # a reply changed the conversation's intents: redraw its message
    answered: bool = False  # the customer's first answer to our outreach (bot.outreach.thread)


@dataclass(frozen=True)
class Found:
    """What the intent reader found in one email, and the state of its cancel request."""

    reading: Reading
    cancel: str


def match_sender(repos: Repos, parsed: ParsedEmail) -> Subscriber | None:
    """The subscriber who wrote: From, else Reply-To (contact forms), else a forward's From."""
    candidates = [parsed.from_address]
    reply_to = parsed.header("reply-to")
    if "@" in reply_to:  # read as From is: its first characters, never raising
        candidates.append(sender(reply_to)[1])
    candidates.append(parsed.forwarded_from)
    addresses = [a for a in candidates if a and "@" in a]
    for address in addresses:
        subscriber = repos.subscribers.by_email(address)
        if subscriber is not None:
            return subscriber
    for address in addresses:  # an address someone linked by hand to a subscriber
        sid = repos.links.subscriber_id(address)
        subscriber = repos.subscribers.get(sid) if sid else None
        if subscriber is not None:
            return subscriber
    return None


def build_context(
    repos: Repos,
    settings: Settings,
    subscriber: Subscriber | None,
    found: Found,
    churn_task: Task | None,
    verdict: Classification,
    now: datetime,
    reopened: bool,
) -> TriageContext:
    """What the triage message shows next to the email: the subscriber, their risk score and
    most relevant active task (the churn task this email opened, else a claimed one, else a
    churn-risk one, else the earliest due), what the email asks for."""
    intent, reading, cancel = found.reading.primary, found.reading, found.cancel
    if subscriber is None:
        return TriageContext(
            None, None, None, "", intent, churn_task, verdict, reopened, reading, cancel
        )
    today = now.astimezone(settings.timezone).date()
    events = repos.events.for_subscriber(subscriber.id)
    risk = score(subscriber, events, today, settings.risk, tz=settings.timezone)
    active = [t for t in repos.tasks.for_subscriber(subscriber.id) if t.active]
    if churn_task is not None:
        active = [churn_task] + [t for t in active if t.id != churn_task.id]
    else:
        active.sort(key=lambda t: (t.status != TASK_CLAIMED, t.kind != "churn_risk", t.due))
    open_task = active[0] if active else None
    claimant = open_task.claimed_by if open_task else ""
    return TriageContext(
        subscriber,
        risk,
        open_task,
        claimant,
        intent,
        churn_task,
        verdict,
        reopened,
        reading,
        cancel,
    )
