"""Settings: defaults from care.toml, environment overrides, and clear errors for bad values."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.settings import DEFAULT_CONFIG, LifecycleRules, RiskRules

DEFAULT_TOML = DEFAULT_CONFIG.read_text()


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "care.toml"
    path.write_text(text)
    return path


def with_changed(tmp_path: Path, old: str, new: str) -> Path:
    """The default care.toml with one line changed."""
    assert old in DEFAULT_TOML, old
    return write_config(tmp_path, DEFAULT_TOML.replace(old, new, 1))


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


def test_config_values_override_defaults(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        'timezone = "Europe/Berlin"\n'
        "[lifecycle]\ncheckin_days = [45]\n"
        "[risk.weights]\npaused = 5\n"
        '[digest]\ntime = "07:30"\nweekdays = ["Monday", "thu"]\n',
    )
    settings = load_settings({}, dotenv=False, config_path=path)
    assert settings.timezone.key == "Europe/Berlin"
    assert settings.lifecycle.checkin_days == (45,)
    assert settings.risk.weights["paused"] == 5 and settings.risk.weights["past_due"] == 35
    assert (settings.digest.time, settings.digest.weekdays) == (time(7, 30), ("mon", "thu"))


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


def test_a_missing_config_file_says_to_set_care_config(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="not found: set CARE_CONFIG") as err:
        load_settings({"CARE_CONFIG": str(missing)}, dotenv=False)
    assert str(missing) in str(err.value)


def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[digest]\ntime = "09:00\n')
    with pytest.raises(ConfigError, match="is not valid TOML") as err:
        load_settings({}, dotenv=False, config_path=path)
    assert str(path) in str(err.value) and "line 2" in str(err.value)


def test_an_unknown_timezone_is_refused_with_an_example(tmp_path: Path) -> None:
    path = with_changed(tmp_path, 'timezone = "America/New_York"', 'timezone = "Mars/Olympus"')
    with pytest.raises(ConfigError, match=r"'Mars/Olympus' is not an IANA zone \(e.g. Europe"):
        load_settings({}, dotenv=False, config_path=path)


@pytest.mark.parametrize("value", ['"25:00"', '"9am"', '"09:60"', '"0900"', "9"])
def test_a_bad_digest_time_is_refused_with_the_expected_form(tmp_path: Path, value: str) -> None:
    path = with_changed(tmp_path, 'time = "09:00"', f"time = {value}")
    with pytest.raises(ConfigError, match=r'\[digest\] time must be a time like "09:00"'):
        load_settings({}, dotenv=False, config_path=path)


def test_bad_business_hours_are_refused(tmp_path: Path) -> None:
    path = with_changed(
        tmp_path, 'business_hours = "09:00-17:00"', 'business_hours = "09:00-17:99"'
    )
    with pytest.raises(ConfigError, match=r"\[triage\] business_hours"):
        load_settings({}, dotenv=False, config_path=path)


@pytest.mark.parametrize("value", ["1.5", "-0.1", '"high"', "true"])
def test_a_cancel_confidence_outside_0_to_1_is_refused(tmp_path: Path, value: str) -> None:
    path = with_changed(tmp_path, "cancel_confidence = 0.8", f"cancel_confidence = {value}")
    with pytest.raises(ConfigError, match=r"\[triage\] cancel_confidence must be a number"):
        load_settings({}, dotenv=False, config_path=path)


def test_cancel_confidence_is_read(tmp_path: Path) -> None:
    path = with_changed(tmp_path, "cancel_confidence = 0.8", "cancel_confidence = 1")
    assert load_settings({}, dotenv=False, config_path=path).triage.cancel_confidence == 1.0


def test_an_unknown_risk_weight_is_refused_listing_the_known_rules(tmp_path: Path) -> None:
    path = with_changed(tmp_path, "downgrade = 10", "downgrade = 10\nupgrade = 5")
    with pytest.raises(ConfigError) as err:
        load_settings({}, dotenv=False, config_path=path)
    message = str(err.value)
    assert "[risk.weights] has no rule 'upgrade'" in message
    assert "known: scheduled_cancellation, cancel_request" in message and str(path) in message


@pytest.mark.parametrize("value", ["-5", "1.5", '"ten"'])
def test_a_risk_weight_must_be_a_whole_number(tmp_path: Path, value: str) -> None:
    path = with_changed(tmp_path, "downgrade = 10", f"downgrade = {value}")
    with pytest.raises(ConfigError, match=r"\[risk.weights\] downgrade must be a whole number"):
        load_settings({}, dotenv=False, config_path=path)


def test_an_unknown_lifecycle_setting_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[lifecycle]\nonboard_day = 7\n")
    with pytest.raises(ConfigError, match=r"\[lifecycle\] has no setting 'onboard_day'"):
        load_settings({}, dotenv=False, config_path=path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("grace_days = -1", r"grace_days must be a number >= 0, got -1"),
        ('grace_days = "7"', r"grace_days must be a number >= 0, got '7'"),
        ("checkin_days = 30", r"checkin_days must be a list"),
        ('anniversary = "yes"', r"anniversary must be true or false"),
    ],
)
def test_a_wrongly_typed_lifecycle_value_is_explained(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write_config(tmp_path, f"[lifecycle]\n{line}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings({}, dotenv=False, config_path=path)


def test_bad_digest_weekdays_list_the_allowed_days(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[digest]\nweekdays = ["mon", "funday"]\n')
    with pytest.raises(ConfigError, match="weekdays must list days among mon, tue"):
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


def test_weekly_report_day_time_and_period_come_from_care_toml(tmp_path):
    from datetime import time

    from config import ConfigError, load_settings

    path = tmp_path / "care.toml"
    path.write_text(
        '[report]\nweekly_day = "Monday"\nweekly_time = "08:15"\nweekly_period = "30d"\n'
    )
    rules = load_settings({}, dotenv=False, config_path=path).report
    assert (rules.weekly_day, rules.weekly_time, rules.weekly_period) == ("mon", time(8, 15), "30d")
    path.write_text('[report]\nweekly_period = "12d"\n')
    with pytest.raises(ConfigError, match="weekly_period must be 7d, 30d or 90d"):
        load_settings({}, dotenv=False, config_path=path)
    path.write_text('[report]\nweekly_day = "someday"\n')
    with pytest.raises(ConfigError, match="weekly_day"):
        load_settings({}, dotenv=False, config_path=path)


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


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("capacity = 15", "capacity = -1", r"\[digest\] capacity must be a whole number"),
        ("capacity = 15", 'capacity = "15"', r"\[digest\] capacity must be a whole number"),
        ("max_entries = 0", "max_entries = 2.5", r"\[digest\] max_entries must be a whole"),
        ("must_show_value = 300", "must_show_value = -5", r"must_show_value must be a number"),
        ("capacity = 15", "capacty = 15", r"\[digest\] has no setting 'capacty'"),
    ],
)
def test_bad_digest_bounds_are_refused_by_name(tmp_path, old, new, message):
    path = with_changed(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message):
        load_settings({}, dotenv=False, config_path=path)


def test_outreach_settings_default_and_override(tmp_path: Path) -> None:
    from config.settings import OutreachRules

    assert load_settings({}, dotenv=False).outreach == OutreachRules()
    path = with_changed(tmp_path, 'templates_dir = ""', 'templates_dir = "ours"')
    path.write_text(path.read_text().replace("quiet_days = 7", "quiet_days = 3"))
    rules = load_settings({"CARE_CONFIG": str(path)}, dotenv=False).outreach
    assert (rules.templates_dir, rules.quiet_days) == ("ours", 3)


def test_outreach_settings_of_the_wrong_type_say_what_to_write(tmp_path: Path) -> None:
    path = with_changed(tmp_path, 'templates_dir = ""', "templates_dir = 3")
    with pytest.raises(ConfigError, match=r"\[outreach\] templates_dir must be text in quotes"):
        load_settings({"CARE_CONFIG": str(path)}, dotenv=False)
    path = with_changed(tmp_path, "quiet_days = 7", "quiet_days = -1")
    with pytest.raises(ConfigError, match=r"\[outreach\] quiet_days must be a number >= 0"):
        load_settings({"CARE_CONFIG": str(path)}, dotenv=False)
