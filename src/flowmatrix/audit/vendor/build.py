"""Assembling a vendor's policies into an IR ruleset: chains, the session table, defaults.

Every vendor firewall here is stateful: a packet of an accepted session passes, which is
the first rule of every chain a packet walks first (``session table``), so a reply is
never judged by the policies. The policies follow in their order; what the vendor does
when none matches (an implicit deny, a default rule, security levels) is an explicit
rule with its name, so that the verdict says which default decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowmatrix.audit.device import Device
from flowmatrix.audit.ir import (
    Action,
    ActionKind,
    BaseChain,
    Chain,
    Dialect,
    Match,
    Origin,
    Problem,
    Rule,
    Ruleset,
)
from flowmatrix.audit.vendor.policy import Policy, RuleMaker
from flowmatrix.audit.vendor.shared import redact
from flowmatrix.i18n import _

SESSION = frozenset({"established", "related"})


@dataclass
class Assembly:
    """The chains of one vendor ruleset, filled in order."""

    dialect: Dialect
    file: str
    table: str
    maker: RuleMaker = field(default_factory=RuleMaker)
    chains: dict[str, list[Rule]] = field(default_factory=dict)
    lines: dict[str, int | None] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)

    def chain(self, name: str, line: int | None = None) -> str:
        key = f"{self.table}/{name}"
        if key not in self.chains:
            self.chains[key] = []
            self.lines[key] = line
            self.positions[key] = 0
        return key

    def origin(self, key: str, line: int | None, text: str, name: str) -> Origin:
        """The origin of the next source rule of chain ``key``."""
        self.positions[key] += 1
        chain = key.split("/", 1)[1]
        return Origin(
            self.file, line, redact(text), self.table, chain, self.positions[key], None, name
        )

    def add(self, key: str, policy: Policy) -> list[Rule]:
        rules = self.maker.rules(policy)
        self.chains[key].extend(rules)
        return rules

    def add_rule(
        self,
        key: str,
        match: Match,
        kind: ActionKind,
        name: str,
        text: str,
        *,
        line: int | None = None,
        target: str | None = None,
    ) -> Rule:
        """One rule the vendor applies without it being written (or a jump between
        the assembly's own chains)."""
        origin = self.origin(key, line, text, name)
        rule = self.maker.rule(match, Action(kind, target, name), origin)
        self.chains[key].append(rule)
        return rule

    def session(self, key: str) -> Rule:
        return self.add_rule(
            key,
            Match(states=SESSION),
            "accept",
            "session table",
            _("(stateful: the packets of an accepted session pass)"),
        )

    def ruleset(
        self,
        bases: list[tuple[str, str, int, str]],
        families: frozenset[int],
        problems: list[Problem],
        notes: list[str],
        device: Device,
    ) -> Ruleset:
        """``bases``: (chain key, hook, priority, policy) of each base chain."""
        chains = {
            key: Chain(key, self.table, key.split("/", 1)[1], tuple(rules), self.lines[key])
            for key, rules in self.chains.items()
        }
        base_chains = tuple(
            BaseChain(key, hook, priority, "filter", policy, families, order)  # type: ignore[arg-type]
            for order, (key, hook, priority, policy) in enumerate(bases)
        )
        return Ruleset(
            self.dialect,
            self.file,
            chains,
            base_chains,
            families,
            tuple(problems),
            notes=tuple(dict.fromkeys(notes)),
            device=device,
        )
