"""Load and validate settings from `care.toml`, the environment and `.env`.

Secrets (Slack tokens, IMAP password, webhook secret) come only from the environment, which
`python-dotenv` fills from `.env`. Team rules (lifecycle days, risk weights, digest time) come
from `care.toml` (`CARE_CONFIG`, default `config/care.toml`). Every problem is reported as a
`ConfigError` whose message says exactly what to set.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.smtp import SmtpConfigError, SmtpSettings, smtp_settings
from config.techtouch import TechTouchConfigError, TechTouchRules, tech_touch_rules

DEFAULT_CONFIG = Path(__file__).with_name("care.toml")
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]+")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(Exception):
    """A setting is missing or wrong; the message says what to set."""


@dataclass(frozen=True)
class LifecycleRules:
    onboarding_day: int = 7
    checkin_days: tuple[int, ...] = (30, 90, 180)
    pre_renewal_days_before: int = 14
    pre_renewal_min_interval_months: int = 3
    save_days_before: int = 14
    anniversary: bool = True
    win_back_from_day: int = 7
    win_back_to_day: int = 30
    grace_days: int = 7
    expire_days: int = 14
    checkin_statuses: tuple[str, ...] = ("active", "trialing", "past_due")


@dataclass(frozen=True)
class RiskRules:
    high: int = 60
    medium: int = 30
    cooldown_days: int = 14
    nps_window_days: int = 90
    nps_detractor_max: int = 6
    payment_window_days: int = 30
    skip_cycles: int = 3
    skip_min: int = 2
    no_order_factor: float = 1.5
    support_window_days: int = 30
    support_min: int = 3
    downgrade_window_days: int = 60
    cancel_request_window_days: int = 30
    weights: Mapping[str, int] = field(
        default_factory=lambda: {
            "scheduled_cancellation": 60,
            "cancel_request": 60,
            "past_due": 35,
            "paused": 20,
            "nps_detractor": 20,
            "payment_failed_each": 15,
            "payment_failed_max": 30,
            "skips": 15,
            "no_order": 15,
            "support_contacts": 10,
            "downgrade": 10,
        }
    )


@dataclass(frozen=True)
class DigestRules:
    time: time = time(9, 0)
    weekdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    tasks_per_message: int = 5
    # The day's posted entries: `max_entries` if set, else `capacity` (touches per manager per
    # day) times the managers; 0 for both posts everything. The rest wait in the queue.
    capacity: int = 15
    max_entries: int = 0
    # Always posted whatever the bound: high churn risks and failed payments worth this much a
    # month or more.
    must_show_value: float = 300.0

    def limit(self, managers: int) -> int | None:
        """Entries to post a day for a team of `managers` (None: no bound)."""
        if self.max_entries:
            return self.max_entries
        return self.capacity * max(managers, 1) if self.capacity else None


@dataclass(frozen=True)
class ReportRules:
    """The weekly metrics report in the digest channel (bot/metrics/weekly.py)."""

    weekly_day: str = "fri"
    weekly_time: time = time(16, 0)
    weekly_period: str = "7d"


@dataclass(frozen=True)
class Intent:
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class TriageRules:
    remind_after_minutes: int = 120
    business_start: time = time(9, 0)
    business_end: time = time(17, 0)
    business_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    thread_window_days: int = 14
    intents: tuple[Intent, ...] = ()
    cancel_confidence: float = 0.8  # a cancel request at least this sure counts unconfirmed


@dataclass(frozen=True)
class AlertRules:
    """Which live events post at once in the alerts channel (`[alerts]` in care.toml)."""

    payment_failed: bool = True
    payment_failed_min_value: float = 0.0  # monthly value at or above which a failure alerts
    retries_exhausted: bool = True
    cancellation_scheduled: bool = True
    canceled: bool = True
    low_csat: bool = True
    low_csat_max: float = 40.0  # CSAT 0-100 (a 1-5 rating of 2 is 25) at or below which
    quiet_hours: int = 24  # a source that has sent before and is silent this long is warned of


@dataclass(frozen=True)
class OutreachRules:
    """Outreach email from a digest entry (`[outreach]` in care.toml).

    Attributes:
        templates_dir: a folder of the team's own templates (one file per kind, as in the
            bundled `templates/`); a kind it lacks falls back to the bundled one. Relative paths
            are read from the config file's folder.
        quiet_days: a lifecycle touch for a customer reached in the last this many days is
            deferred (churn risk never is); 0 turns deferral off.
        signature: how emails are signed.
    """

    templates_dir: str = ""
    quiet_days: int = 7
    signature: str = "The customer care team"


@dataclass(frozen=True)
class WebhookSecrets:
    """Receivers' secrets, from the environment only; an empty one turns its receiver off."""

    stripe: str = ""
    shopify: str = ""
    chargebee_user: str = ""
    chargebee_password: str = ""
    recharge: str = ""
    zendesk: str = ""
    gorgias: str = ""
    front: str = ""
    stripe_api_key: str = ""
    stripe_api_base: str = ""


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = ""
    port: int = 3000
    digest_channel: str = ""
    triage_channel: str = ""
    alerts_channel: str = ""  # live-signal alerts; the digest channel when not set
    managers: frozenset[str] = frozenset()
    leads: frozenset[str] = frozenset()  # managers who may also release or reassign any claim

    @property
    def team_size(self) -> int:
        """The care team's managers (leads included); 0 when nobody is configured."""
        return len(self.managers | self.leads)


