"""The daily digest: the parent message and its thread replies.

Layout in Slack:

- the parent message (`build_digest_parent`): date, counts per kind, progress (claimed, done,
  still open; `chat.update` it as the day goes) and what to do;
- in its thread, the entries grouped by kind (in the order given, the planner's digest order),
  a few entries per message; the first message of each kind opens with the kind's header.

An entry is one customer with all of its due tasks. A message holds up to `per_message`
entries of one kind (`[digest] tasks_per_message`, default 5). When one of them is claimed,
the whole message is re-rendered with `build_entry_message(entries, ..., header_kind=...)`
from the store and `chat.update`d (`bot.blocks.render.DigestRenderer` does this for the
publisher). Up to 7 entries get the full layout; up to 12 a compact one (who, why and risk in
one section); more cannot fit Slack's 50 blocks and are refused with a clear error.
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
)
from bot.blocks.limits import MAX_BLOCKS_MESSAGE
from bot.blocks.text import channel_ref, one_line, truncate, unshown_note
from bot.guard import Guarded, each_record

PARENT_GROUPS = ("churn_risk", "pre_renewal", "win_back", "onboarding", "checkins", "anniversary")
OVERDUE = "overdue"  # the key of the overdue count in `counts`
CARRIED = "carried"  # the key of the count carried over from earlier digests
QUEUE_KEYS = ("queued", "queued_entries", "limit")  # the queue beyond the day's bound
DEFERRED = "deferred"  # customers whose lifecycle touch waits: reached in the last quiet days
TECH_SENT, TECH_FAILED = "tech_sent", "tech_failed"  # emailed by the bot (bot/techtouch.py)
NOT_KINDS = (OVERDUE, CARRIED, DEFERRED, *QUEUE_KEYS, TECH_SENT, TECH_FAILED)  # counts, no kind


@dataclass(frozen=True)
class DigestProgress:
    """How far the team got through today's digest."""

    claimed: int = 0
    done: int = 0
    open: int = 0
    expired: int = 0
    moved: int = 0  # listed by a later digest now

    @property
    def total(self) -> int:
        return self.claimed + self.done + self.open + self.expired + self.moved


def build_digest_parent(
    day: date,
    counts: Mapping[str, int],
    progress: DigestProgress | Mapping[str, int],
    channel_hint: str | None = None,
) -> dict[str, Any]:
    """The digest's parent message, posted once and `chat.update`d as tasks move.

    Args:
        day: the digest's local date.
        counts: tasks per task kind ("churn_risk", "checkin_30", ...) plus "overdue": how many
            of those tasks are overdue (as `DigestPlan.counts`), and "carried": how many were
            listed by an earlier digest (the compact list at the top of the thread).
        progress: claimed / done / still open (/ expired / moved on to a later digest) for
            the tasks the day's thread shows.
        channel_hint: optional pointer shown under the instructions, e.g. the triage
            channel id ("C0123") or a short note (escaped).

    Returns:
        {"text": fallback, "blocks": [...]}
    """
    if isinstance(progress, Mapping):
        progress = DigestProgress(**{k: int(v) for k, v in progress.items()})
    grouped: dict[str, int] = {}
    for kind, n in counts.items():
        if n and kind not in NOT_KINDS:
            grouped[group_of(kind)] = grouped.get(group_of(kind), 0) + int(n)
    total = digest_total(counts)
    overdue = int(counts.get(OVERDUE, 0))
    title = f"Proactive care · {day:%A %b} {day.day}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
    ]
    queued = int(counts.get("queued", 0))
    deferred = _deferred_text(int(counts.get(DEFERRED, 0)))
    automated = tech_touch_line(counts)
    if total == 0 and not queued:
        text = "Nothing due today. :sunny:"
        text += "".join(f"\n{line}" for line in (automated, deferred) if line)
        blocks.append(_section(text, ids.BLOCK_DIGEST_COUNTS))
        return {"text": f"{title}: nothing due today", "blocks": blocks}
    lines = [f"*{total} proactive touch{'es' if total != 1 else ''} due today*"]
    order = [g for g in PARENT_GROUPS if g in grouped] + sorted(
        g for g in grouped if g not in PARENT_GROUPS
    )
    for group in order:
        emoji = KIND_EMOJI.get(group, ":small_blue_diamond:")
        lines.append(f"{emoji} {group_label(group)}: *{grouped[group]}*")
    carried = int(counts.get(CARRIED, 0))
    if carried:
        lines.append(
            f":arrow_right: Of these, still open from earlier days: *{carried}* "
            "(one line each, at the top of the thread)"
        )
    if overdue:
        lines.append(f"{KIND_EMOJI[OVERDUE]} Of these, overdue: *{overdue}*")
    if queued:
        lines.append(_queue_line(counts))
    if automated:
        lines.append(automated)
    if deferred:
        lines.append(deferred)
    blocks.append(_section("\n".join(lines), ids.BLOCK_DIGEST_COUNTS))
    blocks.append(_section(_progress_text(progress), ids.BLOCK_DIGEST_PROGRESS))
    howto = (
        ":point_down: *In the thread:* claim a subscriber, reach out, then *Log outreach*. "
        "Or type `/care claim &lt;id&gt;`, `/care log &lt;id&gt; call reached`."
    )
    if channel_hint:
        howto += f"\nInbox emails: {channel_ref(channel_hint)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": howto}]})
    text = f"{title}: {total} task{'s' if total != 1 else ''}, {progress.claimed} claimed, {progress.done} done"
    return {"text": text, "blocks": blocks}


