"""The subscribers' plan index kept on disk between processes (`plan_index.bin`).

Building `PlanIndex` decodes every subscriber document: about 2.1 s of the 8 s of CPU a
`digest --preview` at 100k subscribers takes when the engine did not run the day before (a
first day after an import, a day the bot was down), 20 s at a million. A process that may
write (an import, the bot) saves the index it built beside the subscribers file; the next
process that plans (a preview, the bot after a restart) restores it instead of building it.
The bot saves it again after its daily engine run if customers were written since
(`SubscriberRepo.resave_plan_index`), so the file does not age through a long-running bot.

The file names each document by its doc id and a digest of its bytes (BLAKE2b, 16 bytes).
Restoring takes the saved entries of every document whose bytes are still the same, and
indexes the others afresh (`PlanIndex.add`, as a write does: entries are only added, and a
superset is still right). The whole build is done instead when the file cannot be trusted to
describe these documents: unreadable, cut short, of another format, a saved document gone or
holding another id, an id held by two documents, or more than a quarter of them changed (a
file from another data directory). It is written atomically (`bot.store.atomic_write`): a
process killed while writing it leaves the old file or none.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any

import msgspec

from bot.compact import Encoded, EncodedDocs
from bot.repos.subscriber_index import PlanIndex, Positions, read_head
from bot.store import Store, atomic_write

log = logging.getLogger(__name__)

NAME = "plan_index.bin"
FORMAT = 2  # changes whenever what `PlanIndex` holds or how a document is indexed changes
MOST_CHANGED = 4  # more than 1 in 4 documents changed: the whole build is as cheap
_DIGEST = 16


class _Saved(msgspec.Struct, array_like=True):
    """The file: per document (in doc id order) its doc id, digest, subscriber id (None: none
    readable), risk-bound flags and value; the index's tables with subscribers as positions
    in that order. Numbers are packed arrays (`array`, in `byteorder`): a million
    subscribers' index restores without a Python int for each entry."""

    format: int
    byteorder: str
    doc_ids: bytes  # array "q"
    digests: bytes  # _DIGEST bytes each
    sids: list[str | None]
    repeats: bool  # an id held by two documents (hand-edited)
    flags: bytes  # array "b": `PlanIndex.flags`, -1 for none
    valued: bytes  # one byte each: 1 if `values` holds the document's value
    values: bytes  # array "d"
    unsure: bytes  # array "i" of positions
    by_day: dict[str, bytes]
    by_charge: dict[str, dict[float, bytes]]
    by_month_day: dict[str, bytes]
    entries: int


_decoder = msgspec.msgpack.Decoder(_Saved)
_encoder = msgspec.msgpack.Encoder()


def digest(raw: Encoded) -> bytes:
    """The digest a document is saved under."""
    return hashlib.blake2b(raw, digest_size=_DIGEST).digest()


_hasher = partial(hashlib.blake2b, digest_size=_DIGEST)  # `digest` before its `.digest()`


def save(path: Path, index: PlanIndex, docs: Iterable[tuple[int, Encoded, str | None]]) -> bool:
    """Save `index`, built from `docs` ((doc id, bytes, subscriber id or None), in doc id
    order) as they are now (the caller holds the store lock). Returns whether it was written
    (a failure only loses the next process's shortcut)."""
    doc_ids, digests, sids = array("q"), bytearray(), []
    for doc_id, raw, sid in docs:
        doc_ids.append(doc_id)
        digests += digest(raw)
        sids.append(sid)
    at = {sid: n for n, sid in enumerate(sids) if sid is not None}
    flags, valued, values = array("b", bytes(len(sids))), bytearray(len(sids)), array("d")
    for n, sid in enumerate(sids):
        flags[n] = index.flags.get(sid, -1) if sid is not None else -1
        value = index.values.get(sid) if sid is not None else None
        valued[n] = value is not None
        values.append(0.0 if value is None else value)

    def places(held: Iterable[str]) -> bytes:
        return array("i", (at[sid] for sid in held if sid in at)).tobytes()

    by_day, by_charge, by_month_day = index.tables()
    saved = _Saved(
        format=FORMAT,
        byteorder=sys.byteorder,
        doc_ids=doc_ids.tobytes(),
        digests=bytes(digests),
        sids=sids,
        repeats=len(at) != sum(sid is not None for sid in sids),
        flags=flags.tobytes(),
        valued=bytes(valued),
        values=values.tobytes(),
        unsure=places(index.unsure),
        by_day={day: places(held) for day, held in by_day.items()},
        by_charge={
            day: {months: places(held) for months, held in by_months.items()}
            for day, by_months in by_charge.items()
        },
        by_month_day={md: places(held) for md, held in by_month_day.items()},
        entries=index.entries,
    )
    for left in path.parent.glob(f".{path.name}.*.tmp"):  # by a process killed saving it
        left.unlink(missing_ok=True)
    try:
        atomic_write(path, _encoder.encode(saved), durable=False)
    except OSError as exc:
        log.warning("Could not save the subscribers' plan index: %s", exc)
        return False
    return True


