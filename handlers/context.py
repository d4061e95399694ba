"""What the listeners are given: the services built by the composition root (app.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.care import CareService
from bot.clock import Clock
from bot.publisher import DigestPublisher
from bot.repos import Repos
from config import Settings


@dataclass
class Services:
    settings: Settings
    repos: Repos
    clock: Clock
    care: CareService
    publisher: DigestPublisher
    client: WebClient
    home: Any = None  # handlers.home.HomeTabs
    triage: Any = None  # the inbox's Slack side, when the inbox is configured
    signals: Any = None  # live signals: webhook intake and alerts (handlers.signals)
    outbox: Any = None  # bot.outbox.service.Outbox: email to customers (off without SMTP_HOST)
    drafts: Any = None  # bot.outreach.drafts.DraftService: outreach emails from templates
    worklist: Any = None  # bot.worklist.WorkList: today's unclaimed work for the Home and queue
    ledger: Any = None  # bot.ledger.TaskLedger: who holds which task, the team's numbers
    extras: dict[str, Any] = field(default_factory=dict)