def _queue_line(counts: Mapping[str, int]) -> str:
    """How many more are due beyond the day's bound, and what happens to them."""
    queued, people = int(counts.get("queued", 0)), int(counts.get("queued_entries", 0))
    limit = int(counts.get("limit", 0))
    sized = f" beyond the team's {limit} customers a day" if limit else ""
    return (
        f":inbox_tray: *{queued} more due* ({people} customer{'s' if people != 1 else ''}) "
        f"wait in the queue{sized}: `/care queue` and the Home tab list them best first; "
        "claim them there. Unhandled ones expire on schedule and are counted in `/care stats`."
    )


def tech_touch_line(counts: Mapping[str, int]) -> str:
    """The day's line for the emails the bot sent itself (tech touch), and its failures."""
    sent, failed = int(counts.get(TECH_SENT, 0)), int(counts.get(TECH_FAILED, 0))
    if TECH_SENT not in counts and not failed:
        return ""  # tech touch is off
    line = f":robot_face: Tech touch: *{sent}* sent by email automatically"
    if failed:
        line += f"; *{failed}* not sent, listed here for a person instead (the bot's log says why)"
    return line + " (the customer's reply comes to the inbox)"


def digest_total(counts: Mapping[str, int]) -> int:
    """The tasks a digest lists ("N proactive touches due today"): its counts per kind summed,
    without the "overdue" and "carried" figures, which count some of the same tasks again.
    `/care stats` says the same number for today's digest."""
    return sum(int(n) for kind, n in counts.items() if n and kind not in NOT_KINDS)


