"""The bot as Slack sees it: built by app.build, serving HTTP on port 0, talking to the fake Slack.

Fixtures:
- ``care_bot``: one running bot (Monday 2026-06-15, 09:30 New York) on a fresh data dir.
- ``bots``: a factory for tests that stop and restart the bot on the same data dir.

Helpers seed subscribers and tasks, post the digest with ``/care digest now`` and find the
digest message (and its buttons) that shows a task, so a test can click what Slack shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import app
from bot.blocks import ids
from bot.clock import FixedClock
from bot.models import Subscriber, Subscription, Task
from bot.posting import Pacer
from bot.repos import Repos
from bot.repos.digests import POSTED, DigestMessage, DigestRecord
from config import Settings, load_settings
from tests.fakeslack.fixtures import SIGNING_SECRET
from tests.fakeslack.server import FakeSlack
from tests.inbox_server import DovecotServer, find_dovecot
from tests.slackreq import SlackSender

MANAGERS = ["U1", "U2", "U3", *[f"UM{i:02d}" for i in range(20)]]
DIGEST = "C0DIGEST"
# Monday 2026-06-15, 09:30 in New York (the default care.toml timezone).
MONDAY_MORNING = datetime(2026, 6, 15, 13, 30, tzinfo=UTC)
TODAY = date(2026, 6, 15)
DAY_30 = TODAY - timedelta(days=30)  # started then: the day-30 check-in is due today


@dataclass
class CareBot:
    runtime: app.Runtime
    fake: FakeSlack
    sender: SlackSender
    clock: FixedClock
    url: str
    data_dir: Path
    stopped: bool = field(default=False)

    @property
    def repos(self) -> Repos:
        return self.runtime.services.repos  # type: ignore[attr-defined]

    @property
    def services(self):  # noqa: ANN201
        return self.runtime.services

    @property
    def publisher(self):  # noqa: ANN201
        return self.runtime.services.publisher  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Shut the bot down (HTTP server, store); safe to call twice."""
        if not self.stopped:
            self.stopped = True
            self.runtime.stop()


def fake_env(fake: FakeSlack, data_dir: Path, **env: str) -> dict[str, str]:
    """The environment that points the bot at the fake Slack, with MANAGERS as the care team."""
    return {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "CARE_DIGEST_CHANNEL": DIGEST,
        "CARE_MANAGERS": ",".join(MANAGERS),
        "CARE_DATA_DIR": str(data_dir),
        **env,
    }


def fake_settings(fake: FakeSlack, data_dir: Path, **env: str) -> Settings:
    """Settings that point the bot at the fake Slack, with MANAGERS as the care team."""
    return load_settings(fake_env(fake, data_dir, **env), dotenv=False)


def start_bot(
    fake: FakeSlack, data_dir: Path, clock: FixedClock, pacer: Pacer | None = None, **env: str
) -> CareBot:
    """A running bot on the fake Slack; posts unpaced unless a `pacer` is given."""
    for user in MANAGERS[3:]:
        if user not in fake.ws.users:
            fake.add_user(user)
    settings = fake_settings(fake, data_dir, **env)
    runtime = app.build(settings, clock=clock, port=0, pacer=pacer or Pacer(interval=0))
    runtime.start(serve_http=True)
    url = f"http://127.0.0.1:{runtime.server.port}"  # type: ignore[attr-defined]
    return CareBot(
        runtime,
        fake,
        SlackSender(f"{url}/slack/events", SIGNING_SECRET, fake=fake),
        clock,
        url,
        data_dir,
    )


@pytest.fixture
def bots(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Callable[..., CareBot]]:
    """start(clock=None, data_dir=None, **env) -> CareBot; every bot is stopped afterwards."""
    started: list[CareBot] = []

    def start(clock: FixedClock | None = None, data_dir: Path | None = None, **env: str) -> CareBot:
        bot = start_bot(
            fake_slack, data_dir or tmp_path / "data", clock or FixedClock(MONDAY_MORNING), **env
        )
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


@pytest.fixture
def dovecot_server() -> Iterator[DovecotServer]:
    """A throwaway Dovecot on a free port (skipped where Dovecot is not installed)."""
    binary = find_dovecot()
    if binary is None:
        pytest.skip("dovecot is not installed: run `make imap-server` (make test does)")
    server = DovecotServer(binary)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def care_bot(bots: Callable[..., CareBot]) -> CareBot:
    return bots()


# -- data ----------------------------------------------------------------------------------


