"""Named objects (address sets, port sets) shared by the rules of one output.

The same content always gets the same name; two contents that would get the same name
are told apart by a counter, in order of first use, so names are deterministic.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from flowmatrix.portset import PortSet

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


def ports_key(ports: PortSet) -> str:
    """A short readable name part for a port list: ``80_443`` or ``5228_5230``."""
    return ports.text("_").replace("-", "_")
