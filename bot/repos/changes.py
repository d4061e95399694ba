"""Change reports: which customers a repository's write touched, for views kept in memory."""

from __future__ import annotations

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
