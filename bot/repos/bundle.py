"""All repositories over one store, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from bot.repos.alerts import AlertRepo
from bot.repos.audit import AuditRepo
from bot.repos.digests import DigestRepo
from bot.repos.events import EventRepo
from bot.repos.inbox import InboxRepo
from bot.repos.journal import JournalRepo
from bot.repos.links import AddressLinkRepo
from bot.repos.outreach import OutreachRepo
from bot.repos.sent import SentMailRepo
from bot.repos.subscribers import SubscriberRepo
from bot.repos.tasks import TaskRepo
from bot.store import Store


@dataclass
class Repos:
    store: Store
    subscribers: SubscriberRepo
    tasks: TaskRepo
    events: EventRepo
    outreach: OutreachRepo
    digests: DigestRepo
    inbox: InboxRepo
    journal: JournalRepo
    alerts: AlertRepo
    audit: AuditRepo
    sent: SentMailRepo
    links: AddressLinkRepo

    @classmethod
    def open(cls, store: Store) -> Repos:
        repos = cls(
            store=store,
            subscribers=SubscriberRepo(store),
            tasks=TaskRepo(store),
            events=EventRepo(store),
            outreach=OutreachRepo(store),
            digests=DigestRepo(store),
            inbox=InboxRepo(store),
            journal=JournalRepo(store),
            alerts=AlertRepo(store),
            audit=AuditRepo(store),
            sent=SentMailRepo(store),
            links=AddressLinkRepo(store),
        )
        repos.tasks.derive_links(repos.digests.fill_links)  # where each task is shown in Slack
        return repos
