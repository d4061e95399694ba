"""The bot as Slack sees it: built by app.build, serving HTTP on port 0, talking to the fake Slack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import app
from bot.clock import FixedClock
from bot.models import Subscriber, Subscription, Task
from bot.publisher import Pacer
from bot.repos import Repos
from config import load_settings
from tests.fakeslack.fixtures import SIGNING_SECRET
from tests.fakeslack.server import FakeSlack
from tests.slackreq import SlackSender

MANAGERS = ["U1", "U2", "U3", *[f"UM{i:02d}" for i in range(20)]]
# Monday 2026-06-15, 09:30 in New York (the default care.toml timezone).
MONDAY_MORNING = datetime(2026, 6, 15, 13, 30, tzinfo=UTC)


@dataclass
class CareBot:
    runtime: app.Runtime
    fake: FakeSlack
    sender: SlackSender
    clock: FixedClock
    url: str

    @property
    def repos(self) -> Repos:
        return self.runtime.services.repos  # type: ignore[attr-defined]

    @property
    def services(self):  # noqa: ANN201
        return self.runtime.services


def start_bot(fake: FakeSlack, data_dir: Path, clock: FixedClock, **env: str) -> CareBot:
    for user in MANAGERS[3:]:
        if user not in fake.ws.users:
            fake.add_user(user)
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "CARE_DIGEST_CHANNEL": "C0DIGEST",
            "CARE_MANAGERS": ",".join(MANAGERS),
            "CARE_DATA_DIR": str(data_dir),
            **env,
        },
        dotenv=False,
    )
    runtime = app.build(settings, clock=clock, port=0, pacer=Pacer(interval=0))
    runtime.start(serve_http=True)
    url = f"http://127.0.0.1:{runtime.server.port}"  # type: ignore[attr-defined]
    return CareBot(
        runtime, fake, SlackSender(f"{url}/slack/events", SIGNING_SECRET, fake=fake), clock, url
    )


@pytest.fixture
def care_bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[CareBot]:
    bot = start_bot(fake_slack, tmp_path / "data", FixedClock(MONDAY_MORNING))
    yield bot
    bot.runtime.stop()


def add_subscriber(
    repos: Repos, sid: str, name: str, email: str, started: date, **sub: object
) -> Subscriber:
    subscriber = Subscriber(
        id=sid,
        email=email,
        name=name,
        source="stripe",
        first_started=started,
        subscriptions=[
            Subscription(
                id=f"sub_{sid}", plan="Pro", amount=49.0, currency="usd", started=started, **sub
            )  # type: ignore[arg-type]
        ],
    )
    repos.subscribers.put(subscriber)
    return subscriber


def add_task(repos: Repos, sid: str, kind: str, due: date, now: datetime, reason: str = "") -> Task:
    key = f"{sid}:{kind}"
    task = Task(
        id=repos.tasks.new_id(key),
        key=key,
        kind=kind,
        subscriber_id=sid,
        due=due,
        created_at=now - timedelta(hours=2),
        reason=reason or f"{kind} due",
    )
    assert repos.tasks.create(task)
    return task
