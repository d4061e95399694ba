"""A measured number that knows when it cannot be measured.

Every metric is a `Figure`: a value with its unit and the count it rests on, or no value and
a sentence saying why (no customers at the start of the period, no NPS answers...). A report
never shows 0 for a number it could not compute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PERCENT, COUNT, HOURS, SCORE = "%", "count", "hours", "score"


@dataclass(frozen=True)
class Figure:
    """One number of a report.

    Attributes:
        value: the number (a percentage is 0-100), or None when it cannot be computed.
        unit: "%", "count", "hours" or "score".
        n: what the number rests on (the denominator of a rate, the responses of a score).
        why: when `value` is None, why; empty otherwise.
        detail: further counts that explain the number ({"voluntary": 2, ...}).
    """

    value: float | None
    unit: str = COUNT
    n: int | None = None
    why: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.value is not None

    def text(self) -> str:
        """The value as a person reads it: "12.5%", "3", "4.2 h", or "n/a (why)"."""
        if self.value is None:
            return f"n/a ({self.why})" if self.why else "n/a"
        if self.unit == PERCENT:
            return f"{self.value:.1f}%"
        if self.unit == HOURS:
            return f"{self.value:.1f} h"
        if self.unit == SCORE:
            return f"{self.value:+.0f}"
        return f"{self.value:,.0f}" if float(self.value).is_integer() else f"{self.value:,.2f}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "unit": self.unit}
        if self.n is not None:
            out["n"] = self.n
        if self.why:
            out["why"] = self.why
        if self.detail:
            out["detail"] = self.detail
        return out


def missing(why: str, unit: str = COUNT, n: int | None = None) -> Figure:
    """A figure that cannot be computed, saying why."""
    return Figure(None, unit, n, why)


def rate(part: int, whole: int, why_empty: str, **detail: Any) -> Figure:
    """`part / whole` as a percentage, or missing with `why_empty` when `whole` is 0."""
    if whole <= 0:
        return Figure(None, PERCENT, 0, why_empty, detail)
    return Figure(round(100 * part / whole, 1), PERCENT, whole, "", {"count": part, **detail})


def quantile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0-1) by linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def durations(values: Sequence[float], why_empty: str, **detail: Any) -> dict[str, Figure]:
    """Median and p90 of durations in hours, each missing with `why_empty` when there are none."""
    if not values:
        return {"median": missing(why_empty, HOURS, 0), "p90": missing(why_empty, HOURS, 0)}
    n = len(values)
    return {
        "median": Figure(round(quantile(values, 0.5), 2), HOURS, n, "", dict(detail)),
        "p90": Figure(round(quantile(values, 0.9), 2), HOURS, n, "", dict(detail)),
    }


def figure_from_json(doc: dict[str, Any]) -> Figure:
    """The figure `Figure.to_json` wrote; ValueError if `doc` is not one."""
    if not isinstance(doc, dict):
        raise ValueError(f"a figure is not a mapping: {doc!r}"[:200])
    value, unit, n = doc.get("value"), doc.get("unit"), doc.get("n")
    detail, why = doc.get("detail", {}), doc.get("why", "")
    if value is not None and type(value) not in (int, float):
        raise ValueError(f"a figure's value is not a number: {value!r}")
    if not isinstance(unit, str) or (n is not None and type(n) is not int):
        raise ValueError(f"not a stored figure: {doc!r}"[:200])
    if not isinstance(detail, dict) or not isinstance(why, str):
        raise ValueError(f"not a stored figure: {doc!r}"[:200])
    return Figure(value, unit, n, why, detail)
