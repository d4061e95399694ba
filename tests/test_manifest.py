"""manifest.json creates the Slack app in one step: valid for Slack's schema, with what the bot uses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from tests.conftest import SHARED

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.json"
SCHEMA = SHARED / "slack-contract" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def _errors(validator: Draft7Validator, doc: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]


def test_manifest_is_valid_for_slack_schema_major_version_1(manifest, validator):
    assert _errors(validator, manifest) == []
    assert manifest["_metadata"]["major_version"] == 1


def test_schema_check_catches_a_broken_manifest(manifest, validator):
    broken = copy.deepcopy(manifest)
    broken["features"]["slash_commands"][0]["command"] = "care"  # no leading slash
    broken["settings"]["socket_mode_enabled"] = "yes"
    errors = _errors(validator, broken)
    assert any("features/slash_commands/0/command" in e for e in errors)
    assert any("settings/socket_mode_enabled" in e for e in errors)


def test_slash_command_care_has_description_usage_hint_and_request_url(manifest):
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    care = commands["/care"]
    assert care["description"] and care["usage_hint"]
    assert care["url"].endswith("/slack/events")


def test_interactivity_and_events_use_the_same_endpoint(manifest):
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]


def test_home_tab_on_messages_tab_off_socket_mode_on_org_deploy_off(manifest):
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert app_home["messages_tab_enabled"] is False
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["org_deploy_enabled"] is False
    assert manifest["features"]["bot_user"]["display_name"] == "Proactive Care"
    assert manifest["display_information"]["name"] == "Proactive Care"


def test_bot_scopes_cover_commands_and_posting(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write"} <= scopes  # the rest: tests/test_app.py derives them
    assert len(scopes) == len(manifest["oauth_config"]["scopes"]["bot"]), "a scope is listed twice"
