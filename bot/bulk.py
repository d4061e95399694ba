"""Helpers for bulk passes over 100k records (imports, engine planning)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk pass.

    A bulk pass allocates some 100k objects while the store holds millions of live ones, so
    every full collection it triggers walks them all and finds nothing (none of it forms
    cycles). Pausing it makes planning at 100k subscribers about a third faster and a large
    import about a quarter faster.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
