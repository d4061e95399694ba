"""Short answers to commands and clicks: help, unknown subcommand, confirmations, refusals.

Every function returns {"text", "blocks"} for `respond`/`chat.postEphemeral`. Anything that
came from a user or the data (task ids typed in a command, names, error messages that may
quote input) is escaped here.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.labels import channel_label, outcome_label
from bot.blocks.text import (
    channel_ref,
    clip,
    day_label,
    escape,
    link,
    one_line,
    slack_date,
    truncate,
    user_ref,
)

# (name, usage, what it does): the single list `/care help` and the nearest match use.
SUBCOMMANDS: tuple[tuple[str, str, str], ...] = (
    ("mine", "/care mine", "your claimed tasks"),
    (
        "queue",
        "/care queue [kind]",
        "what is due beyond today's digest, best first (e.g. `/care queue churn_risk`)",
    ),
    (
        "lookup",
        "/care lookup <email|name>",
        "a subscriber's card: stage, risk, tasks, outreach, who did what lately",
    ),
    ("history", "/care history <task-id>", "everything done to a task: who, when, from where"),
    ("claim", "/care claim <task-id>", "take a task so nobody doubles up"),
    ("release", "/care release <task-id>", "give your claimed task back (leads: anyone's)"),
    (
        "assign",
        "/care assign <task-id> @user",
        "hand a task you hold or nobody holds to a teammate (leads: any task)",
    ),
    ("snooze", "/care snooze <task-id> <days>", "hide a task for a few days"),
    ("done", "/care done <task-id>", "close a task without logging outreach"),
    (
        "log",
        "/care log <task-id|email> <channel> <outcome> [note]",
        "log outreach (channel: email call sms slack other; outcome: reached left_message "
        "no_answer saved lost follow_up)",
    ),
    ("stats", "/care stats [7d|30d]", "the team's numbers"),
    (
        "report",
        "/care report [7d|30d|90d]",
        "care and service metrics: churn, NPS, saves, response times",
    ),
    ("digest", "/care digest now", "post today's digest if it has not been posted"),
    ("triage", "/care triage", "open inbox emails, and emails parked after failing"),
    ("inbox", "/care inbox retry|drop <id>", "run a parked email again, or forget it"),
    ("help", "/care help", "this list"),
)
SUBCOMMAND_NAMES = tuple(name for name, _, _ in SUBCOMMANDS)


def _reply(text: str, context: str | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": text, "blocks": blocks}


def _ids(task_ids: Sequence[str]) -> str:
    shown = ", ".join(f"`{clip(one_line(t), 40)}`" for t in list(task_ids)[:10])
    more = f" and {len(task_ids) - 10} more" if len(task_ids) > 10 else ""
    return (shown or "`?`") + more


def _whose(name: str | None) -> str:
    return f" ({clip(one_line(name), 150)})" if name else ""


def build_help() -> dict[str, Any]:
    """`/care help`: every subcommand with its usage."""
    lines = [f"`{escape(usage)}`: {escape(what)}" for _, usage, what in SUBCOMMANDS]
    text = "*Proactive Care commands*\n" + "\n".join(lines)
    return _reply(text, "Buttons in the digest thread do the same: Claim, Log outreach, Snooze.")


def nearest_subcommand(word: str) -> str | None:
    """The subcommand closest to a mistyped one ("lokup" -> "lookup"), or None."""
    word = (word or "").strip().lower()
    prefix = [name for name in SUBCOMMAND_NAMES if word and name.startswith(word)]
    if len(prefix) == 1:
        return prefix[0]
    close = difflib.get_close_matches(word, SUBCOMMAND_NAMES, n=1, cutoff=0.5)
    return close[0] if close else None


def build_unknown_subcommand(given: str) -> dict[str, Any]:
    """The answer to `/care <something unknown>`: the nearest match, then the help."""
    guess = nearest_subcommand(given)
    shown = clip(one_line(given), 60) or "(nothing)"
    text = f"I don't know `{shown}`."
    if guess:
        usage = next(u for n, u, _ in SUBCOMMANDS if n == guess)
        text += f" Did you mean `{escape(usage)}`?"
    help_blocks = build_help()["blocks"]
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, *help_blocks],
    }


def build_already_claimed(
    claimant: str, claimed_at: datetime | None, tz: ZoneInfo, subscriber_name: str = ""
) -> dict[str, Any]:
    """A refused claim: "Already claimed by @x at 10:04"."""
    when = f" at {slack_date(claimed_at, tz=tz)}" if claimed_at else ""
    return _reply(
        f":lock: Already claimed by {user_ref(claimant)}{when}{_whose(subscriber_name)}. "
        "Ask them before you reach out."
    )


def build_not_a_manager() -> dict[str, Any]:
    """The polite refusal for someone who is not a care manager."""
    return _reply(
        "Only care managers can claim, log and change tasks. "
        "Ask an admin to add your Slack ID to `CARE_MANAGERS` (or `managers` in care.toml)."
    )


def build_claimed(task_ids: Sequence[str], subscriber_name: str = "") -> dict[str, Any]:
    """A successful claim, privately."""
    return _reply(
        f":raised_hand: You claimed {_ids(task_ids)}{_whose(subscriber_name)}. "
        "Reach out, then *Log outreach*."
    )


def build_released(task_ids: Sequence[str], subscriber_name: str = "") -> dict[str, Any]:
    """A release: the tasks are open again."""
    return _reply(f"Released {_ids(task_ids)}{_whose(subscriber_name)}: anyone can claim it now.")


def build_assigned(
    task_ids: Sequence[str], assignee: str, subscriber_name: str = ""
) -> dict[str, Any]:
    """An assignment to a teammate."""
    return _reply(f"Assigned {_ids(task_ids)}{_whose(subscriber_name)} to {user_ref(assignee)}.")


def build_snoozed(
    task_ids: Sequence[str], until: date, today: date, subscriber_name: str = ""
) -> dict[str, Any]:
    """A snooze, with the day the tasks come back."""
    return _reply(
        f":zzz: Snoozed {_ids(task_ids)}{_whose(subscriber_name)} until {day_label(until, today)}."
    )


def build_done(task_ids: Sequence[str], subscriber_name: str = "") -> dict[str, Any]:
    """Tasks closed without an outreach log."""
    return _reply(f":white_check_mark: Closed {_ids(task_ids)}{_whose(subscriber_name)}.")


def build_logged(
    task_ids: Sequence[str],
    channel: str,
    outcome: str,
    follow_up: date | None = None,
    follow_up_task: str | None = None,
) -> dict[str, Any]:
    """Confirmation of a log: what was recorded and the follow-up task, if any."""
    text = (
        f":memo: Logged {channel_label(channel).lower()}: "
        f"*{outcome_label(outcome)}* on {_ids(task_ids)}."
    )
    if follow_up:
        text += f" Follow-up on {follow_up:%a %b} {follow_up.day}"
        text += f" as `{escape(follow_up_task)}`." if follow_up_task else "."
    return _reply(text)


def build_not_found(what: str, kind: str = "task") -> dict[str, Any]:
    """ "No task `x7`": for ids and emails typed into a command."""
    hint = {
        "task": "Task ids look like `k7qx2`: see `/care mine` or the digest thread.",
        "subscriber": "Try their email address, or part of their name.",
        "item": "See `/care triage` for the open inbox items.",
    }.get(kind, "")
    return _reply(f"No {escape(kind)} `{clip(one_line(what), 80) or '?'}`. {hint}".strip())


def build_error(message: str, usage: str | None = None, *, mrkdwn: bool = False) -> dict[str, Any]:
    """A refusal or mistake explained: the message is escaped (it may quote input).

    Args:
        message: what went wrong.
        usage: the command's usage line, if it helps.
        mrkdwn: the message is Slack mrkdwn already (a `bot.care.CareError`: input in it is
            escaped, `<@U…>` mentions are of our own users), so it is only trimmed.
    """
    return _reply(
        f":warning: {truncate(message, 2500) if mrkdwn else clip(message, 2500)}",
        f"Usage: `{escape(usage)}`" if usage else None,
    )


def build_info(message: str) -> dict[str, Any]:
    """A plain escaped information reply (e.g. "Today's digest is already posted")."""
    return _reply(clip(message, 2900))


def build_digest_posting(channel: str, resuming: bool = False) -> dict[str, Any]:
    """`/care digest now` when today's digest is not out yet (or was cut short): where it goes."""
    where = channel_ref(channel)
    if resuming:
        return _reply(f"Today's digest in {where} was cut short: posting the rest now.")
    return _reply(f"Posting today's digest in {where} now.")


def build_digest_posted(day: date, channel: str, permalink: str | None = None) -> dict[str, Any]:
    """`/care digest now` when today's digest is already out: where it is."""
    where = channel_ref(channel)
    if permalink:
        where += f" ({link(permalink, 'open it')})"
    return _reply(f"The digest for {day:%a %b} {day.day} is already posted in {where}.")
