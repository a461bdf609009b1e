"""First-match semantics of a chain over a region, shared by both evaluators.

The walk is the same for the plain interpreter (``naive.py``) and the compiled engine
(``engine.py``): only the search for the next rule that can match differs. Regions are
split where a rule covers part of them; a condition the tool cannot evaluate makes two
branches (it holds / it does not), each carrying that assumption.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from flowmatrix.audit.ir import Chain, Ruleset
from flowmatrix.audit.packet import Ctx, Outcome, Region, Tri, split
from flowmatrix.errors import UserError

MAX_DEPTH = 64

Result = list[tuple[Region, Outcome]]


class WalkTooFine(Exception):
    """A bounded walk (``Walker.bounded``) split its region into more work than allowed."""


class Steps:
    """What a bounded walk may still do (``left``, below zero once it gave up)."""

    def __init__(self, left: int) -> None:
        self.left = left


class Hit(NamedTuple):
    """The next rule that may match part of a region."""

    at: int
    """Position of the rule in its chain."""
    status: Tri
    covers: bool
    """True when the rule's box holds the whole region (no split needed)."""


class Walker(ABC):
    """Walks chains; subclasses find candidate rules and may memoize whole chains."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self._steps: Steps | None = None

    @contextmanager
    def bounded(self, steps: int) -> Iterator[Steps]:
        """Walks inside give up (``WalkTooFine``) after ``steps`` pieces of work, for
        questions whose answer is only worth a bounded cost (a rule's exact reach); what
        is left of the allowance is in the ``Steps`` it yields."""
        saved = self._steps
        self._steps = allowance = Steps(steps)
        try:
            yield allowance
        finally:
            self._steps = saved

    @abstractmethod
    def cursor(self, chain: Chain, ctx: Ctx, region: Region) -> Any:
        """Per-(chain, region) state for ``next_hit``."""

    @abstractmethod
    def next_hit(self, chain: Chain, ctx: Ctx, region: Region, cursor: Any, pos: int) -> Hit | None:
        """The first rule at or after ``pos`` that may match some packet of the region."""

    def enter(
        self, chain: Chain, ctx: Ctx, region: Region
    ) -> tuple[Any, list[Outcome] | None, Any]:
        """On entering a chain: (memo key or None, memoized outcomes or None, cursor)."""
        return None, None, self.cursor(chain, ctx, region)

    def memo_put(self, key: Any, outcomes: list[Outcome]) -> None:
        return None

    # -- the walk -------------------------------------------------------------------------

    def run(self, chain_key: str, ctx: Ctx, region: Region, depth: int = 0) -> Result:
        """What ``chain`` does with ``region``; traces are relative to this chain."""
        chain = self.ruleset.chains[chain_key]
        if depth > MAX_DEPTH:
            raise UserError(
                f"chain {chain.name!r} is nested more than {MAX_DEPTH} jumps deep (a loop?)",
                file=self.ruleset.file,
                line=chain.line,
            )
        key, cached, cursor = self.enter(chain, ctx, region)
        if cached is not None:
            return [(region, outcome) for outcome in cached]
        result = self._walk(chain, ctx, region, cursor, depth)
        if key is not None:
            self.memo_put(key, [outcome for _, outcome in result])
        return result

    def _walk(self, chain: Chain, ctx: Ctx, region: Region, cursor: Any, depth: int) -> Result:
        out: Result = []
        rules = chain.rules
        # work items: (position, region, cursor, ctx, trace, assumptions, untracked)
        stack: list[
            tuple[int, Region, Any, Ctx, tuple[int, ...], tuple[tuple[int, bool], ...], bool]
        ]
        stack = [(0, region, cursor, ctx, (), (), False)]
        while stack:
            if self._steps is not None:
                self._steps.left -= 1
                if self._steps.left < 0:
                    raise WalkTooFine
            pos, part, cur, pctx, trace, assumed, untracked = stack.pop()
            hit = self.next_hit(chain, pctx, part, cur, pos)
            if hit is None:
                out.append((part, Outcome("return", None, trace, assumed, untracked)))
                continue
            rule = rules[hit.at]
            if hit.covers:
                inside: Region | None = part
                rest: list[Region] = []
            else:
                cube = rule.match.cube(pctx.reply)
                assert cube is not None
                inside, rest = split(part, cube)
            later: list[
                tuple[int, Region, Any, Ctx, tuple[int, ...], tuple[tuple[int, bool], ...], bool]
            ] = []
            for piece in rest:
                later.append(
                    (
                        hit.at + 1,
                        piece,
                        self.cursor(chain, pctx, piece),
                        pctx,
                        trace,
                        assumed,
                        untracked,
                    )
                )
            if inside is None:
                stack.extend(reversed(later))
                continue
            inside_cursor = cur if hit.covers else self.cursor(chain, pctx, inside)
            taken = assumed
            if hit.status == "maybe" and rule.action.kind != "continue":
                later.insert(
                    0,
                    (
                        hit.at + 1,
                        inside,
                        inside_cursor,
                        pctx,
                        trace,
                        (*assumed, (rule.uid, False)),
                        untracked,
                    ),
                )
                taken = (*assumed, (rule.uid, True))
            self._apply(
                chain,
                hit.at,
                pctx,
                inside,
                inside_cursor,
                trace,
                taken,
                untracked,
                depth,
                out,
                later,
            )
            stack.extend(reversed(later))
        return out

    def _apply(
        self,
        chain: Chain,
        index: int,
        ctx: Ctx,
        part: Region,
        cur: Any,
        trace: tuple[int, ...],
        assumed: tuple[tuple[int, bool], ...],
        untracked: bool,
        depth: int,
        out: Result,
        later: list[Any],
    ) -> None:
        rule = chain.rules[index]
        action = rule.action
        kind = action.kind
        uid = rule.uid
        if kind in ("accept", "nat"):
            out.append((part, Outcome("accept", uid, (*trace, uid), assumed, untracked)))
        elif kind in ("drop", "reject", "queue", "unknown", "return"):
            out.append((part, Outcome(kind, uid, (*trace, uid), assumed, untracked)))
        elif kind == "continue":
            later.insert(0, (index + 1, part, cur, ctx, trace, assumed, untracked))
        elif kind == "notrack":
            quiet = ctx.untracked()
            later.insert(
                0, (index + 1, part, self.cursor(chain, quiet, part), quiet, trace, assumed, True)
            )
        else:  # jump or goto
            assert action.target is not None
            sub = self.run(action.target, ctx, part, depth + 1)
            resumed: list[Any] = []
            for piece, outcome in sub:
                joined = Outcome(
                    outcome.end,
                    outcome.rule,
                    (*trace, uid, *outcome.trace),
                    (*assumed, *outcome.assumptions) if assumed else outcome.assumptions,
                    untracked or outcome.untracked,
                )
                if outcome.end != "return":
                    out.append((piece, joined))
                elif kind == "goto":
                    out.append((piece, joined._replace(rule=None)))
                else:
                    pctx = ctx.untracked() if joined.untracked else ctx
                    resumed.append(
                        (
                            index + 1,
                            piece,
                            self.cursor(chain, pctx, piece),
                            pctx,
                            joined.trace,
                            joined.assumptions,
                            joined.untracked,
                        )
                    )
            later[0:0] = resumed