@dataclass(frozen=True)
class ImapSettings:
    host: str = ""
    port: int = 993
    user: str = ""
    password: str = ""
    folder: str = "INBOX"
    ssl: str = "true"  # "true" (implicit TLS), "starttls", or "false" (plain, tests only)
    poll_seconds: int = 60

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs, validated."""

    data_dir: Path
    config_path: Path
    timezone: ZoneInfo
    slack: SlackSettings
    digest: DigestRules
    lifecycle: LifecycleRules
    risk: RiskRules
    triage: TriageRules
    imap: ImapSettings
    inbox_webhook_secret: str = ""
    # Seconds an HTTP connection may sit idle or mid-request before it is dropped.
    http_read_timeout: int = 30
    alerts: AlertRules = AlertRules()
    hooks: WebhookSecrets = WebhookSecrets()
    report: ReportRules = field(default_factory=ReportRules)
    smtp: SmtpSettings = SmtpSettings()
    holdout_percent: int = 0  # [care]: share of churn-risk tasks kept out of the digest
    outreach: OutreachRules = field(default_factory=OutreachRules)
    tech_touch: TechTouchRules = field(default_factory=TechTouchRules)  # off unless set

    def require_slack(self) -> None:
        """Stop with a clear message when the bot cannot run in Slack.

        Raises:
            ConfigError: naming every missing variable or setting.
        """
        missing = []
        if not self.slack.bot_token:
            missing.append(
                "SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-..., from OAuth & Permissions)"
            )
        if not self.slack.signing_secret and not self.slack.app_token:
            missing.append("SLACK_SIGNING_SECRET (Basic Information > App Credentials)")
        if not self.slack.digest_channel:
            missing.append(
                "CARE_DIGEST_CHANNEL or [slack] digest_channel in "
                f"{self.config_path} (the channel ID where the daily digest is posted)"
            )
        if self.imap.enabled and not self.slack.triage_channel:
            missing.append(
                "CARE_TRIAGE_CHANNEL or [slack] triage_channel in "
                f"{self.config_path} (the channel ID where inbox emails are posted)"
            )
        if missing:
            raise ConfigError("Cannot start the bot. Set:\n  - " + "\n  - ".join(missing))


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    dotenv: bool = True,
    config_path: str | Path | None = None,
) -> Settings:
    """Read `.env` (unless `dotenv` is false), the environment and `care.toml`.

    Args:
        env: the environment to read; `os.environ` by default.
        dotenv: load `.env` from the working directory into the environment first.
        config_path: overrides `CARE_CONFIG`.

    Raises:
        ConfigError: when the config file is missing or a value is wrong.
    """
    if env is None:
        if dotenv:
            from dotenv import find_dotenv, load_dotenv

            # usecwd: by default python-dotenv searches upwards from this file, not the cwd.
            load_dotenv(find_dotenv(usecwd=True), override=False)
        env = os.environ
    path = Path(config_path or env.get("CARE_CONFIG") or DEFAULT_CONFIG)
    raw = _read_toml(path)
    tz_name = str(raw.get("timezone", "UTC"))
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{path}: timezone {tz_name!r} is not an IANA zone (e.g. Europe/Berlin)"
        ) from exc
    slack_raw = _table(raw, "slack", path)
    managers = _user_ids(env, "CARE_MANAGERS", slack_raw, "managers", path)
    leads = _user_ids(env, "CARE_LEADS", slack_raw, "leads", path)
    slack = SlackSettings(
        bot_token=env.get("SLACK_BOT_TOKEN", ""),
        signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        app_token=env.get("SLACK_APP_TOKEN", ""),
        api_url=env.get("SLACK_API_URL", ""),
        port=_int(env.get("PORT", "3000"), "PORT"),
        digest_channel=env.get("CARE_DIGEST_CHANNEL") or str(slack_raw.get("digest_channel", "")),
        triage_channel=env.get("CARE_TRIAGE_CHANNEL") or str(slack_raw.get("triage_channel", "")),
        alerts_channel=env.get("CARE_ALERTS_CHANNEL")
        or str(slack_raw.get("alerts_channel", ""))
        or env.get("CARE_DIGEST_CHANNEL")
        or str(slack_raw.get("digest_channel", "")),
        managers=frozenset(managers),
        leads=frozenset(leads),
    )
    lifecycle = _build(LifecycleRules, _table(raw, "lifecycle", path), path, "lifecycle")
    return Settings(
        data_dir=Path(env.get("CARE_DATA_DIR") or "./data"),
        config_path=path,
        timezone=tz,
        slack=slack,
        digest=_digest(_table(raw, "digest", path), path),
        lifecycle=lifecycle,
        risk=_risk(_table(raw, "risk", path), path),
        triage=_triage(_table(raw, "triage", path), path),
        imap=_imap(env),
        inbox_webhook_secret=env.get("INBOX_WEBHOOK_SECRET", ""),
        http_read_timeout=_positive(env.get("HTTP_READ_TIMEOUT", "30"), "HTTP_READ_TIMEOUT"),
        alerts=_build(AlertRules, _table(raw, "alerts", path), path, "alerts"),
        hooks=WebhookSecrets(
            stripe=env.get("STRIPE_WEBHOOK_SECRET", ""),
            shopify=env.get("SHOPIFY_WEBHOOK_SECRET", ""),
            chargebee_user=env.get("CHARGEBEE_WEBHOOK_USER", ""),
            chargebee_password=env.get("CHARGEBEE_WEBHOOK_PASSWORD", ""),
            recharge=env.get("RECHARGE_WEBHOOK_SECRET", ""),
            zendesk=env.get("ZENDESK_WEBHOOK_SECRET", ""),
            gorgias=env.get("GORGIAS_WEBHOOK_TOKEN", ""),
            front=env.get("FRONT_WEBHOOK_SECRET", ""),
            stripe_api_key=env.get("STRIPE_API_KEY", ""),
            stripe_api_base=env.get("STRIPE_API_BASE", ""),
        ),
        report=_report(_table(raw, "report", path), path),
        smtp=_smtp(env),
        holdout_percent=_holdout(_table(raw, "care", path), path),
        outreach=_build(OutreachRules, _table(raw, "outreach", path), path, "outreach"),
        tech_touch=_tech_touch(_table(raw, "tech_touch", path), path, lifecycle),
    )


def _user_ids(
    env: Mapping[str, str], variable: str, slack_raw: Mapping[str, Any], key: str, path: Path
) -> list[str]:
    """Slack user ids from `variable` (comma-separated) if set, else `[slack] key` in care.toml.

    Raises:
        ConfigError: naming the setting and the value that is not a user id.
    """
    if variable in env:
        where, ids = variable, [m.strip() for m in env[variable].split(",") if m.strip()]
    else:
        where, value = f"{path}: [slack] {key}", slack_raw.get(key, [])
        if not isinstance(value, list):
            raise ConfigError(f'{where} must be a list of Slack user IDs, e.g. ["U0123ABCD"]')
        ids = [m.strip() if isinstance(m, str) else m for m in value]
    for user_id in ids:
        if not isinstance(user_id, str) or not SLACK_USER_ID.fullmatch(user_id):
            raise ConfigError(
                f"{where}: {user_id!r} is not a Slack user ID. Use member IDs like U0123ABCD "
                "(a person's profile > ⋮ > Copy member ID), not names or @handles."
            )
    return ids


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"Config file {path} not found: set CARE_CONFIG to your care.toml"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from exc


def _table(raw: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc


def _positive(value: str, name: str) -> int:
    number = _int(value, name)
    if number < 1:
        raise ConfigError(f"{name} must be at least 1, got {value!r}")
    return number


def _build(cls: Any, values: Mapping[str, Any], path: Path, section: str) -> Any:
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


def _weekdays(values: Any, path: Path, key: str) -> tuple[str, ...]:
    days = tuple(str(d).lower()[:3] for d in values)
    bad = [d for d in days if d not in WEEKDAYS]
    if bad or not days:
        raise ConfigError(f"{path}: {key} must list days among {', '.join(WEEKDAYS)}")
    return days


def _clock(value: Any, path: Path, key: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f'{path}: {key} must be a time like "09:00", got {value!r}')
    return time(int(match[1]), int(match[2]))


def _digest(values: dict[str, Any], path: Path) -> DigestRules:
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
        time=_clock(values.get("time", "09:00"), path, "[digest] time"),
        weekdays=_weekdays(values.get("weekdays", WEEKDAYS[:5]), path, "[digest] weekdays"),
        tasks_per_message=per,
        must_show_value=float(floor),
        **bounds,
    )


def _risk(values: dict[str, Any], path: Path) -> RiskRules:
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
    rules = _build(RiskRules, values, path, "risk")
    return RiskRules(**{**rules.__dict__, "weights": weights})


def _triage(values: dict[str, Any], path: Path) -> TriageRules:
    hours = str(values.get("business_hours", "09:00-17:00"))
    if "-" not in hours:
        raise ConfigError(f'{path}: [triage] business_hours must look like "09:00-17:00"')
    start, end = (_clock(h.strip(), path, "[triage] business_hours") for h in hours.split("-", 1))
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
        business_days=_weekdays(
            values.get("business_days", WEEKDAYS[:5]), path, "[triage] business_days"
        ),
        thread_window_days=window,
        intents=tuple(intents),
        cancel_confidence=float(confidence),
    )


def _holdout(values: dict[str, Any], path: Path) -> int:
    unknown = set(values) - {"holdout_percent"}
    if unknown:
        raise ConfigError(f"{path}: [care] has no setting {sorted(unknown)[0]!r}")
    percent = values.get("holdout_percent", 0)
    if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 50:
        raise ConfigError(f"{path}: [care] holdout_percent must be a whole number from 0 to 50")
    return percent


def _report(values: dict[str, Any], path: Path) -> ReportRules:
    unknown = set(values) - {"weekly_day", "weekly_time", "weekly_period"}
    if unknown:
        raise ConfigError(f"{path}: [report] has no setting {sorted(unknown)[0]!r}")
    period = str(values.get("weekly_period", "7d"))
    if period not in ("7d", "30d", "90d"):
        raise ConfigError(f"{path}: [report] weekly_period must be 7d, 30d or 90d")
    return ReportRules(
        weekly_day=_weekdays([values.get("weekly_day", "fri")], path, "[report] weekly_day")[0],
        weekly_time=_clock(values.get("weekly_time", "16:00"), path, "[report] weekly_time"),
        weekly_period=period,
    )


def _imap(env: Mapping[str, str]) -> ImapSettings:
    ssl = env.get("IMAP_SSL", "true").strip().lower()
    if ssl in ("1", "yes", "on", "tls", "ssl"):
        ssl = "true"
    if ssl in ("0", "no", "off", "plain"):
        ssl = "false"
    if ssl not in ("true", "false", "starttls"):
        raise ConfigError("IMAP_SSL must be true (implicit TLS), starttls, or false")
    default_port = "993" if ssl == "true" else "143"
    return ImapSettings(
        host=env.get("IMAP_HOST", ""),
        port=_int(env.get("IMAP_PORT", default_port), "IMAP_PORT"),
        user=env.get("IMAP_USER", ""),
        password=env.get("IMAP_PASSWORD", ""),
        folder=env.get("IMAP_FOLDER", "INBOX"),
        ssl=ssl,
        poll_seconds=_int(env.get("IMAP_POLL_SECONDS", "60"), "IMAP_POLL_SECONDS"),
    )


def _tech_touch(values: dict[str, Any], path: Path, lifecycle: LifecycleRules) -> TechTouchRules:
    try:
        return tech_touch_rules(values, str(path), tuple(lifecycle.checkin_days))
    except TechTouchConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _smtp(env: Mapping[str, str]) -> SmtpSettings:
    try:
        return smtp_settings(env)
    except SmtpConfigError as exc:
        raise ConfigError(str(exc)) from exc
