"""Every action_id, block_id and callback_id the bot uses, in one place.

Builders put these on buttons, selects and modal inputs; handlers register listeners for them
(`app.action(ACTION_CLAIM)`). Values carried by buttons and select options are encoded and
decoded here too, so both sides agree:

- a button's `value` is the comma-joined task ids of one digest entry ("k7qx2,a3b4c"): clicking
  Claim on an entry claims all of that customer's tasks; for triage buttons it is the item id;
- a select option's `value` is "<number>|<ids>": snooze days (digest) or minutes (triage).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.blocks.limits import MAX_BUTTON_VALUE, MAX_OPTION_VALUE

# Digest entries (thread replies) and the App Home.
ACTION_CLAIM = "care_claim"
ACTION_LOG = "care_log"
ACTION_SNOOZE = "care_snooze"  # static_select: 1, 3 or 7 days
ACTION_RELEASE = "care_release"
ACTION_DONE = "care_done"
ACTION_HOME_REFRESH = "care_home_refresh"
ACTION_OPEN_LOOKUP = "care_open_lookup"  # reserved: "view card" from the Home tab
VIEW_HOME = "care_home"

# Block ids in digest messages: "<prefix>:<first task id>" so several entries can share one
# message without clashing (Slack refuses repeated block_ids in a message).
BLOCK_ENTRY = "care_entry"
BLOCK_ENTRY_ACTIONS = "care_entry_actions"
BLOCK_CARRIED = "care_carried"  # one carried-over customer (a line and a button)
BLOCK_DIGEST_COUNTS = "care_digest_counts"
BLOCK_DIGEST_PROGRESS = "care_digest_progress"

# The "Log outreach" modal.
VIEW_LOG_OUTREACH = "care_log_outreach"
BLOCK_LOG_CHANNEL = "log_channel"
ACTION_LOG_CHANNEL = "log_channel_select"
BLOCK_LOG_OUTCOME = "log_outcome"
ACTION_LOG_OUTCOME = "log_outcome_select"
BLOCK_LOG_NOTE = "log_note"
ACTION_LOG_NOTE = "log_note_input"
BLOCK_LOG_FOLLOW_UP = "log_follow_up"
ACTION_LOG_FOLLOW_UP = "log_follow_up_date"

# The Email button on a digest entry and its modal (bot/blocks/compose.py).
ACTION_EMAIL = "care_email"
VIEW_EMAIL = "care_email_send"
BLOCK_EMAIL_SUBJECT = "email_subject"
ACTION_EMAIL_SUBJECT = "email_subject_input"
BLOCK_EMAIL_BODY = "email_body"
ACTION_EMAIL_BODY = "email_body_input"
BLOCK_EMAIL_AFTER = "email_after"
ACTION_EMAIL_AFTER = "email_after_choice"
EMAIL_CLOSE, EMAIL_KEEP = "close", "keep"

# Triage messages (the shared inbox).
ACTION_TRIAGE_CLAIM = "care_triage_claim"
ACTION_TRIAGE_RESOLVE = "care_triage_resolve"
ACTION_TRIAGE_SNOOZE = "care_triage_snooze"  # static_select: minutes
ACTION_TRIAGE_RELEASE = "care_triage_release"
ACTION_TRIAGE_REOPEN = "care_triage_reopen"
ACTION_TRIAGE_SHOW_FULL = "care_triage_show_full"
ACTION_TRIAGE_REPLY = "care_triage_reply"  # opens the Reply modal
ACTION_TRIAGE_CANCEL_CONFIRM = "care_triage_cancel_confirm"  # count it as a churn signal
ACTION_TRIAGE_CANCEL_DISMISS = "care_triage_cancel_dismiss"  # not a cancel request
BLOCK_TRIAGE_ACTIONS = "care_triage_actions"
BLOCK_TRIAGE_CANCEL = "care_triage_cancel"
# Link an unknown sender to a subscriber (bot/blocks/link.py).
ACTION_TRIAGE_LINK = "care_triage_link"
VIEW_TRIAGE_LINK = "care_triage_link_modal"
BLOCK_LINK_SUBSCRIBER = "link_subscriber"
ACTION_LINK_SEARCH = "link_subscriber_search"  # external_select: options from the store

# The Reply modal (an email to the customer; only its Send button sends).
VIEW_REPLY = "care_reply_email"
BLOCK_REPLY_TEXT = "reply_text"
ACTION_REPLY_TEXT = "reply_text_input"
BLOCK_REPLY_OPTIONS = "reply_options"
ACTION_REPLY_OPTIONS = "reply_options_checks"
REPLY_RESOLVE, REPLY_CLOSE_TASK = "resolve", "close_task"

# The slash command.
COMMAND = "/care"

ALL_ACTIONS = (
    ACTION_CLAIM,
    ACTION_LOG,
    ACTION_SNOOZE,
    ACTION_RELEASE,
    ACTION_DONE,
    ACTION_HOME_REFRESH,
    ACTION_OPEN_LOOKUP,
    ACTION_EMAIL,
    ACTION_TRIAGE_CLAIM,
    ACTION_TRIAGE_RESOLVE,
    ACTION_TRIAGE_SNOOZE,
    ACTION_TRIAGE_RELEASE,
    ACTION_TRIAGE_REOPEN,
    ACTION_TRIAGE_SHOW_FULL,
    ACTION_TRIAGE_REPLY,
    ACTION_TRIAGE_CANCEL_CONFIRM,
    ACTION_TRIAGE_CANCEL_DISMISS,
    ACTION_TRIAGE_LINK,
)

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def encode_ids(ids: Iterable[str], limit: int = MAX_BUTTON_VALUE) -> str:
    """Join task (or item) ids for a button value: "k7qx2,a3b4c".

    Raises:
        ValueError: when an id is empty or has a comma or pipe, or the result would not fit
            in `limit` characters (Slack refuses the whole message then).
    """
    ids = list(ids)
    for one in ids:
        if not _ID.match(one):
            raise ValueError(f"Cannot put id {one!r} in a button value: use letters and digits")
    value = ",".join(ids)
    if not value:
        raise ValueError("A button needs at least one id in its value")
    if len(value) > limit:
        raise ValueError(f"{len(ids)} ids make a value of {len(value)} chars, over {limit}")
    return value


def decode_ids(value: str) -> list[str]:
    """The ids in a button value, in order, without blanks or repeats."""
    return list(dict.fromkeys(part.strip() for part in (value or "").split(",") if part.strip()))


def encode_choice(number: int, ids: Iterable[str]) -> str:
    """A select option value: "3|k7qx2,a3b4c" (3 days, for these tasks)."""
    return f"{int(number)}|{encode_ids(ids, MAX_OPTION_VALUE - len(str(int(number))) - 1)}"


def encode_choices(numbers: Sequence[int], ids: Iterable[str]) -> list[str]:
    """`encode_choice(n, ids)` for each of `numbers`, the ids encoded and checked once."""
    numbers = [int(n) for n in numbers]
    widest = max((len(str(n)) for n in numbers), default=1)
    value = encode_ids(ids, MAX_OPTION_VALUE - widest - 1)
    return [f"{n}|{value}" for n in numbers]


def decode_choice(value: str) -> tuple[int, list[str]]:
    """`(number, ids)` from a select option value made by `encode_choice`.

    Raises:
        ValueError: when the value is not "<number>|<ids>".
    """
    number, sep, ids = (value or "").partition("|")
    if not sep or not number.strip().isdigit():
        raise ValueError(f"Not a choice value: {value!r} (expected '<number>|<ids>')")
    return int(number), decode_ids(ids)


def block_id(prefix: str, key: str) -> str:
    """A block_id unique within a message: "<prefix>:<key>", cut to Slack's 255 chars."""
    return f"{prefix}:{key}"[:255]
