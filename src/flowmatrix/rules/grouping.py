"""Rules of one chain in first-use order, where flows one rule already serves share it.

Two flows of the plan often ask for the same packets (XM-APP-07 and XM-APP-08: the
Internet to the gateway's VIP on 443). Writing both would leave the second rule
shadowed, which audits rightly flag: the rule is written once and its comment carries
both flow ids ("XM-APP-07.1 XM-APP-08.1: ...").

The same holds when a later flow's ports are a subset of an earlier accept rule's with
the same family, ends and protocol (XM-DEV-02.2 on tcp/80,443 then XM-ADD-02.2 on
tcp/443, both from the web proxy to the Internet): the earlier rule takes all its
packets, so the flow joins that rule's comment instead of getting a rule of its own.
No rule gets wider: a flow only joins a rule that already accepts all of its packets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: Room for flow ids at the head of a comment; a longer list starts another rule.
IDS_LIMIT = 90

PortRanges = tuple[tuple[int, int], ...]
"""Inclusive destination port ranges, sorted and disjoint (``PortSet.ranges``)."""


@dataclass
class _Group:
    match: str
    ids: list[str]
    description: str
    ends: str | None = None
    """The match without its ports (family, ends, protocol, jump): None when unknown."""
    ports: PortRanges = ()

    def room_for(self, flow_id: str) -> bool:
        return len(" ".join([*self.ids, flow_id])) <= IDS_LIMIT


def covers(outer: PortRanges, inner: Sequence[tuple[int, int]]) -> bool:
    """Every port of ``inner`` is in ``outer`` (both sorted, disjoint ranges)."""
    return all(any(a <= low and high <= b for a, b in outer) for low, high in inner)


@dataclass
class MergedChain:
    """Lines of one chain: literal lines (comments) and rule groups, in order."""

    items: list[str | _Group] = field(default_factory=list)
    open_groups: dict[str, _Group] = field(default_factory=dict)
    by_ends: dict[str, list[_Group]] = field(default_factory=dict)

    def add_line(self, line: str) -> None:
        self.items.append(line)

    def add_rule(
        self,
        match: str,
        flow_id: str,
        description: str,
        *,
        ends: str | None = None,
        ports: PortRanges = (),
    ) -> None:
        """One rule's match for ``flow_id``. With ``ends`` (the match without its
        ports) and ``ports``, an earlier rule of the same ends whose ports cover these
        takes the flow instead (its comment gains the id)."""
        group = self.open_groups.get(match)
        if group is not None and flow_id in group.ids:
            return
        if group is not None and group.room_for(flow_id):
            group.ids.append(flow_id)
            return
        if ends is not None:
            for earlier in self.by_ends.get(ends, []):
                if covers(earlier.ports, ports) and (
                    flow_id in earlier.ids or earlier.room_for(flow_id)
                ):
                    if flow_id not in earlier.ids:
                        earlier.ids.append(flow_id)
                    return
        group = _Group(match, [flow_id], description, ends, ports)
        self.open_groups[match] = group
        if ends is not None:
            self.by_ends.setdefault(ends, []).append(group)
        self.items.append(group)

    @property
    def rules(self) -> int:
        return sum(isinstance(item, _Group) for item in self.items)

    def lines(self, render: Callable[[str, str], str]) -> list[str]:
        """Every line; ``render(match, comment_text)`` writes one rule."""
        found = []
        for item in self.items:
            if isinstance(item, str):
                found.append(item)
            else:
                found.append(render(item.match, f"{' '.join(item.ids)}: {item.description}"))
        return found
