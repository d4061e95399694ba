"""Reading stored documents into models: a document that cannot be read is skipped and logged.

A record that cannot be read (hand-edited, or written by a bug) must not break a view for
everyone: readers skip it, and the log names the file, the TinyDB doc id and the record id
once per process, so the operator can repair or remove it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from tinydb.table import Table

from bot.mapping import InvalidRecord
from bot.store import raw_docs

log = logging.getLogger(__name__)

M = TypeVar("M")
_reported: set[tuple[int, str, str]] = set()


def where(table: Table | None) -> str:
    """The file a table lives in, for messages ("in memory" for MemoryStorage)."""
    path = getattr(table.storage, "path", None) if table is not None else None
    return str(path) if path is not None else "in memory"


def load(
    cls: Any,
    doc: Mapping[str, Any],
    table: Table | None = None,
    doc_id: Any = None,
    *,
    among: Iterable[Table] = (),
) -> Any:
    """`cls.from_doc(doc)`, or None (and an error in the log) if the document is unreadable.

    Args:
        cls: the model.
        doc: the stored document.
        table, doc_id: where it is stored, if the caller knows.
        among: tables to search for `doc` when the caller does not know where it is.
    """
    try:
        return cls.from_doc(doc)
    except InvalidRecord as exc:
        if table is None:
            table, doc_id = _locate(doc, among)
        report(exc, table, doc_id)
        return None


def load_all(
    cls: type[M], docs: Iterable[Mapping[str, Any]], among: Iterable[Table] = ()
) -> list[M]:
    """The readable records among `docs`, in order; unreadable ones are skipped and logged."""
    tables = list(among)
    loaded = (load(cls, doc, among=tables) for doc in docs)
    return [record for record in loaded if record is not None]


def _locate(doc: Mapping[str, Any], tables: Iterable[Table]) -> tuple[Table | None, Any]:
    for table in tables:
        for doc_id, stored in raw_docs(table).items():
            if stored is doc or stored == doc:
                return table, doc_id
    return None, None


def report(exc: InvalidRecord, table: Table | None, doc_id: Any) -> None:
    """Log an unreadable document once per process (views read it again and again)."""
    key = (id(table.storage) if table is not None else 0, str(doc_id), str(exc))
    if key in _reported:
        return
    if len(_reported) < 10_000:
        _reported.add(key)
    log.error(
        "Skipping a stored %s that cannot be read (file %s, doc id %s, record %r): %s",
        exc.model,
        where(table),
        doc_id if doc_id is not None else "?",
        exc.record_id,
        exc,
    )
