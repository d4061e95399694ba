"""An index from str keys to doc ids that holds no str: two sorted arrays of ints.

A dict of a million subscriber ids (or emails) to doc ids costs some 150 MB: a str object, an
int object and a dict entry for each. `HashIndex` keeps the keys' hashes and the doc ids in two
parallel `array`s sorted by hash (16 bytes an entry) and finds a key by bisection. A hash names
candidates, not the answer: the caller confirms each against the stored document (which holds
the key), so a collision or an entry left behind by a change costs one more check, never a
wrong answer. Entries added after the build go to a small dict, merged into the arrays once it
grows: adding a million keys one batch at a time stays O(n log n).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence

_MERGE_AT = 1 << 16


def key_hash(key: str) -> int:
    """The hash the index files `key` under (stable within a process)."""
    return hash(key)


class HashIndex:
    """key hash -> doc ids (several keys may share a hash; one key may have several ids).

    Entries of one hash keep the order they were filed in (sorting is stable).
    """

    __slots__ = ("_hashes", "_ids", "_extra", "_extra_n")

    def __init__(self, hashes: Sequence[int] = (), ids: Sequence[int] = ()) -> None:
        """Index `ids[i]` under `hashes[i]` (the build: no tuple or str per entry)."""
        self._hashes = array("q")
        self._ids = array("q")
        self._extra: dict[int, list[int]] = {}
        self._extra_n = 0
        self._sorted(hashes, ids)

    def _sorted(self, hashes: Sequence[int], ids: Sequence[int]) -> None:
        order = sorted(range(len(hashes)), key=hashes.__getitem__)
        self._hashes = array("q", [hashes[i] for i in order])
        self._ids = array("q", [ids[i] for i in order])

    def __len__(self) -> int:
        """Entries held (stale ones included)."""
        return len(self._hashes) + self._extra_n

    def add(self, h: int, doc_id: int) -> None:
        """File `doc_id` under the hash `h` (an entry already there is not added twice)."""
        if doc_id in self.get(h):
            return
        self._extra.setdefault(h, []).append(doc_id)
        self._extra_n += 1
        if self._extra_n >= max(_MERGE_AT, len(self._hashes) // 4):
            self._merge()

    def _merge(self) -> None:
        hashes, ids = self._hashes, self._ids
        for h, doc_ids in self._extra.items():
            for doc_id in doc_ids:
                hashes.append(h)
                ids.append(doc_id)
        self._extra, self._extra_n = {}, 0
        self._sorted(hashes, ids)

    def get(self, h: int) -> list[int]:
        """The doc ids filed under `h`, first filed first (the build files in doc id order)."""
        hashes = self._hashes
        at = bisect_left(hashes, h)
        end = bisect_right(hashes, h, at)
        found = list(self._ids[at:end]) if end > at else []
        extra = self._extra.get(h)
        if extra:
            found.extend(doc_id for doc_id in extra if doc_id not in found)
        return found

    def last(self, h: int) -> int | None:
        """The doc id filed last under `h` (None if none): `get(h)[-1]` without the list."""
        extra = self._extra.get(h)
        if extra:
            return extra[-1]
        at = bisect_right(self._hashes, h) - 1
        return self._ids[at] if at >= 0 and self._hashes[at] == h else None

    def shared(self) -> Iterator[list[int]]:
        """The doc ids of every hash held by more than one entry of the arrays."""
        hashes, at = self._hashes, 1
        while at < len(hashes):
            if hashes[at] != hashes[at - 1]:
                at += 1
                continue
            h = hashes[at]
            first = bisect_left(hashes, h)
            end = at
            while end < len(hashes) and hashes[end] == h:
                end += 1
            yield list(self._ids[first:end])
            at = end + 1
