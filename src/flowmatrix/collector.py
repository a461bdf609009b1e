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
def collector_paused(*, aged: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector meanwhile (as it was, after).

    Once it runs again, its next pass walks every object made meanwhile that is still
    alive: ``aged`` moves them to its oldest generation on the way out, unwalked, where
    only a full pass looks at them again. For a command that made them to answer, and
    ends once it has (``flowmatrix audit``): the few reference cycles among them, if any,
    are found by that full pass, should one come. Objects another part of the program
    froze (``gc.freeze``) stay as they are: the pause then ends the plain way.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if aged and gc.get_freeze_count() == 0:
            gc.freeze()  # every tracked object to the permanent generation
            gc.unfreeze()  # and back, to the oldest one, with no pass over them
        if was_enabled:
            gc.enable()
