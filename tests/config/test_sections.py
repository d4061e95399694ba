"""care.toml sections: values read into their rules, and clear errors for bad ones."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.rules import OutreachRules
from tests.config.care_files import with_changed, write_config


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


def test_weekly_report_day_time_and_period_come_from_care_toml(tmp_path):
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
