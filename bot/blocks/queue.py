"""`/care queue [kind]`: what is due beyond today's digest, best first, with a Claim button each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.blocks import ids
from bot.blocks.entry import EntryLike
from bot.blocks.home import entry_row
from bot.blocks.text import clip, escape, one_line

MAX_QUEUE_ROWS = 20  # an ephemeral message holds 50 blocks


def build_queue(
    entries: Sequence[EntryLike],
    total: int,
    tasks: int,
    today: date,
    kind: str = "",
) -> dict[str, Any]:
    """The queue's first page.

    Args:
        entries: the best of the queue, in priority order (at most `MAX_QUEUE_ROWS` shown).
        total: customers in the queue (of `kind`).
        tasks: their tasks.
        today: the team's date.
        kind: the kind asked for, as typed ("" for all); escaped.
    """
    what = f" ({clip(one_line(escape(kind)), 40)})" if kind else ""
    if not total:
        text = f"Nothing waits in the queue{what}: everything due is in today's digest. :tada:"
        return {"text": text, "blocks": [_section(text)]}
    head = (
        f"*{total} customer{'s' if total != 1 else ''}* ({tasks} task{'s' if tasks != 1 else ''})"
        f" wait in the queue{what}: due, beyond what today's digest holds. Best first: overdue, "
        "then risk, value at stake, longest since reached."
    )
    blocks: list[dict[str, Any]] = [_section(head)]
    shown = list(entries[:MAX_QUEUE_ROWS])
    blocks += [entry_row(e, today, "Claim", ids.ACTION_CLAIM, "primary") for e in shown]
    foot = "Claim here or with `/care claim ID`: the customer's tasks come with it."
    if total > len(shown):
        foot = f"and {total - len(shown)} more. " + foot
    foot += " Unhandled tasks expire like any other and are counted in `/care stats`."
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": foot}]})
    return {"text": f"{total} customers wait in the queue", "blocks": blocks}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
