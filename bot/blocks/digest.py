"""The daily digest: the parent message and its thread replies.

Layout in Slack:

- the parent message (`build_digest_parent`): date, counts per kind, progress (claimed, done,
  still open; `chat.update` it as the day goes) and what to do;
- in its thread, per group (overdue carried over first, then churn risk, pre-renewal, ...):
  one header message ("Churn risk · 12"), then the entries of that group.

Decision: each entry (one customer with all of its due tasks) is its OWN thread reply by
default (`per_message=1`). A claim then re-renders exactly one message with
`build_entry_message(entry, ...)` and `chat.update`s it, and two managers claiming two
customers at the same moment can never overwrite each other's message. "A few tasks per
message" holds because an entry carries all of a customer's tasks. `per_message > 1` packs
several entries of one group into a message (fewer messages to post at Slack's 1 per second);
the updater must then re-render every entry recorded with that message's `ts`, passing them
all to `build_entry_message`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import ids
from bot.blocks.entry import (
    EntryLike,
    build_entry_blocks,
    entry_fallback,
    entry_kind,
)
from bot.blocks.labels import (
    GROUP_LABELS,
    KIND_EMOJI,
    group_label,
    group_of,
    kind_label,
    kind_rank,
)
from bot.blocks.limits import MAX_BLOCKS_MESSAGE
from bot.blocks.text import channel_ref, one_line, truncate

PARENT_GROUPS = (
    "churn_risk",
    "pre_renewal",
    "win_back",
    "onboarding",
    "checkins",
    "anniversary",
    "overdue",
)
OVERDUE = "overdue"


@dataclass(frozen=True)
class DigestProgress:
    """How far the team got through today's digest."""

    claimed: int = 0
    done: int = 0
    open: int = 0
    expired: int = 0

    @property
    def total(self) -> int:
        return self.claimed + self.done + self.open + self.expired


def build_digest_parent(
    day: date,
    counts: Mapping[str, int],
    progress: DigestProgress | Mapping[str, int],
    channel_hint: str | None = None,
) -> dict[str, Any]:
    """The digest's parent message, posted once and `chat.update`d as tasks move.

    Args:
        day: the digest's local date.
        counts: tasks per task kind ("churn_risk", "checkin_30", ...) plus "overdue" for tasks
            carried over from earlier days (not counted again under their kind).
        progress: claimed / done / still open (/ expired) for today's tasks.
        channel_hint: optional pointer shown under the instructions, e.g. the triage
            channel id ("C0123") or a short note (escaped).

    Returns:
        {"text": fallback, "blocks": [...]}
    """
    if isinstance(progress, Mapping):
        progress = DigestProgress(**{k: int(v) for k, v in progress.items()})
    grouped: dict[str, int] = {}
    for kind, n in counts.items():
        if n:
            grouped[group_of(kind)] = grouped.get(group_of(kind), 0) + int(n)
    total = sum(grouped.values())
    title = f"Proactive care · {day:%A %b} {day.day}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
    ]
    if total == 0:
        blocks.append(_section("Nothing due today. :sunny:", ids.BLOCK_DIGEST_COUNTS))
        return {"text": f"{title}: nothing due today", "blocks": blocks}
    lines = [f"*{total} proactive touch{'es' if total != 1 else ''} due today*"]
    order = [g for g in PARENT_GROUPS if g in grouped] + sorted(
        g for g in grouped if g not in PARENT_GROUPS
    )
    for group in order:
        emoji = KIND_EMOJI.get(group, ":small_blue_diamond:")
        lines.append(f"{emoji} {group_label(group)}: *{grouped[group]}*")
    blocks.append(_section("\n".join(lines), ids.BLOCK_DIGEST_COUNTS))
    blocks.append(_section(_progress_text(progress), ids.BLOCK_DIGEST_PROGRESS))
    howto = (
        ":point_down: *In the thread:* claim a subscriber, reach out, then *Log outreach*. "
        "Or type `/care claim &lt;id&gt;`, `/care log &lt;id&gt; call reached`."
    )
    if channel_hint:
        howto += f"\nInbox emails: {channel_ref(channel_hint)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": howto}]})
    text = f"{title}: {total} tasks, {progress.claimed} claimed, {progress.done} done"
    return {"text": text, "blocks": blocks}


