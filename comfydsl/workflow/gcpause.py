"""Pausing the cyclic garbage collector around bulk work."""

from __future__ import annotations

import gc
from types import TracebackType


class gc_paused:  # noqa: N801 - used as a function: `with gc_paused():`
    """Pause the cyclic garbage collector for a block, then restore its state.

    Reading and checking a workflow allocate a great many small objects that are never
    part of a reference cycle; every full collection on the way walks all of them again,
    which makes large workflows cost more per node than small ones. Cycles made meanwhile
    are collected after the block; nested use is harmless. (A class rather than a generator
    context manager: it is entered once per linted text, and this costs a third as much.)
    """

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._was_enabled:
            gc.enable()
