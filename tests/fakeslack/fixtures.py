"""pytest fixtures for the fake Slack (loaded by ``pytest_plugins`` in tests/conftest.py).

- ``fake_slack``: a started ``FakeSlack``; after the test, fails it if any Slack contract
  violation was recorded and not taken with ``fake_slack.take_violations()``.
- ``socket_mode``: a started ``SocketModeServer`` that ``fake_slack``'s apps.connections.open
  hands out.
- ``slack_env``: the environment variables that point the bot at the fake.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeslack.server import FakeSlack
from tests.fakeslack.socket import SocketModeServer

SIGNING_SECRET = "fake-signing-secret"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on a loopback port, checked for contract violations afterwards."""
    with FakeSlack() as fake:
        yield fake
        if fake.violations:
            listed = "\n  ".join(fake.violations)
            pytest.fail(f"the bot broke Slack's API contract:\n  {listed}", pytrace=False)


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[SocketModeServer]:
    """A Socket Mode websocket whose url fake_slack's apps.connections.open returns."""
    with SocketModeServer(app_id=fake_slack.ws.app_id) as server:
        fake_slack.socket_mode_url = server.url
        yield server


@pytest.fixture
def slack_env(fake_slack: FakeSlack) -> dict[str, str]:
    """Environment for ``load_settings``: tokens, secret, API URL and channels of the fake."""
    return {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "CARE_DIGEST_CHANNEL": "C0DIGEST",
        "CARE_TRIAGE_CHANNEL": "C0TRIAGE",
    }
