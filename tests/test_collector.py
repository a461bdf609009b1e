"""The collector paused, and aged on the way out: the objects made meanwhile skip the young
generations, reference cycles among them are still found by a full pass, and objects frozen
by another part of the program stay frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from flowmatrix.collector import collector_paused


class Node:
    """A small object that can be part of a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def _collector_running() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def _in_oldest_generation(item: object) -> bool:
    return any(found is item for found in gc.get_objects(generation=2))


def test_a_pause_ends_as_the_collector_was() -> None:
    with collector_paused(aged=True):
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with collector_paused(aged=True):
        pass
    assert not gc.isenabled()


def test_aged_objects_skip_the_young_generations_and_their_cycles_are_still_found() -> None:
    with collector_paused(aged=True):
        kept = Node()
        cycle = Node()
        cycle.other = Node()
        cycle.other.other = cycle
        gone = weakref.ref(cycle)
        del cycle
    assert gc.get_count()[0] < 10  # nothing young left for the next pass to walk
    assert _in_oldest_generation(kept)
    assert gone() is not None  # unwalked so far
    gc.collect()
    assert gone() is None


def test_a_plain_pause_leaves_its_objects_young() -> None:
    with collector_paused():
        kept = Node()
    assert not _in_oldest_generation(kept)


def test_objects_frozen_elsewhere_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused(aged=True):
            node = Node()
        # none frozen meanwhile (frozen objects freed meanwhile make the count drop)
        assert gc.get_freeze_count() <= frozen
        assert any(found is node for found in gc.get_objects())  # not frozen itself
    finally:
        gc.unfreeze()
