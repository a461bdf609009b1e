"""Evaluating a ruleset that differs from a compiled one by a few inserted rules.

A fix is checked by evaluating the ruleset again with the fix in place (``fixes.py``).
Compiling a chain of thousands of rules again for each fix would cost more than the
whole audit; the ruleset with the fix differs only by the rules inserted into some
chains. ``DeltaWalker`` walks it with the compiled engine of the original ruleset:
chains that neither changed nor reach a changed chain are the compiled engine's (its
memo included); in the others, the next rule that may match is the nearer of the
compiled chain's next candidate and of the inserted rules. Same walk (``walk.py``),
same results as a fresh ``CompiledWalker`` of the new ruleset, by construction and by
test (``tests/audit/test_audit_delta.py``).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import Chain, Ruleset, reachable
from flowmatrix.audit.packet import Ctx, Region, applicability, intersects
from flowmatrix.audit.walk import Hit, Result, Walker


class DeltaWalker(Walker):
    """The walk of ``ruleset``: the ruleset of ``base`` with rules inserted into chains."""

    def __init__(self, base: CompiledWalker, ruleset: Ruleset) -> None:
        super().__init__(ruleset)
        self.base = base
        known = base.ruleset
        recorded = ruleset.inserted_since(known)
        self.inserted: dict[str, list[int]] = recorded if recorded is not None else {}
        """Changed chain -> the new positions of its inserted rules, in order."""
        if recorded is None:  # not derived by insertions: compare the chains
            for key, chain in ruleset.chains.items():
                before = known.chains.get(key)
                if before is not None and before.rules is not chain.rules:
                    self.inserted[key] = [
                        index
                        for index, rule in enumerate(chain.rules)
                        if not _known(known, rule.uid)
                    ]
        reached_by = _reached_by(known)
        self.dirty = {
            key
            for changed in self.inserted
            for key in (changed, *reached_by.get(changed, ()))
            if key in ruleset.chains
        }
        """Chains whose walk can meet an inserted rule (inserted rules never jump)."""

    def _old_at(self, key: str, pos: int) -> int:
        """The old position of the first old rule at or after new position ``pos``."""
        return pos - bisect_left(self.inserted[key], pos)

    def _new_of_old(self, key: str, old_index: int) -> int:
        shift = 0
        for position in self.inserted[key]:
            if position <= old_index + shift:
                shift += 1
        return old_index + shift

    def run(self, chain_key: str, ctx: Ctx, region: Region, depth: int = 0) -> Result:
        if chain_key not in self.dirty:
            return self.base.run(chain_key, ctx, region, depth)
        return super().run(chain_key, ctx, region, depth)

    def cursor(self, chain: Chain, ctx: Ctx, region: Region) -> Any:
        return self.base.cursor(self.base.ruleset.chains[chain.key], ctx, region)

    def next_hit(self, chain: Chain, ctx: Ctx, region: Region, cursor: Any, pos: int) -> Hit | None:
        old_chain = self.base.ruleset.chains[chain.key]
        inserted = self.inserted.get(chain.key)
        if inserted is None:
            return self.base.next_hit(old_chain, ctx, region, cursor, pos)
        found = None
        old_pos = self._old_at(chain.key, pos)
        if old_pos < len(old_chain.rules):
            hit = self.base.next_hit(old_chain, ctx, region, cursor, old_pos)
            if hit is not None:
                found = Hit(self._new_of_old(chain.key, hit.at), hit.status, hit.covers)
        for index in inserted:
            if index < pos or (found is not None and index > found.at):
                continue
            rule = chain.rules[index]
            cube = rule.match.cube(ctx.reply)
            if rule.action.kind == "continue" or cube is None or not intersects(region, cube):
                continue
            status = applicability(rule.match, ctx)
            if status != "no":
                return Hit(index, status, False)
        return found


def _known(ruleset: Ruleset, uid: int) -> bool:
    try:
        ruleset.rule(uid)
    except KeyError:
        return False
    return True


def _reached_by(ruleset: Ruleset) -> dict[str, set[str]]:
    """Chain -> the chains whose walk can reach it (``reachable`` turned around), once
    per ruleset that does not change."""
    found: dict[str, set[str]] | None = ruleset.__dict__.get("_reached_by")
    if found is None:
        found = {}
        for key in ruleset.chains:
            for reached in reachable(ruleset, key):
                found.setdefault(reached, set()).add(key)
        ruleset.__dict__["_reached_by"] = found
    return found
