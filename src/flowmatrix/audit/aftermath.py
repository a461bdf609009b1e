"""What the audit works out once the verdicts are known, shared between this process and
a forked copy of it (``forked.py``) where another processor is free.

Two kinds of work are left then, independent of each other: the ruleset's own findings
(accept rules wider than the flows they decided, accept rules no flow needs, dead rules,
conditions the tool does not evaluate) and, for every blocked flow port, its fixes and
their checks (``fixes.py``). They are numbered units, the findings first (least
privilege, the largest, leads), then the fixes by shares of a few ports, taken by
whichever of the two processes is free (``forked.Shares``): the copy from the start,
this process once it has described the flows. Every result is the one the same work
gives when done here alone; what a copy failed to bring back is done here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import cast

from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.fixes import Blocked, propose
from flowmatrix.audit.ipassmt import InterfaceMap
from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.packet import Ctx, Region
from flowmatrix.audit.pipeline import Path
from flowmatrix.audit.privilege import Served, WideRules, unused_accepts, wide_rules
from flowmatrix.audit.result import DeadRule, Fix, RuleRef, Unevaluated
from flowmatrix.audit.shadow import dead_rules
from flowmatrix.forked import MAX_SHARES, Beside, Shares, can_fork

SHARE = 16
"""Blocked flow ports per share of the fixes: small enough for the two processes to end
together, large enough that taking a share costs nothing next to its work."""


@dataclass(frozen=True)
class Findings:
    """The ruleset's own findings."""

    wide: WideRules
    unused: list[RuleRef]
    dead: list[DeadRule]
    unevaluated: list[Unevaluated]


@dataclass(frozen=True)
class RulesetWork:
    """What the ruleset's own findings are made from. Its walker is its own (see
    ``CompiledWalker.sibling``): the fixes, walked meanwhile, change nothing of them."""

    ruleset: Ruleset
    paths: set[Path]
    families: set[int]
    used: set[int]
    by_path: dict[Path, list[tuple[Ctx, Region]]]
    served: dict[tuple[int, int], Served]
    interfaces: InterfaceMap | None
    walker: CompiledWalker

    def wide(self) -> WideRules:
        return wide_rules(self.ruleset, self.served, self.interfaces, self.walker)

    def unused(self) -> list[RuleRef]:
        found: list[RuleRef] = []
        for path in sorted(self.paths):
            found += unused_accepts(
                self.ruleset, path, self.families, self.used, self.by_path.get(path, [])
            )
        return found

    def dead(self) -> list[DeadRule]:
        return dead_rules(self.ruleset)

    def unevaluated(self) -> list[Unevaluated]:
        return unevaluated_conditions(self.ruleset)


@dataclass(frozen=True)
class FixWork:
    """The fixes of the blocked flow ports: ``blocked[i]`` is (the path, the blocked
    pieces) of the ``i``-th port to fix, in shares of ``size`` ports."""

    ruleset: Ruleset
    walker: CompiledWalker
    blocked: Sequence[tuple[Path, list[Blocked]]]
    size: int = SHARE

    @property
    def shares(self) -> int:
        return -(-len(self.blocked) // self.size)

    def share(self, number: int) -> list[list[Fix]]:
        """The fixes of each port of share ``number``."""
        last = min((number + 1) * self.size, len(self.blocked))
        return [self.fix(index) for index in range(number * self.size, last)]

    def fix(self, index: int) -> list[Fix]:
        path, blocked = self.blocked[index]
        return propose(self.ruleset, path, blocked, self.walker)


class Aftermath:
    """The findings and the fixes as numbered units of work, started at once: the copy
    (where there is one) takes units from the first, the largest (least privilege); this
    process takes the units left once it has described the flows (``results``)."""

    FINDINGS = 4
    """The first units: wide rules, unused rules, dead rules, unevaluated conditions."""

    def __init__(self, findings: RulesetWork, fixes: FixWork) -> None:
        if fixes.shares + self.FINDINGS > MAX_SHARES:  # bigger shares, as many as fit
            room = MAX_SHARES - self.FINDINGS
            fixes = replace(fixes, size=-(-len(fixes.blocked) // room))
        self._fixes = fixes
        self._units: list[Callable[[], object]] = [
            findings.wide,
            findings.unused,
            findings.dead,
            findings.unevaluated,
        ]
        self._units += [partial(fixes.share, number) for number in range(fixes.shares)]
        apart = can_fork()
        self._shares = Shares(len(self._units), between_processes=apart)
        self._beside = Beside(partial(self._take, self._shares), fork=apart)

    def _take(self, shares: Shares) -> dict[int, object]:
        """The result of every unit not yet taken, as long as some are left."""
        done: dict[int, object] = {}
        while (unit := shares.take()) is not None:
            done[unit] = self._units[unit]()
        return done

    def results(self) -> tuple[Findings, list[list[Fix]]]:
        """The findings, and the fixes of each blocked port in order."""
        try:
            done = self._take(self._shares)
            done.update(self._beside.result())
        finally:
            self._beside.cancel()
            self._shares.close()
        # a copy that failed took units it did not bring back: they are done here
        found = [done[n] if n in done else unit() for n, unit in enumerate(self._units)]
        wide, unused, dead, unevaluated = found[: self.FINDINGS]
        fixes = [fix for share in found[self.FINDINGS :] for fix in cast(list[list[Fix]], share)]
        return Findings(
            cast(WideRules, wide),
            cast(list[RuleRef], unused),
            cast(list[DeadRule], dead),
            cast(list[Unevaluated], unevaluated),
        ), fixes


def unevaluated_conditions(ruleset: Ruleset) -> list[Unevaluated]:
    """Conditions the tool does not evaluate, grouped by kind (``-m recent``, ``ct mark``)."""
    grouped: dict[str, dict[tuple[str, int | None, int], RuleRef]] = {}
    for rule in ruleset.rules:
        for text in rule.match.opaque:
            kind = _kind(text)
            origin = rule.origin
            grouped.setdefault(kind, {}).setdefault(
                (origin.chain, origin.line, origin.position), RuleRef.of(rule)
            )
    return [Unevaluated(kind, tuple(refs.values())) for kind, refs in sorted(grouped.items())]


def _kind(text: str) -> str:
    words = text.replace("! ", "").split()
    if len(words) >= 2 and words[0] == "-m":
        return f"-m {words[1]}"
    return " ".join(words[:2]) if words else text
