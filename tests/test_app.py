"""`python app.py`: a clear stop when Slack settings are missing; manifest scopes match the code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import app
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
SLACK_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "CARE_DIGEST_CHANNEL",
    "CARE_TRIAGE_CHANNEL",
    "CARE_CONFIG",
    "IMAP_HOST",
)


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No Slack settings in the environment and no .env in the working directory."""
    for name in SLACK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CARE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_missing_token_secret_and_channel_stop_the_bot_naming_each(bare_env, capsys):
    assert app.main([]) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert "Cannot start the bot" in err
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "CARE_DIGEST_CHANNEL"):
        assert name in err
    assert not (Path.cwd() / "data").exists()


def test_only_the_missing_channel_is_named_when_the_tokens_are_set(bare_env, capsys):
    bare_env.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    bare_env.setenv("SLACK_SIGNING_SECRET", "s3cret")

    assert app.main([]) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert "CARE_DIGEST_CHANNEL" in err and "[slack] digest_channel" in err
    assert "SLACK_BOT_TOKEN" not in err and "SLACK_SIGNING_SECRET" not in err


def test_socket_mode_needs_no_signing_secret(bare_env, capsys):
    bare_env.setenv("SLACK_APP_TOKEN", "xapp-1")
    bare_env.setenv("CARE_DIGEST_CHANNEL", "C0DIGEST")

    assert app.main([]) == 2

    err = " ".join(capsys.readouterr().err.split())
    assert "SLACK_BOT_TOKEN" in err and "SLACK_SIGNING_SECRET" not in err


def test_python_app_py_without_a_token_exits_with_the_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARS}
    env.update(CARE_DIGEST_CHANNEL="C0DIGEST", CARE_DATA_DIR=str(tmp_path / "data"))

    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "xoxb-" in done.stderr
    assert "Traceback" not in done.stderr


# What `python app.py digest --preview` imports: the terminal view needs neither Slack, nor the
# metrics and templates (added to the command line only when named), nor tech touch.
NOT_FOR_PREVIEW = ("slack_bolt", "slack_sdk", "jinja2", "bot.metrics", "bot.outreach.drafts",
                   "bot.techtouch", "bot.inbox.parse")  # fmt: skip
IMPORTED = """\
import json, sys, app
try:
    app.main(sys.argv[2:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[1].split(","))))))
"""


def test_a_preview_imports_only_what_it_uses_and_every_command_still_parses(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SLACK_VARS}
    env.update(CARE_DATA_DIR=str(tmp_path / "data"))

    def imported(*argv: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", IMPORTED, ",".join(NOT_FOR_PREVIEW), *argv],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        return list(json.loads(done.stdout.strip().splitlines()[-1]))

    assert imported("digest", "--preview", "--date", "2026-06-15") == []
    assert "bot.metrics" in imported("report", "--help")
    assert "bot.outreach.drafts" in imported("template", "--help")
    args = app.parse_args(["report", "--period", "7d"])
    assert (args.command, args.period) == ("report", "7d")
    helped = subprocess.run(
        [sys.executable, "app.py", "--help"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    listed = "{import,digest,sync,hooks,report,export,backtest,template}"
    assert listed in helped.stdout


# -- manifest scopes -----------------------------------------------------------------------

METHODS = SHARED / "slack-contract" / "methods"
# Methods ../shared lacks, described in the same format (tests/fakeslack/methods/README.md).
EXTRA_METHODS = ROOT / "tests" / "fakeslack" / "methods"
# slack_sdk helpers that are several Web API methods.
HELPERS = {"files.upload.v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
CALL = re.compile(
    r"\.((?:chat|conversations|views|users|usergroups|reactions|team|auth|files|pins)_[A-Za-z0-9_]+)\("
)
CONVERSATION_KINDS = ("channels", "groups", "im", "mpim")


def _methods_called() -> set[str]:
    """Web API methods the bot's code calls through slack_sdk (chat_postMessage -> chat.postMessage)."""
    sources = [ROOT / "app.py", *(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]
    found = set()
    for path in sources:
        found |= {m.replace("_", ".") for m in CALL.findall(path.read_text(encoding="utf-8"))}
    for helper, methods in HELPERS.items():
        if helper in found:
            found = (found - {helper}) | set(methods)
    return found


def _description(method: str) -> Path:
    shared = METHODS / f"{method}.json"
    return shared if shared.exists() else EXTRA_METHODS / f"{method}.json"


def _scopes_needed(method: str) -> set[str]:
    """The bot scopes `method` needs: all listed, except for per-conversation-type families
    (channels:/groups:/im:/mpim:history), where the digest and triage channels need the public
    and private channel ones."""
    scopes = set(json.loads(_description(method).read_text())["scope"].get("bot", []))
    kinds = {s.split(":")[0] for s in scopes}
    if len(scopes) > 1 and kinds <= set(CONVERSATION_KINDS):
        return {s for s in scopes if s.split(":")[0] in ("channels", "groups")}
    return scopes


def test_the_code_calls_only_methods_in_the_slack_contract():
    called = _methods_called()
    assert {"chat.postMessage", "chat.update", "views.publish"} <= called
    assert all(_description(m).exists() for m in called), called


def test_manifest_bot_scopes_are_exactly_what_the_called_methods_need():
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    needed = {"commands"}  # the /care slash command
    for method in _methods_called():
        needed |= _scopes_needed(method)

    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
    assert "users:read" not in needed, "users.info is not called: no users:read"
