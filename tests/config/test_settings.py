"""Settings: defaults from care.toml, environment overrides, and clear errors for bad values."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.rules import LifecycleRules, RiskRules
from config.settings import DEFAULT_CONFIG
from tests.config.care_files import with_changed, write_config


def test_defaults_load_from_the_bundled_care_toml() -> None:
    settings = load_settings({}, dotenv=False)
    assert settings.config_path == DEFAULT_CONFIG
    assert settings.timezone.key == "America/New_York"
    assert settings.data_dir == Path("./data")
    assert settings.lifecycle == LifecycleRules()
    assert dict(settings.risk.weights) == dict(RiskRules().weights)
    assert settings.risk.weights["scheduled_cancellation"] == 60
    assert settings.digest.time == time(9, 0)
    assert settings.digest.weekdays == ("mon", "tue", "wed", "thu", "fri")
    assert settings.triage.business_start == time(9, 0)
    assert [i.name for i in settings.triage.intents][:2] == ["cancel", "pause_skip"]
    assert settings.slack.managers == frozenset()
    assert not settings.imap.enabled


def test_an_empty_config_file_means_every_default(tmp_path: Path) -> None:
    settings = load_settings({"CARE_CONFIG": str(write_config(tmp_path, ""))}, dotenv=False)
    assert settings.timezone.key == "UTC"
    assert settings.lifecycle == LifecycleRules()
    assert settings.risk == RiskRules()


def test_care_config_and_care_data_dir_come_from_the_environment(tmp_path: Path) -> None:
    path = with_changed(tmp_path, "onboarding_day = 7", "onboarding_day = 10")
    settings = load_settings(
        {"CARE_CONFIG": str(path), "CARE_DATA_DIR": str(tmp_path / "d")}, dotenv=False
    )
    assert settings.config_path == path and settings.lifecycle.onboarding_day == 10
    assert settings.data_dir == tmp_path / "d"


def test_slack_channels_and_managers_come_from_the_environment_over_the_file(
    tmp_path: Path,
) -> None:
    path = write_config(
        tmp_path,
        '[slack]\ndigest_channel = "CFILE1"\ntriage_channel = "CFILE2"\nmanagers = ["UF"]\n',
    )
    from_file = load_settings({"CARE_CONFIG": str(path)}, dotenv=False).slack
    assert (from_file.digest_channel, from_file.triage_channel) == ("CFILE1", "CFILE2")
    assert from_file.managers == {"UF"}
    env = {
        "CARE_CONFIG": str(path),
        "CARE_DIGEST_CHANNEL": "CENV1",
        "CARE_TRIAGE_CHANNEL": "CENV2",
        "CARE_MANAGERS": " U1, U2 ,,U3 ",
    }
    slack = load_settings(env, dotenv=False).slack
    assert (slack.digest_channel, slack.triage_channel) == ("CENV1", "CENV2")
    assert slack.managers == {"U1", "U2", "U3"}


def test_an_empty_care_managers_lets_every_member_act(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[slack]\nmanagers = ["UF"]\n')
    slack = load_settings({"CARE_CONFIG": str(path), "CARE_MANAGERS": ""}, dotenv=False).slack
    assert slack.managers == frozenset()


def test_an_unknown_timezone_is_refused_with_an_example(tmp_path: Path) -> None:
    path = with_changed(tmp_path, 'timezone = "America/New_York"', 'timezone = "Mars/Olympus"')
    with pytest.raises(ConfigError, match=r"'Mars/Olympus' is not an IANA zone \(e.g. Europe"):
        load_settings({}, dotenv=False, config_path=path)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "80a"}, "PORT must be a whole number, got '80a'"),
        ({"IMAP_PORT": "x"}, "IMAP_PORT must be a whole number"),
        ({"IMAP_SSL": "maybe"}, "IMAP_SSL must be true"),
    ],
)
def test_bad_environment_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env, dotenv=False)


def test_require_slack_names_every_missing_variable() -> None:
    settings = load_settings({"IMAP_HOST": "imap.example.com"}, dotenv=False)
    with pytest.raises(ConfigError) as err:
        settings.require_slack()
    message = str(err.value)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "CARE_DIGEST_CHANNEL",
        "CARE_TRIAGE_CHANNEL",
    ):
        assert name in message
    assert str(settings.config_path) in message


def test_require_slack_names_only_what_is_missing() -> None:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, dotenv=False
    )
    with pytest.raises(ConfigError) as err:
        settings.require_slack()
    message = str(err.value)
    assert "CARE_DIGEST_CHANNEL" in message
    assert "SLACK_BOT_TOKEN" not in message and "SLACK_SIGNING_SECRET" not in message
    assert "CARE_TRIAGE_CHANNEL" not in message  # no inbox configured, no triage channel needed


def test_require_slack_passes_when_everything_is_set() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s3cret",
            "CARE_DIGEST_CHANNEL": "C1",
        },
        dotenv=False,
    )
    settings.require_slack()
    assert settings.slack.signing_secret == "s3cret"


def test_dotenv_fills_the_environment_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CARE_DIGEST_CHANNEL", "CARE_DATA_DIR", "CARE_CONFIG"):
        monkeypatch.setenv(name, "")  # remembered, so what load_dotenv sets is undone after
        monkeypatch.delenv(name)
    monkeypatch.setenv("CARE_TRIAGE_CHANNEL", "CREAL")
    (tmp_path / ".env").write_text(
        "CARE_DIGEST_CHANNEL=CDOTENV\nCARE_DATA_DIR=from-dotenv\nCARE_TRIAGE_CHANNEL=CIGNORED\n"
    )
    settings = load_settings()
    assert settings.slack.digest_channel == "CDOTENV"
    assert settings.data_dir == Path("from-dotenv")
    assert settings.slack.triage_channel == "CREAL"  # the real environment wins over .env


def test_leads_come_from_care_leads_over_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[slack]\nleads = ["ULEAD1"]\n')
    assert load_settings({"CARE_CONFIG": str(path)}, dotenv=False).slack.leads == {"ULEAD1"}
    env = {"CARE_CONFIG": str(path), "CARE_LEADS": "U7, W8"}
    assert load_settings(env, dotenv=False).slack.leads == {"U7", "W8"}
    assert load_settings(
        {"CARE_CONFIG": str(path), "CARE_LEADS": ""}, dotenv=False
    ).slack.leads == (frozenset())


@pytest.mark.parametrize(
    ("env", "toml", "names"),
    [
        ({"CARE_LEADS": "U1,@ann"}, "", ["CARE_LEADS", "'@ann'"]),
        ({"CARE_MANAGERS": "bob"}, "", ["CARE_MANAGERS", "'bob'"]),
        ({}, '[slack]\nleads = "U1"\n', ["[slack] leads", "must be a list"]),
        ({}, "[slack]\nleads = [42]\n", ["[slack] leads", "42"]),
        ({}, '[slack]\nmanagers = ["u1"]\n', ["[slack] managers", "'u1'"]),
    ],
)
def test_leads_and_managers_that_are_not_user_ids_are_refused_clearly(
    tmp_path: Path, env: dict[str, str], toml: str, names: list[str]
) -> None:
    path = write_config(tmp_path, toml)
    with pytest.raises(ConfigError, match="Slack user ID") as err:
        load_settings({"CARE_CONFIG": str(path), **env}, dotenv=False)
    for name in names:
        assert name in str(err.value)


def test_the_daily_bound_is_capacity_times_managers_and_leads_or_max_entries(tmp_path):
    default = load_settings({}, dotenv=False)
    assert (default.digest.capacity, default.digest.max_entries) == (15, 0)
    assert default.digest.must_show_value == 300
    assert default.digest.limit(default.slack.team_size) == 15  # nobody listed: a team of one
    team = load_settings({"CARE_MANAGERS": "U1,U2,U3", "CARE_LEADS": "U3,U4"}, dotenv=False)
    assert team.slack.team_size == 4
    assert team.digest.limit(team.slack.team_size) == 60
    path = with_changed(tmp_path, "max_entries = 0", "max_entries = 40")
    fixed = load_settings({"CARE_MANAGERS": "U1,U2"}, dotenv=False, config_path=path)
    assert fixed.digest.limit(fixed.slack.team_size) == 40
    path = with_changed(tmp_path, "capacity = 15", "capacity = 0")
    assert load_settings({}, dotenv=False, config_path=path).digest.limit(3) is None
