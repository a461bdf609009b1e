"""Rules of one chain in first-use order, where flows with the same match share a rule.

Two flows of the plan often ask for the same packets (XM-APP-07 and XM-APP-08: the
Internet to the gateway's VIP on 443). Writing both would leave the second rule
shadowed, which audits rightly flag: the rule is written once and its comment carries
both flow ids ("XM-APP-07.1 XM-APP-08.1: ...").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: Room for flow ids at the head of a comment; a longer list starts another rule.
IDS_LIMIT = 90


@dataclass
class _Group:
    match: str
    ids: list[str]
    description: str


@dataclass
class MergedChain:
    """Lines of one chain: literal lines (comments) and rule groups, in order."""

    items: list[str | _Group] = field(default_factory=list)
    open_groups: dict[str, _Group] = field(default_factory=dict)

    def add_line(self, line: str) -> None:
        self.items.append(line)

    def add_rule(self, match: str, flow_id: str, description: str) -> None:
        group = self.open_groups.get(match)
        if group is not None and flow_id in group.ids:
            return
        if group is not None and len(" ".join([*group.ids, flow_id])) <= IDS_LIMIT:
            group.ids.append(flow_id)
            return
        group = _Group(match, [flow_id], description)
        self.open_groups[match] = group
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
