"""A flow's ports, kept as ranges: ``1-65535`` is one range, not 65,535 numbers.

A :class:`PortSet` reads as the sorted sequence of its ports (iteration, ``len``, ``in``,
indexing), so code that walks every port (a probe per port, a row per port) works as
with a tuple, while code that can work on ranges (rules, the plan's budget, displays)
uses :attr:`PortSet.ranges` and never expands them. It is immutable and hashable, and
equal only to another port set with the same ports.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import overload

from flowmatrix.i18n import _

PortRange = tuple[int, int]
"""Inclusive: ``(5228, 5230)`` is 5228, 5229 and 5230."""


class PortSet(Sequence[int]):
    """Distinct ports in ascending order, stored as disjoint, non-adjacent ranges."""

    __slots__ = ("_ends", "_hash", "_size", "ranges")

    ranges: tuple[PortRange, ...]
    """The ports as inclusive ranges, ascending, disjoint and never adjacent."""

    def __init__(self, ranges: Iterable[PortRange] = ()) -> None:
        merged: list[PortRange] = []
        size = 0
        for low, high in sorted(ranges):
            if low > high:
                raise ValueError(
                    _("port range {low}-{high} ends before it starts").format(low=low, high=high)
                )
            if merged and low <= merged[-1][1] + 1:
                last_low, last_high = merged[-1]
                if high > last_high:
                    merged[-1] = (last_low, high)
                    size += high - last_high
            else:
                merged.append((low, high))
                size += high - low + 1
        self.ranges = tuple(merged)
        self._size = size
        self._ends: list[int] | None = None
        """How many ports the ranges up to each one hold (indexing is a bisection);
        computed when first indexed."""
        self._hash: int | None = None

    @classmethod
    def of(cls, ports: Iterable[int]) -> PortSet:
        """The set of ``ports`` (any order, repeats allowed)."""
        values = sorted(set(ports))
        ranges: list[PortRange] = []
        for port in values:
            if ranges and port == ranges[-1][1] + 1:
                ranges[-1] = (ranges[-1][0], port)
            else:
                ranges.append((port, port))
        return cls._normalized(tuple(ranges), len(values))

    @classmethod
    def _normalized(cls, ranges: tuple[PortRange, ...], size: int) -> PortSet:
        """A port set of ranges already ascending, disjoint and not adjacent (the plan
        makes tens of thousands: no sort, no merge)."""
        made = cls.__new__(cls)
        made.ranges = ranges
        made._size = size
        made._ends = None
        made._hash = None
        return made

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[int]:
        for low, high in self.ranges:
            yield from range(low, high + 1)

    def __reversed__(self) -> Iterator[int]:
        for low, high in reversed(self.ranges):
            yield from range(high, low - 1, -1)

    def __contains__(self, port: object) -> bool:
        if not isinstance(port, int):
            return False
        at = bisect_right(self.ranges, (port, 65536)) - 1
        return at >= 0 and self.ranges[at][0] <= port <= self.ranges[at][1]

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[int, ...]: ...

    def __getitem__(self, index: int | slice) -> int | tuple[int, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError("port index out of range")
        ends = self._ends
        if ends is None:
            ends = self._ends = list(accumulate(high - low + 1 for low, high in self.ranges))
        at = bisect_right(ends, index)
        before = ends[at - 1] if at else 0
        return self.ranges[at][0] + index - before

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PortSet):
            return self.ranges == other.ranges
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.ranges)
        return self._hash

    def __bool__(self) -> bool:
        return self._size > 0

    def __repr__(self) -> str:
        return f"PortSet({self.text()!r})"

    def __reduce__(self) -> tuple[object, tuple[tuple[PortRange, ...], int]]:
        return _restore, (self.ranges, self._size)

    def intersection(self, other: PortSet) -> PortSet:
        """The ports in both sets, computed on ranges."""
        found: list[PortRange] = []
        for low, high in self.ranges:
            for other_low, other_high in other.ranges:
                start, end = max(low, other_low), min(high, other_high)
                if start <= end:
                    found.append((start, end))
        return PortSet(found)

    def difference(self, other: PortSet) -> PortSet:
        """The ports of this set that are not in ``other``, computed on ranges."""
        found: list[PortRange] = []
        for low, high in self.ranges:
            start = low
            for other_low, other_high in other.ranges:
                if other_high < start or other_low > high:
                    continue
                if other_low > start:
                    found.append((start, other_low - 1))
                start = max(start, other_high + 1)
            if start <= high:
                found.append((start, high))
        return PortSet(found)

    def text(self, separator: str = ", ") -> str:
        """``80, 443, 5228-5230``: what a person reads."""
        return separator.join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.ranges)


def _restore(ranges: tuple[PortRange, ...], size: int) -> PortSet:
    """A pickled port set read back (the plan cache): its ranges are already normal."""
    return PortSet._normalized(ranges, size)


def parse_port_range(text: str) -> PortRange:
    """``"5228-5230"`` -> (5228, 5230); ``"443"`` -> (443, 443). ValueError says why."""
    low_text, dash, high_text = text.strip().partition("-")
    try:
        low = int(low_text)
        high = int(high_text) if dash else low
    except ValueError:
        raise ValueError(
            _("{text!r} is not a port or a range of ports (LOW-HIGH)").format(text=text)
        ) from None
    for port in (low, high):
        if not 1 <= port <= 65535:
            raise ValueError(_("port {port} is outside 1-65535").format(port=port))
    if low > high:
        raise ValueError(
            _("port range {low}-{high} ends before it starts").format(low=low, high=high)
        )
    return low, high
