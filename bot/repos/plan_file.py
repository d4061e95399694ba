"""The subscribers' plan index kept on disk between processes (`plan_index.bin`).

Building `PlanIndex` decodes every subscriber document: about 2.1 s of the 8 s of CPU a
`digest --preview` at 100k subscribers takes when the engine did not run the day before (a
first day after an import, a day the bot was down), 20 s at a million. A process that may
write (an import, the bot) saves the index it built beside the subscribers file; the next
process that plans (a preview, the bot after a restart) restores it instead of building it.

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
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec

from bot.compact import Encoded, EncodedDocs
from bot.repos.subscriber_index import PlanIndex, read_head
from bot.store import Store, atomic_write

log = logging.getLogger(__name__)

NAME = "plan_index.bin"
FORMAT = 1  # changes whenever what `PlanIndex` holds or how a document is indexed changes
MOST_CHANGED = 4  # more than 1 in 4 documents changed: the whole build is as cheap
_DIGEST = 16


class _Saved(msgspec.Struct, array_like=True):
    """The file: per document (in doc id order) its id, digest and subscriber id (None: none
    readable); the index's tables with subscribers as positions in that list."""

    format: int
    doc_ids: list[int]
    digests: bytes
    sids: list[str | None]
    repeats: bool  # an id held by two documents (hand-edited)
    flags: dict[int, int]
    values: dict[int, float]
    unsure: list[int]
    by_day: dict[str, list[int]]
    by_charge: dict[str, dict[float, list[int]]]
    by_month_day: dict[str, list[int]]
    entries: int


_decoder = msgspec.msgpack.Decoder(_Saved)
_encoder = msgspec.msgpack.Encoder()


def digest(raw: Encoded) -> bytes:
    """The digest a document is saved under."""
    return hashlib.blake2b(raw, digest_size=_DIGEST).digest()


def save(path: Path, index: PlanIndex, docs: Iterable[tuple[int, Encoded, str | None]]) -> bool:
    """Save `index`, built from `docs` ((doc id, bytes, subscriber id or None), in doc id
    order) as they are now (the caller holds the store lock). Returns whether it was written
    (a failure only loses the next process's shortcut)."""
    doc_ids, digests, sids = [], [], []
    for doc_id, raw, sid in docs:
        doc_ids.append(doc_id)
        digests.append(digest(raw))
        sids.append(sid)
    at = {sid: n for n, sid in enumerate(sids) if sid is not None}
    saved = _Saved(
        format=FORMAT,
        doc_ids=doc_ids,
        digests=b"".join(digests),
        sids=sids,
        repeats=len(at) != sum(sid is not None for sid in sids),
        flags={at[sid]: bits for sid, bits in index.flags.items() if sid in at},
        values={at[sid]: value for sid, value in index.values.items() if sid in at},
        unsure=[at[sid] for sid in index.unsure if sid in at],
        by_day={day: _places(sids_, at) for day, sids_ in index.by_day.items()},
        by_charge={
            day: {months: _places(sids_, at) for months, sids_ in by_months.items()}
            for day, by_months in index.by_charge.items()
        },
        by_month_day={md: _places(sids_, at) for md, sids_ in index.by_month_day.items()},
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


def _places(sids: list[str], at: dict[str, int]) -> list[int]:
    return [at[sid] for sid in sids if sid in at]


Restored = tuple[PlanIndex, list[str | None], int]


def restore(
    path: Path,
    docs: list[tuple[int, Encoded]],
    unreadable: Callable[[int, Encoded], object],
) -> Restored | None:
    """The plan index of `docs` ((doc id, bytes) in doc id order) from the saved file.

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
    n = len(saved.doc_ids)
    if saved.format != FORMAT or len(saved.sids) != n or len(saved.digests) != n * _DIGEST:
        return None
    places = {doc_id: at for at, doc_id in enumerate(saved.doc_ids)}
    if len(places) != n or len(docs) < n:
        return None
    sids: list[str | None] = []
    fresh: list[tuple[int, Encoded]] = []
    seen = 0
    for doc_id, raw in docs:
        at = places.get(doc_id)
        if at is not None:
            seen += 1
            if saved.digests[at * _DIGEST : (at + 1) * _DIGEST] == digest(raw):
                sids.append(saved.sids[at])
                continue
        sids.append(None)
        fresh.append((len(sids) - 1, raw))
        if len(fresh) > len(docs) // MOST_CHANGED + 1:
            return None
    if seen != n:
        return None  # a saved document is gone
    heads = []
    for pos, raw in fresh:
        head, sid = read_head(raw)
        sid = sid if type(sid) is str else None
        at = places.get(docs[pos][0])
        if at is not None and saved.sids[at] != sid:
            return None  # a document now holding another id (or none)
        sids[pos] = sid
        heads.append((sid, head))
    held = [sid for sid in sids if sid is not None]
    if fresh and (saved.repeats or len(set(held)) != len(held)):
        return None  # an id held twice: which of its documents is last decides
    index = _index_of(saved)
    for sid, head in heads:
        if sid is not None:
            index.add(sid, head)
    for (doc_id, raw), sid in zip(docs, sids, strict=True):
        if sid is None:
            unreadable(doc_id, raw)
    return index, sids, len(fresh)


def _index_of(saved: _Saved) -> PlanIndex:
    sids = saved.sids

    def named(places: list[int]) -> list[str]:
        return [sids[at] for at in places]  # type: ignore[misc]

    index = PlanIndex()
    index.flags = {sids[at]: bits for at, bits in saved.flags.items()}  # type: ignore[misc]
    index.values = {sids[at]: value for at, value in saved.values.items()}  # type: ignore[misc]
    index.unsure = {sids[at] for at in saved.unsure}  # type: ignore[misc]
    index.by_day = {day: named(places) for day, places in saved.by_day.items()}
    index.by_charge = {
        day: {months: named(places) for months, places in by_months.items()}
        for day, by_months in saved.by_charge.items()
    }
    index.by_month_day = {md: named(places) for md, places in saved.by_month_day.items()}
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
    restored = None if path is None else restore(path, list(encoded.pairs()), unreadable)
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
