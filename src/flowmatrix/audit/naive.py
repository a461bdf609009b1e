"""The plain first-match interpreter: rule after rule, no index, no cache.

It is the reference the compiled engine is tested against (property tests) and the
baseline of the benchmark. It shares the walk (``walk.py``) with the engine, so the
two differ only in how the next matching rule is found.
"""

from __future__ import annotations

from typing import Any

from flowmatrix.audit.ir import Chain, Ruleset
from flowmatrix.audit.packet import Ctx, Cube, Region, applicability, intersects
from flowmatrix.audit.walk import Hit, Walker


class NaiveWalker(Walker):
    """Checks every rule in order against the region."""

    def __init__(self, ruleset: Ruleset) -> None:
        super().__init__(ruleset)
        self._boxes: dict[tuple[str, bool], list[Cube | None]] = {}

    def cursor(self, chain: Chain, ctx: Ctx, region: Region) -> Any:
        return None

    def next_hit(self, chain: Chain, ctx: Ctx, region: Region, cursor: Any, pos: int) -> Hit | None:
        rules = chain.rules
        cubes = self._cubes(chain, ctx.reply)
        for index in range(pos, len(rules)):
            cube = cubes[index]
            if cube is None or not intersects(region, cube):
                continue  # also logs, counts, marks: no effect on the verdict
            status = applicability(rules[index].match, ctx)
            if status == "no":
                continue
            return Hit(index, status, False)
        return None

    def _cubes(self, chain: Chain, reply: bool) -> list[Cube | None]:
        """Each rule's box, read once (None for rules that never decide anything)."""
        key = (chain.key, reply)
        found = self._boxes.get(key)
        if found is None:
            found = [
                None if rule.action.kind == "continue" else rule.match.cube(reply)
                for rule in chain.rules
            ]
            self._boxes[key] = found
        return found
