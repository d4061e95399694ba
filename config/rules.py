"""The team's rules from `care.toml`: lifecycle, risk, digest, triage, alerts, report, outreach.

Each is a frozen dataclass whose defaults are what an empty section means; `config/sections.py`
checks a section and builds its rules, `config/settings.py` gathers them into `Settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
