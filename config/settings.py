"""Load and validate settings from `care.toml`, the environment and `.env`.

Secrets (Slack tokens, IMAP password, webhook secret) come only from the environment, which
`python-dotenv` fills from `.env`. Team rules (lifecycle days, risk weights, digest time) come
from `care.toml` (`CARE_CONFIG`, default `config/care.toml`): their dataclasses are in
`config/rules.py`, the checks of each section in `config/sections.py`. Every problem is reported
as a `ConfigError` (`config/errors.py`) whose message says exactly what to set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.errors import ConfigError
from config.rules import (
    AlertRules,
    DigestRules,
    LifecycleRules,
    OutreachRules,
    ReportRules,
    RiskRules,
    TriageRules,
)
from config.sections import (
    build_rules,
    digest_rules,
    holdout_percent,
    read_toml,
    report_rules,
    risk_rules,
    table,
    tech_touch,
    triage_rules,
)
from config.smtp import SmtpConfigError, SmtpSettings, smtp_settings
from config.techtouch import TechTouchRules

DEFAULT_CONFIG = Path(__file__).with_name("care.toml")
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]+")


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
    raw = read_toml(path)
    tz_name = str(raw.get("timezone", "UTC"))
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{path}: timezone {tz_name!r} is not an IANA zone (e.g. Europe/Berlin)"
        ) from exc
    slack_raw = table(raw, "slack", path)
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
    lifecycle = build_rules(LifecycleRules, table(raw, "lifecycle", path), path, "lifecycle")
    return Settings(
        data_dir=Path(env.get("CARE_DATA_DIR") or "./data"),
        config_path=path,
        timezone=tz,
        slack=slack,
        digest=digest_rules(table(raw, "digest", path), path),
        lifecycle=lifecycle,
        risk=risk_rules(table(raw, "risk", path), path),
        triage=triage_rules(table(raw, "triage", path), path),
        imap=_imap(env),
        inbox_webhook_secret=env.get("INBOX_WEBHOOK_SECRET", ""),
        http_read_timeout=_positive(env.get("HTTP_READ_TIMEOUT", "30"), "HTTP_READ_TIMEOUT"),
        alerts=build_rules(AlertRules, table(raw, "alerts", path), path, "alerts"),
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
        report=report_rules(table(raw, "report", path), path),
        smtp=_smtp(env),
        holdout_percent=holdout_percent(table(raw, "care", path), path),
        outreach=build_rules(OutreachRules, table(raw, "outreach", path), path, "outreach"),
        tech_touch=tech_touch(table(raw, "tech_touch", path), path, lifecycle),
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


def _smtp(env: Mapping[str, str]) -> SmtpSettings:
    try:
        return smtp_settings(env)
    except SmtpConfigError as exc:
        raise ConfigError(str(exc)) from exc
