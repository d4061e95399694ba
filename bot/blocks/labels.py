"""Human words for the bot's codes: task kinds, outreach channels and outcomes, intents, bands."""

from __future__ import annotations

from bot.blocks.text import escape, truncate

KIND_LABELS = {
    "churn_risk": "Churn risk",
    "pre_renewal": "Pre-renewal",
    "win_back": "Win-back",
    "onboarding": "Onboarding",
    "checkin_30": "30-day check-in",
    "checkin_90": "90-day check-in",
    "checkin_180": "180-day check-in",
    "anniversary": "Anniversary",
}
KIND_EMOJI = {
    "churn_risk": ":rotating_light:",
    "pre_renewal": ":calendar:",
    "win_back": ":leftwards_arrow_with_hook:",
    "onboarding": ":wave:",
    "checkin_30": ":speech_balloon:",
    "checkin_90": ":speech_balloon:",
    "checkin_180": ":speech_balloon:",
    "anniversary": ":tada:",
    "checkins": ":speech_balloon:",
    "overdue": ":hourglass:",
}
# Digest parent counts: the three check-ins are one line.
KIND_GROUPS = {
    "checkin_30": "checkins",
    "checkin_90": "checkins",
    "checkin_180": "checkins",
}
GROUP_LABELS = {
    "churn_risk": "Churn risk",
    "pre_renewal": "Pre-renewal",
    "win_back": "Win-back",
    "onboarding": "Onboarding",
    "checkins": "Check-ins",
    "anniversary": "Anniversaries",
    "overdue": "Overdue, carried over",
}
# The order kinds appear in the digest: the most urgent first.
KIND_ORDER = (
    "churn_risk",
    "pre_renewal",
    "win_back",
    "onboarding",
    "checkin_30",
    "checkin_90",
    "checkin_180",
    "anniversary",
)

CHANNEL_LABELS = {
    "email": "Email",
    "call": "Call",
    "sms": "SMS",
    "slack": "Slack",
    "other": "Other",
}
CHANNEL_VERBS = {
    "email": "emailed",
    "call": "called",
    "sms": "texted",
    "slack": "messaged on Slack",
    "other": "reached out to",
}
OUTCOME_LABELS = {
    "reached": "Reached",
    "left_message": "Left a message",
    "no_answer": "No answer",
    "saved": "Saved: staying",
    "lost": "Lost: leaving",
    "follow_up": "Follow-up needed",
}
TASK_OUTCOME_LABELS = {
    **OUTCOME_LABELS,
    "done": "Done",
    "expired": "Expired unhandled",
    "released": "Released",
}
INTENT_LABELS = {
    "cancel": "Cancel request",
    "pause_skip": "Pause / skip",
    "billing": "Billing",
    "delivery": "Delivery",
    "damaged_wrong": "Damaged / wrong item",
    "address_change": "Address change",
    "other": "Other",
}
INTENT_EMOJI = {"cancel": ":rotating_light:", "billing": ":credit_card:", "delivery": ":package:"}
BAND_EMOJI = {"high": ":red_circle:", "medium": ":large_orange_circle:", "low": ":white_circle:"}


def _code_label(labels: dict[str, str], code: str) -> str:
    if code in labels:
        return labels[code]
    return escape(str(code).replace("_", " ").capitalize()) or "Unknown"


def kind_label(kind: str) -> str:
    """ "Churn risk" for "churn_risk"; unknown kinds are escaped, never trusted."""
    return _code_label(KIND_LABELS, kind)


def group_of(kind: str) -> str:
    """The parent-count group of a task kind ("checkin_90" -> "checkins")."""
    return KIND_GROUPS.get(kind, kind)


def group_label(group: str) -> str:
    """ "Check-ins" for "checkins"; a task kind gives its own label."""
    return _code_label(GROUP_LABELS, group)


def kind_rank(kind: str) -> int:
    """Sort key: urgent kinds first, unknown kinds last."""
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def channel_label(channel: str) -> str:
    """ "SMS" for "sms"; unknown channels are escaped."""
    return _code_label(CHANNEL_LABELS, channel)


def outcome_label(outcome: str) -> str:
    """ "Left a message" for "left_message"; also "done", "expired", "released"."""
    return _code_label(TASK_OUTCOME_LABELS, outcome)


def intent_label(intent: str) -> str:
    """Intent names come from care.toml, so unknown ones are escaped."""
    return truncate(_code_label(INTENT_LABELS, intent or "other"), 60)


def band_label(score: int, band: str) -> str:
    """ ":red_circle: 75 (high)" """
    emoji = BAND_EMOJI.get(band, ":white_circle:")
    return f"{emoji} {int(score)} ({escape(band or 'low')})"
