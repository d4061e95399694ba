"""Subscribers by email address: exact, and by the base of a +tagged address.

An index that holds no str (`bot.repos.hash_index`): the hash of a normalised address -> doc
ids, and the hash of a +tagged address's base -> doc ids. An address without a +tag is its
own base: it is found in the first alone (most addresses; a second entry for each would cost
memory for nothing). A hash names candidates: each is confirmed against its document.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable

from bot.compact import Encoded, EncodedDocs
from bot.repos.hash_index import HashIndex, key_hash
from bot.repos.subscriber_index import read_id


def normalize_email(email: str) -> str:
    return email.strip().lower()


def base_email(email: str) -> str:
    """`name+tag@example.com` -> `name@example.com` (lower-cased)."""
    return base_of(normalize_email(email))


def base_of(email: str) -> str:
    """`base_email` of an address already normalised."""
    if "+" not in email:
        return email
    local, at, domain = email.partition("@")
    if not at:
        return email
    return f"{local.split('+', 1)[0]}@{domain}"


class Addresses:
    """Doc ids by address and by +tag base, built from every document, kept up to date by
    writes (`file`)."""

    def __init__(self, pairs: Iterable[tuple[int, Encoded]]) -> None:
        exact = (array("q"), array("q"))
        bases = (array("q"), array("q"))
        for doc_id, raw in pairs:
            sid, email = read_id(raw)
            if type(sid) is str and type(email) is str and email:
                email = normalize_email(email)
                exact[0].append(key_hash(email))
                exact[1].append(doc_id)
                base = base_of(email)
                if base != email:
                    bases[0].append(key_hash(base))
                    bases[1].append(doc_id)
        self.exact, self.bases = HashIndex(*exact), HashIndex(*bases)

    def file(self, email: str, doc_id: int) -> None:
        """File `doc_id` under `email` (normalised) and, if tagged, under its base."""
        self.exact.add(key_hash(email), doc_id)
        base = base_of(email)
        if base != email:
            self.bases.add(key_hash(base), doc_id)

    def holder(
        self,
        encoded: EncodedDocs,
        address: str,
        tagged: bool,
        live: Callable[[str], int | None],
    ) -> tuple[int, str] | None:
        """(doc id, id) of the first stored subscriber whose address is `address` (`tagged`:
        whose +tagged address has `address` as its base); `live` gives the doc id holding
        an id now (an id stored twice: its last)."""
        index = self.bases if tagged else self.exact
        for doc_id in index.get(key_hash(address)):
            raw = encoded.get(str(doc_id))
            if raw is None:
                continue
            sid, email = read_id(raw)
            if type(sid) is not str or type(email) is not str:
                continue
            email = normalize_email(email)
            base = base_of(email)
            held = email if not tagged else base if base != email else None
            if held == address and live(sid) == doc_id:
                return doc_id, sid
        return None

    def first_by_base(
        self, encoded: EncodedDocs, base: str, live: Callable[[str], int | None]
    ) -> str | None:
        """The first stored subscriber whose address, without its +tag, is `base`."""
        found = [h for h in (self.holder(encoded, base, t, live) for t in (True, False)) if h]
        return min(found)[1] if found else None
