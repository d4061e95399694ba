"""Read `care.toml` and check its sections, building each one's rules from `config/rules.py`.

Every wrong value is a `ConfigError` naming the file, the section and the setting, and saying
what to write instead.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any

from config.errors import ConfigError
from config.rules import (
    WEEKDAYS,
    DigestRules,
    Intent,
    LifecycleRules,
    ReportRules,
    RiskRules,
    TriageRules,
)
from config.techtouch import TechTouchConfigError, TechTouchRules, tech_touch_rules


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; a missing file or bad TOML says what to do."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"Config file {path} not found: set CARE_CONFIG to your care.toml"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from exc


def table(raw: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    """Section `[name]` of the file (empty when absent); anything but a table is refused."""
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


def build_rules(cls: Any, values: Mapping[str, Any], path: Path, section: str) -> Any:
    """`cls` from a section whose settings are checked against the type of each default."""
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if not hasattr(defaults, key):
            raise ConfigError(f"{path}: [{section}] has no setting {key!r}")
        default = getattr(defaults, key)
        if isinstance(default, tuple):
            if not isinstance(value, list):
                raise ConfigError(f"{path}: [{section}] {key} must be a list")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: [{section}] {key} must be true or false")
        elif isinstance(default, int | float) and (
            not isinstance(value, int | float) or isinstance(value, bool) or value < 0
        ):
            raise ConfigError(f"{path}: [{section}] {key} must be a number >= 0, got {value!r}")
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{path}: [{section}] {key} must be text in quotes, got {value!r}")
        kwargs[key] = value
    return cls(**kwargs)


def parse_weekdays(values: Any, path: Path, key: str) -> tuple[str, ...]:
    """Day names (`"Monday"` or `"mon"`) as their first three letters."""
    days = tuple(str(d).lower()[:3] for d in values)
    bad = [d for d in days if d not in WEEKDAYS]
    if bad or not days:
        raise ConfigError(f"{path}: {key} must list days among {', '.join(WEEKDAYS)}")
    return days


def parse_clock(value: Any, path: Path, key: str) -> time:
    """A `"HH:MM"` time of day."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f'{path}: {key} must be a time like "09:00", got {value!r}')
    return time(int(match[1]), int(match[2]))


def digest_rules(values: dict[str, Any], path: Path) -> DigestRules:
    """`[digest]`: when it posts, how many entries a message and a day."""
    per = values.get("tasks_per_message", 5)
    if not isinstance(per, int) or not 1 <= per <= 10:
        raise ConfigError(f"{path}: [digest] tasks_per_message must be 1 to 10")
    bounds = {}
    for key in ("capacity", "max_entries"):
        value = values.get(key, getattr(DigestRules, key))
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
            raise ConfigError(f"{path}: [digest] {key} must be a whole number 0 to 100000")
        bounds[key] = value
    floor = values.get("must_show_value", DigestRules.must_show_value)
    if not isinstance(floor, int | float) or isinstance(floor, bool) or not floor >= 0:
        raise ConfigError(f"{path}: [digest] must_show_value must be a number >= 0")
    unknown = set(values) - {"time", "weekdays", "tasks_per_message", *bounds, "must_show_value"}
    if unknown:
        raise ConfigError(f"{path}: [digest] has no setting {sorted(unknown)[0]!r}")
    return DigestRules(
        time=parse_clock(values.get("time", "09:00"), path, "[digest] time"),
        weekdays=parse_weekdays(values.get("weekdays", WEEKDAYS[:5]), path, "[digest] weekdays"),
        tasks_per_message=per,
        must_show_value=float(floor),
        **bounds,
    )


def risk_rules(values: dict[str, Any], path: Path) -> RiskRules:
    """`[risk]` and `[risk.weights]`, whose rules must be known ones."""
    values = dict(values)
    weights = dict(RiskRules().weights)
    for key, value in values.pop("weights", {}).items():
        if key not in weights:
            raise ConfigError(
                f"{path}: [risk.weights] has no rule {key!r}; known: {', '.join(weights)}"
            )
        if not isinstance(value, int) or value < 0:
            raise ConfigError(f"{path}: [risk.weights] {key} must be a whole number >= 0")
        weights[key] = value
    rules = build_rules(RiskRules, values, path, "risk")
    return RiskRules(**{**rules.__dict__, "weights": weights})


def triage_rules(values: dict[str, Any], path: Path) -> TriageRules:
    """`[triage]`: business hours, reminders, intents and the cancel confidence."""
    hours = str(values.get("business_hours", "09:00-17:00"))
    if "-" not in hours:
        raise ConfigError(f'{path}: [triage] business_hours must look like "09:00-17:00"')
    start, end = (
        parse_clock(h.strip(), path, "[triage] business_hours") for h in hours.split("-", 1)
    )
    intents = []
    for item in values.get("intents", []):
        name, keywords = item.get("name"), item.get("keywords")
        if not name or not isinstance(keywords, list) or not keywords:
            raise ConfigError(
                f"{path}: each [[triage.intents]] needs a name and a list of keywords"
            )
        intents.append(Intent(str(name), tuple(str(k).lower() for k in keywords)))
    remind = values.get("remind_after_minutes", 120)
    window = values.get("thread_window_days", 14)
    if not isinstance(remind, int) or remind < 1 or not isinstance(window, int) or window < 1:
        raise ConfigError(
            f"{path}: [triage] remind_after_minutes and thread_window_days must be >= 1"
        )
    confidence = values.get("cancel_confidence", 0.8)
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0 <= confidence <= 1
    ):
        raise ConfigError(f"{path}: [triage] cancel_confidence must be a number from 0 to 1")
    return TriageRules(
        remind_after_minutes=remind,
        business_start=start,
        business_end=end,
        business_days=parse_weekdays(
            values.get("business_days", WEEKDAYS[:5]), path, "[triage] business_days"
        ),
        thread_window_days=window,
        intents=tuple(intents),
        cancel_confidence=float(confidence),
    )


def holdout_percent(values: dict[str, Any], path: Path) -> int:
    """`[care] holdout_percent`, 0 to 50."""
    unknown = set(values) - {"holdout_percent"}
    if unknown:
        raise ConfigError(f"{path}: [care] has no setting {sorted(unknown)[0]!r}")
    percent = values.get("holdout_percent", 0)
    if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 50:
        raise ConfigError(f"{path}: [care] holdout_percent must be a whole number from 0 to 50")
    return percent


def report_rules(values: dict[str, Any], path: Path) -> ReportRules:
    """`[report]`: the weekly report's day, time and period."""
    unknown = set(values) - {"weekly_day", "weekly_time", "weekly_period"}
    if unknown:
        raise ConfigError(f"{path}: [report] has no setting {sorted(unknown)[0]!r}")
    period = str(values.get("weekly_period", "7d"))
    if period not in ("7d", "30d", "90d"):
        raise ConfigError(f"{path}: [report] weekly_period must be 7d, 30d or 90d")
    day = parse_weekdays([values.get("weekly_day", "fri")], path, "[report] weekly_day")[0]
    return ReportRules(
        weekly_day=day,
        weekly_time=parse_clock(values.get("weekly_time", "16:00"), path, "[report] weekly_time"),
        weekly_period=period,
    )


def tech_touch(values: dict[str, Any], path: Path, lifecycle: LifecycleRules) -> TechTouchRules:
    """`[tech_touch]`, checked by config/techtouch.py against the lifecycle's check-ins."""
    try:
        return tech_touch_rules(values, str(path), tuple(lifecycle.checkin_days))
    except TechTouchConfigError as exc:
        raise ConfigError(str(exc)) from exc