Restored = tuple[PlanIndex, list[str | None], int]


def restore(
    path: Path,
    docs: Callable[[], Iterator[tuple[int, Encoded]]],
    unreadable: Callable[[int, Encoded], object],
) -> Restored | None:
    """The plan index of the documents `docs()` gives ((doc id, bytes) in doc id order, each
    call from the first) from the saved file.

    Args:
        path: the saved file.
        docs: the documents as the store holds them now.
        unreadable: called with each document holding no readable id (it logs it, as the
            whole build does).

    Returns:
        (the index, each document's subscriber id or None, how many documents were indexed
        afresh), or None when the file cannot be trusted (build the index in full).
    """
    try:
        saved = _decoder.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if saved.format != FORMAT or saved.byteorder != sys.byteorder:
        return None
    try:
        doc_ids = _array("q", saved.doc_ids)
    except ValueError:
        return None
    n = len(doc_ids)
    if len(saved.sids) != n or len(saved.digests) != n * _DIGEST:
        return None
    if _unchanged(docs, doc_ids, saved.digests):  # the usual case: as saved, one pass in C
        sids: list[str | None] = list(saved.sids)
        fresh: list[tuple[int, int, Encoded]] = []
    else:
        sids, fresh = [], []
        if not _compared(docs, doc_ids, saved, sids, fresh):
            return None
    heads = []
    for pos, was, raw in fresh:
        head, sid = read_head(raw)
        sid = sid if type(sid) is str else None
        if was >= 0 and saved.sids[was] != sid:
            return None  # a document now holding another id (or none)
        sids[pos] = sid
        heads.append((sid, head))
    held = [sid for sid in sids if sid is not None]
    if fresh and (saved.repeats or len(set(held)) != len(held)):
        return None  # an id held twice: which of its documents is last decides
    del held
    try:
        index = _index_of(saved)
    except (ValueError, IndexError, TypeError):
        return None  # positions out of range: not a file this code wrote
    for sid, head in heads:
        if sid is not None:
            index.add(sid, head)
    for (doc_id, raw), sid in zip(docs(), sids, strict=True):
        if sid is None:
            unreadable(doc_id, raw)
    return index, sids, len(fresh)


def _unchanged(
    docs: Callable[[], Iterator[tuple[int, Encoded]]], doc_ids: array[int], digests: bytes
) -> bool:
    """Whether the documents are the saved ones, every byte: the same doc ids in the same
    order, each with its saved digest (computed in one pass without a Python loop)."""
    if array("q", map(itemgetter(0), docs())) != doc_ids:
        return False
    hashed = map(methodcaller("digest"), map(_hasher, map(itemgetter(1), docs())))
    return b"".join(hashed) == digests


