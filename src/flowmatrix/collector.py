"""The cyclic garbage collector, paused while many small objects without cycles are built.

Reading a large input (a plan, a ruleset, an ns.conf) makes hundreds of thousands of
small objects and no reference cycles; the full collections their allocations trigger
would walk all of them, again and again, and cost more than the work itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector meanwhile (as it was, after)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
