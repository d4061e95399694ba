"""The fake_slack fixture makes a contract violation fail the test that caused it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CASES = """
from slack_sdk import WebClient


def _client(fake):
    return WebClient(token=fake.bot_token, base_url=fake.api_url)


def test_bot_bug(fake_slack):
    try:
        _client(fake_slack).api_call("chat.postMessage", json={"text": "no channel"})
    except Exception:
        pass  # a bot that swallows the error is still caught by the fixture


def test_taken_violation_is_fine(fake_slack):
    try:
        _client(fake_slack).api_call("chat.postMessage", json={"text": "no channel"})
    except Exception:
        pass
    assert fake_slack.take_violations()


def test_clean(fake_slack):
    _client(fake_slack).chat_postMessage(channel="C1", text="fine")
"""


def test_violation_fails_the_test_unless_taken(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.fakeslack.fixtures"]\n')
    (tmp_path / "test_cases.py").write_text(textwrap.dedent(CASES))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = result.stdout
    assert "3 passed, 1 error" in out, out  # the error is the teardown of test_bot_bug
    assert "ERROR at teardown of test_bot_bug" in out
    assert "chat.postMessage: channel_not_found: required argument 'channel' is missing" in out
