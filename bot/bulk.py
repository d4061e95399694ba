"""Helpers for bulk passes over 100k records (imports, engine planning) and what they leave."""

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


def settle_heap() -> None:
    """Collect once, then move every object still alive out of the collector's sight.

    Called when the store is loaded (app start) and when the day's digest is planned (the
    engine's new tasks stay; the plan's 100k objects are garbage). Otherwise each full
    collection walks the store's millions of documents: at 100k subscribers 1 to 3 s with
    every thread stopped, in whichever thread allocated last (a claim's ack, a post).
    The store's documents form no cycles, so nothing frozen is kept that would be collected.
    """
    gc.collect()
    gc.freeze()