def _compared(
    docs: Callable[[], Iterator[tuple[int, Encoded]]],
    doc_ids: array[int],
    saved: _Saved,
    sids: list[str | None],
    fresh: list[tuple[int, int, Encoded]],
) -> bool:
    """Fill `sids` (the saved id of each document whose bytes are the saved ones, else None)
    and `fresh` ((position, saved position or -1, bytes) of the others, to index afresh).
    False when the file cannot be trusted: a saved document gone, or most changed."""
    n = len(doc_ids)
    at, count = 0, 0
    for doc_id, raw in docs():
        count += 1
        if at < n and doc_ids[at] < doc_id:
            return False  # a saved document is gone (or the file is not in doc id order)
        if at < n and doc_ids[at] == doc_id:
            same = saved.digests[at * _DIGEST : (at + 1) * _DIGEST] == digest(raw)
            sids.append(saved.sids[at] if same else None)
            if not same:
                fresh.append((len(sids) - 1, at, raw))
            at += 1
        else:
            sids.append(None)
            fresh.append((len(sids) - 1, -1, raw))
        if len(fresh) > count // MOST_CHANGED + 1 and len(fresh) > n // MOST_CHANGED + 1:
            return False
    return at == n and len(fresh) <= count // MOST_CHANGED + 1  # else: gone, or most changed


def _array(code: str, data: bytes) -> array[Any]:
    found = array(code)
    found.frombytes(data)
    return found


def _index_of(saved: _Saved) -> PlanIndex:
    sids = saved.sids
    count = len(sids)
    nowhere = {at for at, sid in enumerate(sids) if sid is None}  # unreadable when saved

    def positions(data: bytes) -> Positions:
        """The table entry, named when first read: its positions checked now, all in C."""
        at = _array("i", data)
        if at and (min(at) < 0 or max(at) >= count or (nowhere and not nowhere.isdisjoint(at))):
            raise ValueError("a position of no subscriber")
        return Positions(at, sids)

    def named(data: bytes) -> list[str]:
        return positions(data).names()

    flags, valued = _array("b", saved.flags), saved.valued
    values = _array("d", saved.values)
    if not len(flags) == len(valued) == len(values) == len(sids):
        raise ValueError("tables of another length")
    index = PlanIndex()
    index.flags = {sid: f for sid, f in zip(sids, flags, strict=True) if sid is not None and f >= 0}
    index.values = {
        sid: v for sid, v, has in zip(sids, values, valued, strict=True) if sid is not None and has
    }
    index.unsure = set(named(saved.unsure))
    index.by_day = {day: positions(data) for day, data in saved.by_day.items()}
    index.by_charge = {
        day: {months: positions(data) for months, data in by_months.items()}
        for day, by_months in saved.by_charge.items()
    }
    index.by_month_day = {md: positions(data) for md, data in saved.by_month_day.items()}
    index.entries = saved.entries
    return index


RESAVE_AT = 1000  # documents indexed afresh past a restored index: it is saved again


def restore_held(
    store: Store, encoded: EncodedDocs, unreadable: Callable[[int, Encoded], object]
) -> tuple[PlanIndex, list[str | None], bool] | None:
    """`restore` for the subscribers `store` holds (`encoded`); saved again when many
    documents had to be indexed afresh (and the store may write).

    Returns:
        (the index, each document's subscriber id or None, whether the file now describes
        the documents as they are), or None: build the index in full.
    """
    path = path_of(store)
    restored = None if path is None else restore(path, encoded.pairs, unreadable)
    if restored is None:
        return None
    index, sids, fresh = restored
    current = fresh == 0 or (fresh > RESAVE_AT and save_held(store, encoded, sids, index))
    return index, sids, current


def save_held(store: Store, encoded: EncodedDocs, sids: list[str | None], index: PlanIndex) -> bool:
    """`save` the plan index of the subscribers `store` holds (`encoded`, each document's id
    in `sids`), unless the store is read-only (a preview changes nothing). Whether it was."""
    path = path_of(store)
    if path is None or store.read_only:
        return False
    placed = zip(encoded.pairs(), sids, strict=True)
    return save(path, index, ((doc_id, raw, sid) for (doc_id, raw), sid in placed))


def path_of(store: Store) -> Path | None:
    """Where `store` keeps its plan index (None: a store in memory keeps none)."""
    return None if store.data_dir is None else store.data_dir / NAME