def _deferred_text(n: int) -> str:
    """The line for lifecycle touches held back because the customer was reached recently."""
    if n <= 0:
        return ""
    who = "customer" if n == 1 else "customers"
    return (
        f":speech_balloon: Deferred: *{n}* {who} reached in the last few days "
        "(their lifecycle touch waits, so nobody writes to them twice)"
    )


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
    if progress.moved:
        parts.append(f"*{progress.moved}* moved on to a later digest")
    return f"{bar}  " + "  ·  ".join(parts)


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def build_kind_header(kind: str) -> list[dict[str, Any]]:
    """The blocks that open a kind's first message in the thread: a header and a hint."""
    label = GROUP_LABELS.get(kind) or kind_label(kind)
    emoji = KIND_EMOJI.get(kind, ":small_blue_diamond:")
    plain = truncate(one_line(label), 120)  # labels are escaped already
    return [
        {"type": "header", "text": {"type": "plain_text", "text": plain}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{emoji} {_hint(kind)}"}]},
    ]


def _hint(kind: str) -> str:
    return {
        "churn_risk": "Signals say these customers may leave. Reach out today.",
        "pre_renewal": "A renewal charge is coming: make sure they are happy before it.",
        "win_back": "Recently cancelled: a personal note can bring them back.",
        "onboarding": "New customers: a first hello and help getting started.",
        "anniversary": "A year (or more) with us: say thank you.",
    }.get(kind, "Check in: how is it going?")


def build_entry_message(
    entry: EntryLike | Sequence[EntryLike],
    today: date,
    tz: ZoneInfo,
    now: datetime,
    header_kind: str | None = None,
) -> dict[str, Any]:
    """One digest thread reply: one or a few entries, for posting or for `chat.update`.

    Args:
        entry: one entry, or the entries that share the message.
        today, tz, now: as for `build_entry_blocks`.
        header_kind: the kind whose header opens the message (its first message in the thread).

    Returns:
        {"text": fallback, "blocks": [...]}, within 50 blocks.

    Raises:
        ValueError: when the entries cannot fit one message even in the compact layout
            (more than 12); post them in separate messages.
    """
    entries = list(entry) if isinstance(entry, Sequence) else [entry]
    header = build_kind_header(header_kind) if header_kind else []
    message = _assemble(header, _rendered(entries, today, tz, now))
    if len(message["blocks"]) > MAX_BLOCKS_MESSAGE:
        message = _assemble(header, _rendered(entries, today, tz, now, compact=True))
    if len(message["blocks"]) > MAX_BLOCKS_MESSAGE:
        raise ValueError(
            f"{len(entries)} entries need {len(message['blocks'])} blocks, over Slack's "
            f"{MAX_BLOCKS_MESSAGE}: post them in separate messages (tasks_per_message <= 12)"
        )
    return message


# An entry as its message shows it: its blocks and its notification text.
Rendered = tuple[list[dict[str, Any]], str]


def _rendered(
    entries: list[EntryLike], today: date, tz: ZoneInfo, now: datetime, compact: bool = False
) -> Guarded[Rendered]:
    """Each entry rendered alone (`bot.guard`): one that cannot be shown is named by its task
    ids (`/care claim ID` still works), never the end of its message for the others."""
    return each_record(
        entries,
        lambda e: (build_entry_blocks(e, today, tz, now, compact=compact), entry_fallback(e)),
        "digest entry (task ids)",
        id_of=lambda e: " ".join(t.id for t in e.tasks) or e.subscriber.id,
    )


def _assemble(header: list[dict[str, Any]], rendered: Guarded[Rendered]) -> dict[str, Any]:
    blocks = list(header)
    for i, (entry_blocks, _) in enumerate(rendered.rows):
        if i:
            blocks.append({"type": "divider"})
        blocks.extend(entry_blocks)
    text = "; ".join(fallback for _, fallback in rendered.rows)
    if rendered.failed:
        blocks.append(_section(unshown_note(rendered.failed, "entry", "entries")))
        text = text or "Entries that could not be shown"
    elif not rendered.rows:
        blocks.append(_section("_Nothing left to show here: these tasks are gone._"))
        text = "No tasks left in this message"
    return {"text": clip_text(text), "blocks": blocks}


def clip_text(text: str, limit: int = 3000) -> str:
    """Fallback texts stay short: a notification shows the first line anyway."""
    return truncate(text, limit)


def build_digest_batches(
    entries: Sequence[EntryLike],
    today: date,
    tz: ZoneInfo,
    now: datetime,
    per_message: int = 5,
) -> list[dict[str, Any]]:
    """The digest's thread replies, in posting order.

    Entries are grouped by kind, kinds in the order they first appear (the planner's digest
    order), entries in the given order within a kind; `per_message` entries per message, fewer
    when Slack's 50 blocks would not hold them; the first message of a kind has its header.

    Args:
        entries: the day's digest entries.
        today, tz, now: as for `build_entry_blocks`.
        per_message: at most this many entries per message (at least 1).

    Returns:
        A list of {"text", "blocks", "task_ids", "kind", "first_of_kind"}: post `text` and
        `blocks`; record the message `ts` on each task in `task_ids`; re-render a message later
        with `build_entry_message(its entries, ..., header_kind=kind if first_of_kind else None)`.
    """
    per_message = max(1, int(per_message))
    groups: dict[str, list[EntryLike]] = {}
    for entry in entries:
        groups.setdefault(entry_kind(entry), []).append(entry)
    messages: list[dict[str, Any]] = []
    for kind, members in groups.items():
        first = True
        batch: list[EntryLike] = []
        used = 2  # the kind's header
        for entry in members:
            size = len(build_entry_blocks(entry, today, tz, now))
            if batch and (len(batch) >= per_message or used + 1 + size > MAX_BLOCKS_MESSAGE):
                messages.append(_batch(batch, kind, first, today, tz, now))
                first, batch, used = False, [], 0
            used += size + (1 if batch else 0)
            batch.append(entry)
        if batch:
            messages.append(_batch(batch, kind, first, today, tz, now))
    return messages


def _batch(
    batch: list[EntryLike], kind: str, first: bool, today: date, tz: ZoneInfo, now: datetime
) -> dict[str, Any]:
    message = build_entry_message(batch, today, tz, now, header_kind=kind if first else None)
    message["task_ids"] = [t.id for entry in batch for t in entry.tasks]
    message["kind"] = kind
    message["first_of_kind"] = first
    return message
