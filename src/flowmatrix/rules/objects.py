"""Named objects (address sets, port sets) shared by the rules of one output.

The same content always gets the same name; two contents that would get the same name
are told apart by a counter, in order of first use, so names are deterministic.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass
class ObjectNames(Generic[T]):
    """Names for contents of type ``T``, and the contents in order of first use."""

    by_content: dict[tuple[str, T], str] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    order: list[tuple[str, T]] = field(default_factory=list)

    def name(self, base: str, content: T) -> str:
        key = (base, content)
        found = self.by_content.get(key)
        if found is not None:
            return found
        candidate, number = base, 1
        while candidate in self.used:
            number += 1
            candidate = f"{base}_{number}"
        self.by_content[key] = candidate
        self.used.add(candidate)
        self.order.append((candidate, content))
        return candidate

    def items(self) -> list[tuple[str, T]]:
        return list(self.order)


def port_ranges(ports: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted ports as inclusive ranges: (80, 443, 5228, 5229, 5230) -> 80, 443, 5228-5230."""
    ranges: list[tuple[int, int]] = []
    for port in sorted(set(ports)):
        if ranges and port == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], port)
        else:
            ranges.append((port, port))
    return ranges


def ports_key(ports: Sequence[int]) -> str:
    """A short readable name part for a port list: ``80_443`` or ``5228_5230``."""
    parts = [f"{a}" if a == b else f"{a}_{b}" for a, b in port_ranges(ports)]
    return "_".join(parts)
