"""Each stored subscriber document's id, read without decoding the document.

`SubscriberRepo` finds a subscriber by the hash of their id (`bot.repos.hash_index`): `scan`
and `ids_of` give the hashes and doc ids it is built from, in one pass over the documents;
`holds_id` confirms a candidate document from its first bytes.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable

import msgspec

from bot.compact import Encoded
from bot.repos.hash_index import key_hash
from bot.repos.subscriber_index import PlanIndex, read_head, read_id

# id hashes and doc ids, for a `HashIndex`; and the ids, in the same order
IdArrays = tuple["array[int]", "array[int]", list[str]]


def scan(
    pairs: Iterable[tuple[int, Encoded]],
    index: PlanIndex | None,
    unreadable: Callable[[int, Encoded], object],
) -> tuple[array[int], array[int], list[str | None]]:
    """(id hashes, doc ids) of the readable documents of `pairs` ((doc id, bytes)) and each
    document's id (None: not readable, `unreadable` called with it), in one pass that also
    fills `index` (if any)."""
    hashes, doc_ids = array("q"), array("q")
    sids: list[str | None] = []
    for doc_id, raw in pairs:
        if index is None:
            sid = read_id(raw)[0]
        else:
            head, sid = read_head(raw)
        if type(sid) is not str:  # unreadable: left in the file, out of every view
            sids.append(None)
            unreadable(doc_id, raw)
            continue
        sids.append(sid)
        hashes.append(key_hash(sid))
        doc_ids.append(doc_id)
        if index is not None:
            index.add(sid, head)
    return hashes, doc_ids, sids


def ids_of(pairs: Iterable[tuple[int, Encoded]], sids: list[str | None]) -> IdArrays:
    """(id hashes, doc ids, ids) of the documents of `pairs` whose id `sids` knows (`scan`'s)."""
    hashes, doc_ids, held = array("q"), array("q"), []
    for (doc_id, _), sid in zip(pairs, sids, strict=True):
        if sid is not None:
            hashes.append(key_hash(sid))
            doc_ids.append(doc_id)
            held.append(sid)
    return hashes, doc_ids, held


def holds_id(raw: Encoded, sid: str) -> bool:
    """Whether a stored document's id is `sid`: from its first bytes when it starts with its
    id, as the store writes it (no decode); else read."""
    try:
        head = b'{"id":' + msgspec.json.encode(sid)
    except (UnicodeEncodeError, TypeError):
        return bool(read_id(raw)[0] == sid)
    view = memoryview(raw)
    if view[: len(head)] == head and view[len(head) : len(head) + 1] in (b",", b"}"):
        return True
    return bool(read_id(raw)[0] == sid)
