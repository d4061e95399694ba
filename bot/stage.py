"""Where a subscriber is in their lifecycle, in words, for lookup cards and triage messages."""

from __future__ import annotations

from datetime import date

from bot.models import Subscriber


def lifecycle_stage(sub: Subscriber, today: date) -> str:
    """ "Onboarding (day 12)", "Early (day 75)", "Established (2 yrs)", "Ended Mar 02, 2026",
    "Never paid" (a checkout that never completed, a trial that never converted)..."""
    ended = sub.ended_on
    if ended is not None:
        return f"Ended {ended:%b %d, %Y}"
    if sub.never_paid:
        return "Never paid"
    status = sub.status
    tenure = sub.tenure_days(today)
    if tenure is None:
        return "Start date unknown"
    if tenure < 0:
        return f"Starts {sub.first_started:%b %d, %Y}"
    prefix = {"trialing": "Trial, ", "paused": "Paused, ", "past_due": "Past due, "}.get(status, "")
    if tenure < 30:
        return f"{prefix}Onboarding (day {tenure})"
    if tenure < 180:
        return f"{prefix}Early (day {tenure})"
    years = tenure // 365
    return (
        f"{prefix}Established ({years} yr{'s' if years != 1 else ''})"
        if years
        else f"{prefix}Established (day {tenure})"
    )