def _progress_text(progress: DigestProgress) -> str:
    total = max(progress.total, 1)
    filled = round(10 * (progress.claimed + progress.done) / total)
    bar = "▰" * filled + "▱" * (10 - filled)
    parts = [
        f"*{progress.claimed}* claimed",
        f"*{progress.done}* done",
        f"*{progress.open}* still open",
    ]
    if progress.expired:
        parts.append(f"*{progress.expired}* expired")
    return f"{bar}  " + "  ·  ".join(parts)


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def build_entry_message(
    entry: EntryLike | Sequence[EntryLike], today: date, tz: ZoneInfo, now: datetime
) -> dict[str, Any]:
    """One digest thread reply: an entry (or a few, divided), for posting or `chat.update`.

    Args:
        entry: one entry, or the entries that share the message when `per_message > 1`.
        today, tz, now: as for `build_entry_blocks`.

    Returns:
        {"text": fallback, "blocks": [...]} within 50 blocks (raises ValueError if the given
        entries cannot fit one message).
    """
    entries = list(entry) if isinstance(entry, Sequence) else [entry]
    message = _assemble([(one, build_entry_blocks(one, today, tz, now)) for one in entries])
    del message["task_ids"]
    if len(message["blocks"]) > MAX_BLOCKS_MESSAGE:
        raise ValueError(
            f"{len(entries)} entries need {len(message['blocks'])} blocks, over Slack's "
            f"{MAX_BLOCKS_MESSAGE}: post them in separate messages"
        )
    return message


def clip_text(text: str, limit: int = 3000) -> str:
    """Fallback texts stay short: a notification shows the first line anyway."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def entry_group(entry: EntryLike) -> str:
    """The thread group of an entry: "overdue" when carried over, else its kind."""
    return OVERDUE if getattr(entry, "overdue", False) else entry_kind(entry)


def build_group_header(group: str, count: int) -> dict[str, Any]:
    """The header message that opens a group in the digest thread: "Churn risk · 12"."""
    label = GROUP_LABELS.get(group) or kind_label(group)
    emoji = KIND_EMOJI.get(group, ":small_blue_diamond:")
    plain = truncate(one_line(label), 120)  # labels are escaped already
    return {
        "text": f"{plain}: {count}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"{plain} · {count}"}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"{emoji} {_group_hint(group)}"}],
            },
        ],
        "task_ids": [],
    }


def _group_hint(group: str) -> str:
    return {
        OVERDUE: "Listed before and still open: these come first.",
        "churn_risk": "Signals say these customers may leave. Reach out today.",
        "pre_renewal": "A renewal charge is coming: make sure they are happy before it.",
        "win_back": "Recently cancelled: a personal note can bring them back.",
        "onboarding": "New customers: a first hello and help getting started.",
        "anniversary": "A year (or more) with us: say thank you.",
    }.get(group, "Check in: how is it going?")


def build_digest_batches(
    entries: Sequence[EntryLike],
    today: date,
    tz: ZoneInfo,
    now: datetime,
    per_message: int = 1,
) -> list[dict[str, Any]]:
    """The digest's thread replies, in posting order.

    Entries are grouped (overdue first, then by kind, most urgent first); each group opens
    with a header message, then its entries, `per_message` entries per message (1 is
    recommended, see the module docstring). Every message is within Slack's limits.

    Args:
        entries: the day's digest entries, in any order (kept in order within a group).
        today, tz, now: as for `build_entry_blocks`.
        per_message: entries per message, at least 1.

    Returns:
        A list of {"text", "blocks", "task_ids"}: post `text` and `blocks`; record the
        message `ts` on each task in `task_ids` (empty for group headers).
    """
    per_message = max(1, int(per_message))
    groups: dict[str, list[EntryLike]] = {}
    for entry in entries:
        groups.setdefault(entry_group(entry), []).append(entry)
    order = sorted(groups, key=lambda g: (g != OVERDUE, kind_rank(g), g))
    messages: list[dict[str, Any]] = []
    for group in order:
        members = groups[group]
        messages.append(build_group_header(group, len(members)))
        batch: list[tuple[EntryLike, list[dict[str, Any]]]] = []
        used = 0
        for entry in members:
            blocks = build_entry_blocks(entry, today, tz, now)
            if batch and (len(batch) >= per_message or used + 1 + len(blocks) > MAX_BLOCKS_MESSAGE):
                messages.append(_assemble(batch))
                batch, used = [], 0
            used += len(blocks) + (1 if batch else 0)
            batch.append((entry, blocks))
        if batch:
            messages.append(_assemble(batch))
    return messages


def _assemble(batch: list[tuple[EntryLike, list[dict[str, Any]]]]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for i, (_, entry_blocks) in enumerate(batch):
        if i:
            blocks.append({"type": "divider"})
        blocks.extend(entry_blocks)
    text = "; ".join(entry_fallback(entry) for entry, _ in batch)
    return {
        "text": clip_text(text),
        "blocks": blocks,
        "task_ids": [t.id for entry, _ in batch for t in entry.tasks],
    }
