"""Pausing the cyclic garbage collector around bulk work."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block, then restore its state.

    Reading and checking a workflow allocate a great many small objects that are never
    part of a reference cycle; every full collection on the way walks all of them again,
    which makes large workflows cost more per node than small ones. Cycles made meanwhile
    are collected after the block; nested use is harmless.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
