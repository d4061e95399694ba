"""Change reports: which customers a repository's write touched, for views kept in memory."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

Listener = Callable[[Iterable[str] | None], None]


class ChangeListeners:
    """Listeners called after each write with the ids of the customers whose documents
    changed, or with None when anything may have (a transaction was undone).

    A listener runs under the store's lock: it must be quick and must not read the store
    (note what changed; read it later).
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def __call__(self, subscriber_ids: Iterable[str] | None) -> None:
        for listener in self._listeners:
            listener(subscriber_ids)


class Pending:
    """What a view kept in memory has yet to read again: the ids reported since it last
    took them, or None when anything may have changed (read everything).

    `note` is a `Listener` (quick, under the store's lock); `take` hands over what is pending
    and starts a new, empty set. Starts as None: the first reader reads everything.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # held only to swap the set: never while reading
        self._ids: set[str] | None = None

    def note(self, ids: Iterable[str] | None) -> None:
        with self._lock:
            if ids is None:
                self._ids = None
            elif self._ids is not None:
                self._ids.update(ids)

    def take(self) -> set[str] | None:
        with self._lock:
            ids, self._ids = self._ids, set()
        return ids
