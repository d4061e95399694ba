"""Which conversation an email joins, and how its intents fold into that conversation.

`conversation_of` threads a reply onto the item it answers (by its Message-ID headers, else by
sender and subject within the team's thread window); `take_intents` folds one email's intents
and cancel request into its conversation. Duplicates are dropped before this, by Message-ID
(`bot.inbox.ingest`); how the post and its records are stored is `bot.inbox.delivery`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.inbox.cancel import CANCEL, DISMISSED, PENDING
from bot.inbox.context import TriageContext
from bot.inbox.models import TriageItem
from bot.inbox.parse import ParsedEmail
from bot.inbox.text import normalize_subject
from bot.repos.inbox import InboxRepo


def conversation_of(
    inbox: InboxRepo, parsed: ParsedEmail, now: datetime, window_days: int
) -> TriageItem | None:
    """The conversation an email answers: by In-Reply-To and References (a message of it, or
    its first email), else the same sender and subject within `window_days`; else None."""
    for message_id in parsed.thread_ids:
        record = inbox.message(message_id)
        item = inbox.item(record.item_id) if record else inbox.item_by_key(message_id)
        if item is not None:
            return item
    if not parsed.from_address:
        return None
    since = now - timedelta(days=window_days)
    return inbox.find_thread(parsed.from_address, normalize_subject(parsed.subject), since)


def take_intents(
    item: TriageItem, context: TriageContext, message_id: str, now: datetime, priority: list[str]
) -> None:
    """Fold one email's intents into its conversation: intents add up, in priority order (the
    first is `item.intent`); a new cancel request replaces a dismissed one, and a counted one
    a pending one. A dismissed cancel request stays out unless a later email asks again."""
    reading = context.reading
    names = set(item.intents or ([item.intent] if item.intent not in ("", "other") else []))
    names |= {h.name for h in reading.intents}
    if item.cancel == DISMISSED and not context.cancel:
        names.discard(CANCEL)
    rank = {name: i for i, name in enumerate(priority)}
    item.intents = sorted(names, key=lambda n: (rank.get(n, len(rank)), n))
    item.intent = item.intents[0] if item.intents else "other"
    item.triggers = {**item.triggers, **{h.name: h.trigger for h in reading.intents}}
    aside = {row[0]: row for row in item.set_aside}
    aside.update({h.name: [h.name, h.why, h.trigger] for h in reading.set_aside})
    item.set_aside = list(aside.values())
    hit = reading.hit(CANCEL)
    if (
        hit
        and context.cancel
        and (
            item.cancel in ("", DISMISSED) or (item.cancel == PENDING and context.cancel != PENDING)
        )
    ):
        item.cancel, item.cancel_confidence = context.cancel, hit.confidence
        item.cancel_message_id, item.cancel_by, item.cancel_at = message_id, "", now
