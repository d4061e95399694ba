"""`[tech_touch]` in care.toml: off by default, one rule per kind, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.techtouch import TechTouchRules


def load(tmp_path: Path, text: str):  # noqa: ANN201
    path = tmp_path / "care.toml"
    path.write_text(text)
    return load_settings({"CARE_CONFIG": str(path)}, dotenv=False)


def test_tech_touch_is_off_by_default_in_the_bundled_care_toml() -> None:
    rules = load_settings({}, dotenv=False).tech_touch
    assert rules == TechTouchRules() and not rules.enabled


def test_rules_per_kind_are_read(tmp_path: Path) -> None:
    rules = load(
        tmp_path,
        "[lifecycle]\ncheckin_days = [30, 45]\n[tech_touch]\nmax_per_day = 50\n"
        "checkin_45 = { auto_email_below_value = 30 }\n"
        "anniversary = { auto_email_below_value = 12.5 }\n",
    ).tech_touch
    assert rules.enabled and rules.max_per_day == 50
    assert dict(rules.below_value) == {"checkin_45": 30.0, "anniversary": 12.5}
    assert rules.covers(["checkin_45"], 29.99) and not rules.covers(["checkin_45"], 30)
    # every task of the customer's entry must be covered
    assert not rules.covers(["checkin_45", "churn_risk"], 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("checkin_45 = { auto_email_below_value = 30 }", r"no task kind 'checkin_45'.*checkin_30"),
        ("checkin_30 = 30", r"checkin_30 must be a table like `checkin_30 = \{ auto_email"),
        ("checkin_30 = {}", r"checkin_30 needs auto_email_below_value"),
        ("checkin_30 = { below = 30 }", r"checkin_30 has no setting 'below'"),
        ("checkin_30 = { auto_email_below_value = 0 }", r"must be a monthly value above 0"),
        ('checkin_30 = { auto_email_below_value = "30" }', r"must be a monthly value above 0"),
        ("checkin_30 = { auto_email_below_value = true }", r"must be a monthly value above 0"),
        ("max_per_day = 0", r"max_per_day must be 1 to 10000"),
        ("max_per_day = 2.5", r"max_per_day must be a whole number"),
    ],
)
def test_a_wrong_rule_is_refused_naming_it_and_what_to_write(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load(tmp_path, f"[tech_touch]\n{text}\n")
    assert "care.toml: [tech_touch]" in str(caught.value)


def test_tech_touch_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[tech_touch\] must be a table"):
        load(tmp_path, "tech_touch = 3\n")
