"""`[tech_touch]` in care.toml: which touches the bot sends by email itself, and to whom.

Off by default. Each rule names a task kind and the monthly value below which that touch is
emailed automatically from its template when the daily digest runs, instead of being posted
for a person:

    [tech_touch]
    max_per_day = 200
    checkin_30 = { auto_email_below_value = 30 }
    anniversary = { auto_email_below_value = 50 }

Kept apart from config/sections.py (which turns `TechTouchConfigError` into a `ConfigError`)
so that the rules and their checks read in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIXED_KINDS = ("onboarding", "pre_renewal", "anniversary", "win_back", "churn_risk")
RULE_KEYS = ("auto_email_below_value",)
MAX_PER_DAY_LIMIT = 10_000


class TechTouchConfigError(ValueError):
    """A `[tech_touch]` value is wrong; the message says what to write."""


@dataclass(frozen=True)
class TechTouchRules:
    """Automatic email per task kind (`[tech_touch]` in care.toml).

    Attributes:
        below_value: task kind -> the monthly value (in the customer's currency, as
            `bot.money` computes it) below which that touch is emailed by the bot. Empty: off.
        max_per_day: emails sent automatically a day at most (mail providers cap a mailbox's
            daily sends); the rest are posted for a person as before.
    """

    below_value: Mapping[str, float] = field(default_factory=dict)
    max_per_day: int = 200

    @property
    def enabled(self) -> bool:
        return bool(self.below_value)

    def covers(self, kinds: list[str], value: float) -> bool:
        """Whether a customer worth `value` a month with touches of `kinds` is emailed by the
        bot: every one of the kinds has a rule, and the value is below each rule's bound."""
        return bool(kinds) and all(value < self.below_value.get(k, 0.0) for k in kinds)


def tech_touch_rules(
    values: Mapping[str, Any], where: str, checkin_days: tuple[int, ...]
) -> TechTouchRules:
    """Read and check `[tech_touch]`.

    Args:
        values: the table as read from care.toml.
        where: the config file, for messages.
        checkin_days: `[lifecycle] checkin_days` (a rule for `checkin_N` needs day N there).

    Raises:
        TechTouchConfigError: naming the key and what to write instead.
    """
    kinds = (*FIXED_KINDS, *(f"checkin_{d}" for d in checkin_days))
    rules: dict[str, float] = {}
    max_per_day = TechTouchRules.max_per_day
    for key, value in values.items():
        if key == "max_per_day":
            if not isinstance(value, int) or isinstance(value, bool):
                raise TechTouchConfigError(
                    f"{where}: [tech_touch] max_per_day must be a whole number, got {value!r}"
                )
            if not 1 <= value <= MAX_PER_DAY_LIMIT:
                raise TechTouchConfigError(
                    f"{where}: [tech_touch] max_per_day must be 1 to {MAX_PER_DAY_LIMIT}, "
                    f"got {value}"
                )
            max_per_day = value
            continue
        if key not in kinds:
            raise TechTouchConfigError(
                f"{where}: [tech_touch] has no task kind {key!r}; "
                f"one of {', '.join(kinds)} (check-in days come from [lifecycle] checkin_days), "
                "or max_per_day"
            )
        rules[key] = _rule(key, value, where)
    return TechTouchRules(below_value=rules, max_per_day=max_per_day)


def _rule(kind: str, value: Any, where: str) -> float:
    example = f"{kind} = {{ auto_email_below_value = 30 }}"
    if not isinstance(value, Mapping):
        raise TechTouchConfigError(
            f"{where}: [tech_touch] {kind} must be a table like `{example}`, got {value!r}"
        )
    unknown = sorted(set(value) - set(RULE_KEYS))
    if unknown:
        raise TechTouchConfigError(
            f"{where}: [tech_touch] {kind} has no setting {unknown[0]!r}; write `{example}`"
        )
    bound = value.get("auto_email_below_value")
    if bound is None:
        raise TechTouchConfigError(
            f"{where}: [tech_touch] {kind} needs auto_email_below_value: `{example}`"
        )
    if isinstance(bound, bool) or not isinstance(bound, int | float) or not 0 < bound < 1e9:
        raise TechTouchConfigError(
            f"{where}: [tech_touch] {kind} auto_email_below_value must be a monthly value "
            f"above 0 (e.g. 30), got {bound!r}"
        )
    return float(bound)