def add_subscriber(
    repos: Repos,
    sid: str,
    name: str,
    email: str,
    started: date,
    *,
    plan: str = "Pro",
    amount: float = 49.0,
    owner: str = "",
    **sub: Any,
) -> Subscriber:
    """Store a subscriber with one monthly subscription (extra Subscription fields in `sub`)."""
    subscriber = Subscriber(
        id=sid,
        email=email,
        name=name,
        source="stripe",
        owner=owner,
        first_started=started,
        subscriptions=[
            Subscription(
                id=f"sub_{sid}", plan=plan, amount=amount, currency="usd", started=started, **sub
            )
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


def add_checkins(repos: Repos, count: int, prefix: str = "cus") -> list[Subscriber]:
    """`count` subscribers whose day-30 check-in is due today (the engine opens the tasks)."""
    return [
        add_subscriber(
            repos,
            f"{prefix}_{i:03d}",
            f"Customer {i:03d}",
            f"c{i:03d}@example.com",
            DAY_30,
            amount=10.0 + i,
        )
        for i in range(count)
    ]


def tasks_of(repos: Repos, sid: str) -> list[Task]:
    return sorted(repos.tasks.for_subscriber(sid), key=lambda t: t.kind)


# -- the digest ----------------------------------------------------------------------------


def posted_record(bot: CareBot, day: date = TODAY) -> DigestRecord | None:
    record = bot.repos.digests.get(day)
    return record if record is not None and record.status == POSTED else None


def digest_messages(bot: CareBot, day: date = TODAY) -> list[DigestMessage]:
    """The day's thread replies as recorded, in thread order."""
    return bot.repos.digests.messages(day)


def digest_task_ids(bot: CareBot, day: date = TODAY) -> list[str]:
    return [t for m in digest_messages(bot, day) for t in m.task_ids]


def wait_posted(bot: CareBot, day: date = TODAY, timeout: float = 30) -> DigestRecord:
    """Wait until the digest for `day` is recorded as posted."""
    return bot.fake.wait_for(lambda: posted_record(bot, day), timeout=timeout)


def post_digest(bot: CareBot, user: str = "U1") -> DigestRecord:
    """`/care digest now`, then wait for the whole digest to be posted."""
    status, _, text = bot.sender.command("digest now", user_id=user, channel_id="C1")
    assert status == 200, text
    return wait_posted(bot)


def join_digest_jobs(bot: CareBot, timeout: float = 30) -> None:
    """Wait for the scheduler's digest worker threads (jobs run off the scheduler loop)."""
    for job in bot.runtime.scheduler.get_jobs("digest"):
        thread = job.job_func.func.last_thread  # the SingleFlight wrapper's worker
        if thread is not None:
            thread.join(timeout=timeout)


def thread_replies(bot: CareBot, record: DigestRecord) -> list[dict[str, Any]]:
    return bot.fake.thread(DIGEST, record.parent_ts)[1:]


def entry_message(bot: CareBot, task_id: str) -> dict[str, Any]:
    """The digest message (a thread reply) that shows `task_id`, as Slack has it now."""
    task = bot.repos.tasks.require(task_id)
    assert task.slack.get("ts"), f"task {task_id} was not posted in a digest"
    message = bot.fake.message(DIGEST, task.slack["ts"])
    assert message is not None
    return message


def entry_buttons(message: dict[str, Any], task_id: str) -> dict[str, dict[str, Any]]:
    """{action_id: element} of the actions block (or the carried-over line's button) of the
    entry that holds `task_id`."""
    for block in message.get("blocks", []):
        block_id = block.get("block_id", "")
        if block.get("type") == "actions" and block_id.startswith(ids.BLOCK_ENTRY_ACTIONS):
            elements = block["elements"]
        elif block_id.startswith(ids.BLOCK_CARRIED) and "accessory" in block:
            elements = [block["accessory"]]
        else:
            continue
        values = [e.get("value", "") for e in elements] + [
            o["value"] for e in elements for o in e.get("options", [])
        ]
        if any(task_id in ids.decode_ids(v.partition("|")[2] or v) for v in values):
            return {e["action_id"]: {**e, "block_id": block["block_id"]} for e in elements}
    return {}


def click(
    bot: CareBot, action_id: str, task_id: str, user: str = "U1", **fields: Any
) -> tuple[int, dict, str]:
    """Click `action_id` on the digest entry showing `task_id`, as Slack sends the click."""
    message = entry_message(bot, task_id)
    button = entry_buttons(message, task_id).get(action_id)
    assert button is not None, f"no {action_id} on the entry of {task_id}: {message['blocks']}"
    return bot.sender.action(
        action_id,
        button.get("value"),
        user_id=user,
        channel_id=DIGEST,
        message=message,
        block_id=button["block_id"],
        **fields,
    )


def message_text(message: dict[str, Any]) -> str:
    """Every text in a message or view: fallback text and all block texts, joined."""
    parts: list[str] = [str(message.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(parts)
