"""Sender addresses linked by hand to a subscriber (an unknown address on a triage email).

One document per address (sharded by address): which subscriber it belongs to, who linked it
and when. The inbox consults it after the subscribers' own addresses, so later mail from the
address matches the same customer; a re-import never loses it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.mapping import Model, UTCDateTime
from bot.repos.subscribers import normalize_email
from bot.store import Store, copy_doc, raw_docs, rewrite

LINKS = "address_links"


class AddressLink(Model):
    id: str  # the normalised address
    subscriber_id: str
    by: str  # Slack user id
    at: UTCDateTime


class AddressLinkRepo:
    """Address -> subscriber links; each change is one write under the store lock."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _find(self, address: str) -> tuple[int, dict[str, Any]] | None:
        for doc_id, doc in raw_docs(self._store.shard_table(LINKS, address)).items():
            if doc.get("id") == address:
                return int(doc_id), doc
        return None

    def get(self, address: str) -> AddressLink | None:
        address = normalize_email(address)
        with self._store.lock:
            found = self._find(address)
            return AddressLink.from_doc(copy_doc(found[1])) if found else None

    def subscriber_id(self, address: str) -> str | None:
        link = self.get(address) if address else None
        return link.subscriber_id if link else None

    def link(self, address: str, subscriber_id: str, by: str, at: datetime) -> AddressLink:
        """Link `address` to `subscriber_id` (replacing an earlier link of the address)."""
        link = AddressLink(id=normalize_email(address), subscriber_id=subscriber_id, by=by, at=at)
        doc = link.to_doc()
        with self._store.lock:
            self._store.check_writable()
            found = self._find(link.id)

            def write(docs: dict[int, dict[str, Any]]) -> None:
                docs[found[0] if found else max(docs, default=0) + 1] = doc

            rewrite(self._store.shard_table(LINKS, link.id), write)
        return link
