"""One bad record never breaks a view for everyone: a list view makes each record's row alone.

The repositories skip a document that does not read as its model (`bot.repos.loading`). A
document can read and still hold what a view cannot show: a hand edit or a half-written
snapshot leaves a time in year 1 (it has no place in New York's day), attachments that are
not (name, size) pairs, notes that are not a list. A view that lists stored records makes each
row through `each_record`: a record whose row raises is left out of the view, logged with its
traceback (`logger.exception`; past `LOGGED` failures in one view, one line counts the rest),
and its id is named in `Guarded.failed`, for the view to say so
(`bot.blocks.text.unshown_note`). The record stays in its file as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.mapping import record_id

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
LOGGED = 3  # failures of one view logged with their traceback


@dataclass
class Guarded(Generic[R]):
    """The rows made, in the records' order, and the ids of the records that failed."""

    rows: list[R] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def each_record(
    records: Iterable[T],
    make: Callable[[T], R],
    what: str,
    id_of: Callable[[T], str] = record_id,
) -> Guarded[R]:
    """`make` applied to each record; one that raises is logged, named, and left out.

    Args:
        records: the stored records a view lists.
        make: turns one record into what the view shows of it (a row, a ranked view).
        what: the records in words, for the log ("inbox item in /care triage").
        id_of: the id a message names a record by (`bot.mapping.record_id` by default).
    """
    done = Guarded[R]()
    for record in records:
        try:
            done.rows.append(make(record))
        except Exception:
            rid = _id(id_of, record)
            done.failed.append(rid)
            if len(done.failed) <= LOGGED:
                log.exception(
                    "Could not show %s %r; it is left out of the view and kept as stored: "
                    "repair or remove it in the data directory",
                    what,
                    rid,
                )
    if len(done.failed) > LOGGED:
        log.error(
            "Could not show %d more %s records (ids %s): the same repair applies",
            len(done.failed) - LOGGED,
            what,
            ", ".join(repr(rid) for rid in done.failed[LOGGED : LOGGED + 20]),
        )
    return done


def _id(id_of: Callable[[T], str], record: T) -> str:
    """The record's id, cut short (an id may be a 100k-character header), or "?"."""
    try:
        rid = str(id_of(record))
    except Exception:  # noqa: BLE001 - a record with no readable id is still left out
        return "?"
    return rid if len(rid) <= 80 else f"{rid[:79]}…"
