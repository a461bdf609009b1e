"""What the audit works out once the verdicts are known, shared between this process and
a forked copy of it (``forked.py``) where another processor is free.

Two kinds of work are left then, independent of each other: the ruleset's own findings
(accept rules wider than the flows they decided, accept rules no flow needs, dead rules,
conditions the tool does not evaluate) and, for every blocked flow port, its fixes and
their checks (``fixes.py``). This process describes the flows and then takes fixes; the
copy works out the findings and then takes fixes too: the fixes come in numbered shares
that whichever of the two is free takes (``forked.Shares``). Every result is the one
the same work gives when done here alone; what a copy failed to bring back is done here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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

    def find(self) -> Findings:
        ruleset = self.ruleset
        unused: list[RuleRef] = []
        for path in sorted(self.paths):
            unused += unused_accepts(
                ruleset, path, self.families, self.used, self.by_path.get(path, [])
            )
        wide = wide_rules(ruleset, self.served, self.interfaces, self.walker)
        return Findings(wide, unused, dead_rules(ruleset), unevaluated_conditions(ruleset))


@dataclass(frozen=True)
class FixWork:
    """The fixes of the blocked flow ports: ``blocked[i]`` is (the path, the blocked
    pieces) of the ``i``-th port to fix."""

    ruleset: Ruleset
    walker: CompiledWalker
    blocked: Sequence[tuple[Path, list[Blocked]]]

    @property
    def share_size(self) -> int:
        return max(SHARE, -(-len(self.blocked) // MAX_SHARES))

    def shares(self, between_processes: bool) -> Shares:
        return Shares(-(-len(self.blocked) // self.share_size), between_processes=between_processes)

    def take(self, shares: Shares) -> dict[int, list[Fix]]:
        """The fixes of every share not yet taken, as long as some are left, by port."""
        done: dict[int, list[Fix]] = {}
        size = self.share_size
        while (share := shares.take()) is not None:
            for index in range(share * size, min((share + 1) * size, len(self.blocked))):
                done[index] = self.fix(index)
        return done

    def fix(self, index: int) -> list[Fix]:
        path, blocked = self.blocked[index]
        return propose(self.ruleset, path, blocked, self.walker)


class Aftermath:
    """The findings and the fixes, started at once: the copy (where there is one) begins
    with the findings; ``fixes`` is this process's side, once it has described the flows."""

    def __init__(self, findings: RulesetWork, fixes: FixWork) -> None:
        self._fixes = fixes
        self._apart = can_fork()
        self._shares = fixes.shares(self._apart)
        shares = self._shares
        self._beside = Beside(lambda: (findings.find(), fixes.take(shares)), fork=self._apart)

    def results(self) -> tuple[Findings, list[list[Fix]]]:
        """The findings, and the fixes of each blocked port in order."""
        try:
            mine = self._fixes.take(self._shares)
            findings, theirs = self._beside.result()
        finally:
            self._beside.cancel()
            self._shares.close()
        done = {**mine, **theirs}
        # a copy that failed took shares it did not bring back: they are done here
        return findings, [
            done[index] if index in done else self._fixes.fix(index)
            for index in range(len(self._fixes.blocked))
        ]


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
