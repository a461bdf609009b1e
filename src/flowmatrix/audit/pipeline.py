"""A packet's way through the hooks: every base chain on its path, by priority.

Forwarded packets see prerouting, forward and postrouting; packets to the firewall
itself prerouting and input; packets it sends output and postrouting. An accept ends
one base chain only: the packet goes on to the next one. A drop anywhere is final.
NAT base chains see only the first packet of a connection.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from flowmatrix.audit.ir import BaseChain, Ruleset, reachable
from flowmatrix.audit.packet import Ctx, Outcome, Region
from flowmatrix.audit.walk import Walker

Path = Literal["forward", "input", "output"]
Verdict = Literal["accept", "drop", "reject", "queue", "unknown"]
HOOKS: dict[str, tuple[str, ...]] = {
    "forward": ("prerouting", "forward", "postrouting"),
    "input": ("prerouting", "input"),
    "output": ("output", "postrouting"),
}


class Decision(NamedTuple):
    """What one base chain did."""

    base: str
    """Chain key of the base chain."""
    end: str
    """accept, drop, reject, queue, unknown; ``policy-accept`` / ``policy-drop``."""
    outcome: Outcome


class PathResult(NamedTuple):
    """The fate of a region on its whole path."""

    verdict: Verdict
    decisions: tuple[Decision, ...]

    @property
    def assumptions(self) -> tuple[tuple[int, bool], ...]:
        decisions = self.decisions
        if len(decisions) == 1:  # most paths: one deciding chain
            return decisions[0].outcome.assumptions
        return tuple(a for d in decisions for a in d.outcome.assumptions)

    @property
    def decider(self) -> Decision | None:
        """The base chain decision that matters most: the final one if not accepted, else
        the first accept by a rule, else the last decision; None when no chain on the path
        can drop anything (nothing was walked)."""
        if not self.decisions:
            return None
        last = self.decisions[-1]
        if self.verdict != "accept":
            return last
        for decision in self.decisions:
            if decision.end == "accept" and decision.outcome.rule is not None:
                return decision
        return last


def base_chains(ruleset: Ruleset, path: Path, family: int) -> list[BaseChain]:
    """The base chains a packet on ``path`` walks, in order."""
    cache: dict[tuple[str, int], list[BaseChain]] = ruleset.__dict__.setdefault("_bases", {})
    found = cache.get((path, family))
    if found is None:
        hooks = HOOKS[path]
        chosen = [b for b in ruleset.bases if b.hook in hooks and family in b.families]
        found = sorted(chosen, key=lambda b: (hooks.index(b.hook), b.priority, b.order))
        cache[(path, family)] = found
    return found


def deciding_chains(ruleset: Ruleset, path: Path, family: int) -> list[BaseChain]:
    """The base chains that can change a packet's fate: a chain whose policy accepts and
    that can only accept, translate or log (a NAT chain, an empty chain) is left out."""
    cache: dict[tuple[str, int], list[BaseChain]] = ruleset.__dict__.setdefault("_deciding", {})
    found = cache.get((path, family))
    if found is None:
        found = [b for b in base_chains(ruleset, path, family) if not _harmless(ruleset, b)]
        cache[(path, family)] = found
    return found


def _harmless(ruleset: Ruleset, base: BaseChain) -> bool:
    if base.policy != "accept":
        return False
    for key in reachable(ruleset, base.chain):
        for rule in ruleset.chains[key].rules:
            if rule.action.kind not in _HARMLESS:
                return False
    return True


_HARMLESS = frozenset({"accept", "nat", "continue", "return", "jump", "goto"})


def evaluate_path(
    walker: Walker, path: Path, ctx: Ctx, region: Region
) -> list[tuple[Region, PathResult]]:
    """Every piece of ``region`` with its fate (pieces overlap where assumptions differ)."""
    bases = deciding_chains(walker.ruleset, path, ctx.family)
    last = len(bases)
    pending: list[tuple[int, Region, Ctx, tuple[Decision, ...]]] = [(0, region, ctx, ())]
    out: list[tuple[Region, PathResult]] = []
    while pending:
        index, part, pctx, decisions = pending.pop()
        while index < last and bases[index].kind == "nat" and pctx.state != "new":
            index += 1  # NAT chains see only the first packet of a connection
        if index == last:
            out.append((part, PathResult("accept", decisions)))
            continue
        base = bases[index]
        for piece, outcome in reversed(walker.run(base.chain, pctx, part)):
            qctx = pctx.untracked() if outcome.untracked and pctx.state != "untracked" else pctx
            end = outcome.end
            if end == "return":
                decision = Decision(base.chain, f"policy-{base.policy}", outcome)
                if base.policy == "accept":
                    pending.append((index + 1, piece, qctx, (*decisions, decision)))
                else:
                    out.append((piece, PathResult("drop", (*decisions, decision))))
            elif end == "accept":
                decision = Decision(base.chain, "accept", outcome)
                pending.append((index + 1, piece, qctx, (*decisions, decision)))
            else:
                decision = Decision(base.chain, end, outcome)
                out.append((piece, PathResult(end, (*decisions, decision))))
    return out
