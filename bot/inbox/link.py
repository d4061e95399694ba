"""Link an unknown sender to a subscriber: this email and all later mail from the address.

`link_sender` records the address -> subscriber link (bot.repos.links), puts the subscriber on
the triage item and files an audit entry, in one store transaction; a link that is already
there is not made (nor audited) again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.audit import SURFACE_MODAL
from bot.inbox.models import TriageItem
from bot.repos import Repos
from bot.roles import CareError


@dataclass(frozen=True)
class LinkResult:
    """The triage item as linked; `repeated` when it already was (nothing was written)."""

    item: TriageItem
    repeated: bool = False


def link_sender(
    repos: Repos, item_id: str, subscriber_id: str, user: str, now: datetime
) -> LinkResult:
    """Link the sender of triage item `item_id` to `subscriber_id`, once.

    Linking it again to the same subscriber (a modal submitted twice) writes nothing.

    Raises:
        CareError: the item or subscriber is unknown, or the email has no sender address.
    """
    with repos.store.transaction({"action": "triage_link", "item": item_id}):
        item = repos.inbox.item(item_id)
        if item is None:
            raise CareError(f"No inbox item {item_id}: it may have been dropped.")
        if not item.sender or "@" not in item.sender:
            raise CareError("This email has no sender address to link.")
        subscriber = repos.subscribers.get(subscriber_id)
        if subscriber is None:
            raise CareError("That subscriber is not in the store any more: search again.")
        if linked(repos, item, subscriber.id):  # the same submission again: nothing to do
            return LinkResult(item, repeated=True)
        repos.links.link(item.sender, subscriber.id, user, now)

        def attach(current: TriageItem) -> None:
            current.subscriber_id = subscriber.id

        item, _ = repos.inbox.mutate_item(item.id, attach)
        repos.audit.record(
            subscriber.id,
            now,
            user,
            "triage_link",
            SURFACE_MODAL,
            detail=f"linked {item.sender} (inbox item {item.id})",
        )
        return LinkResult(item)


def linked(repos: Repos, item: TriageItem, subscriber_id: str) -> bool:
    """Whether `item` and its sender's address are already `subscriber_id`'s."""
    return (
        item.subscriber_id == subscriber_id
        and repos.links.subscriber_id(item.sender) == subscriber_id
    )
