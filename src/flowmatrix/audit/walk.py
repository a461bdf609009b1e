"""First-match semantics of a chain over a region, shared by both evaluators.

The walk is the same for the plain interpreter (``naive.py``) and the compiled engine
(``engine.py``): only the search for the next rule that can match differs. Regions are
split where a rule covers part of them; a condition the tool cannot evaluate makes two
branches (it holds / it does not), each carrying that assumption.

What a matching rule does to the walk is said once, here, for every evaluator (this
walk, the engine's pure walk and the batch of flows): :func:`ending` for the verdicts
that end it, :func:`called` for what a jump or a goto brings back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

from flowmatrix.audit.ir import Chain, Rule, Ruleset
from flowmatrix.audit.packet import Ctx, End, Outcome, Region, Tri, split
from flowmatrix.errors import UserError
from flowmatrix.i18n import _

MAX_DEPTH = 64

Result = list[tuple[Region, Outcome]]
#: What the outcomes of a walk are about: a region, a set of flows (as bits), nothing.
K = TypeVar("K")

#: The actions that end a walk, with the end they give (a NAT verdict accepts). The
#: others go on: ``continue`` and ``notrack`` with the next rule, a jump or a goto in
#: their target chain (:func:`called`).
ENDS: dict[str, End] = {
    "accept": "accept",
    "nat": "accept",
    "drop": "drop",
    "reject": "reject",
    "queue": "queue",
    "unknown": "unknown",
    "return": "return",
}


def too_deep(ruleset: Ruleset, chain: Chain) -> UserError:
    """The error of a walk that went more than ``MAX_DEPTH`` jumps deep (a loop)."""
    return UserError(
        _("chain {chain!r} is nested more than {depth} jumps deep (a loop?)").format(
            chain=chain.name, depth=MAX_DEPTH
        ),
        file=ruleset.file,
        line=chain.line,
    )


def ending(
    rule: Rule, trace: tuple[int, ...], assumed: tuple[tuple[int, bool], ...], untracked: bool
) -> Outcome | None:
    """The outcome ``rule`` ends the walk with, or None when the walk goes on past it."""
    end = ENDS.get(rule.action.kind)
    if end is None:
        return None
    uid = rule.uid
    return Outcome(end, uid, (*trace, uid), assumed, untracked)


def called(
    rule: Rule,
    trace: tuple[int, ...],
    assumed: tuple[tuple[int, bool], ...],
    untracked: bool,
    outcomes: Iterable[tuple[K, Outcome]],
    out: list[tuple[K, Outcome]],
) -> list[tuple[K, Outcome]]:
    """What the jump or goto ``rule`` brings back, seen from its own chain.

    ``outcomes`` are the target chain's, relative to it; each is joined to the walk so
    far (its trace after this one's and the rule's, its assumptions after these). Those
    that end the walk go to ``out``, and so does every end of a goto's target (a return
    there ends the calling chain, without a deciding rule). Those that return from a
    jump are returned: the walk goes on after ``rule`` with each of them.
    """
    uid = rule.uid
    goto = rule.action.kind == "goto"
    resumed: list[tuple[K, Outcome]] = []
    for key, outcome in outcomes:
        joined = Outcome(
            outcome.end,
            outcome.rule,
            (*trace, uid, *outcome.trace),
            (*assumed, *outcome.assumptions) if assumed else outcome.assumptions,
            untracked or outcome.untracked,
        )
        if outcome.end != "return":
            out.append((key, joined))
        elif goto:
            out.append((key, joined._replace(rule=None)))
        else:
            resumed.append((key, joined))
    return resumed


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

    def rules_of(self, chain: Chain) -> Sequence[Rule]:
        """The rules the walk goes through in ``chain``: its own, unless the walker walks
        a ruleset that differs from the one ``chain`` is of (``delta.py``)."""
        return chain.rules

    # -- the walk -------------------------------------------------------------------------

    def run(self, chain_key: str, ctx: Ctx, region: Region, depth: int = 0) -> Result:
        """What ``chain`` does with ``region``; traces are relative to this chain."""
        chain = self.ruleset.chains[chain_key]
        if depth > MAX_DEPTH:
            raise too_deep(self.ruleset, chain)
        key, cached, cursor = self.enter(chain, ctx, region)
        if cached is not None:
            return [(region, outcome) for outcome in cached]
        result = self._walk(chain, ctx, region, cursor, depth)
        if key is not None:
            self.memo_put(key, [outcome for _, outcome in result])
        return result

    def _walk(self, chain: Chain, ctx: Ctx, region: Region, cursor: Any, depth: int) -> Result:
        out: Result = []
        rules = self.rules_of(chain)
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
            if hit.covers:
                inside_cursor = cur
            elif hit.status == "maybe" or rule.action.kind == "continue":
                inside_cursor = self.cursor(chain, pctx, inside)
            else:  # the rule ends the walk of ``inside``, or it goes on with cursors of its own
                inside_cursor = None
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
                rule,
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
        rule: Rule,
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
        """What the rule at ``index`` of ``chain`` does to ``part`` (the rule hit)."""
        ended = ending(rule, trace, assumed, untracked)
        if ended is not None:
            out.append((part, ended))
            return
        kind = rule.action.kind
        if kind == "continue":
            later.insert(0, (index + 1, part, cur, ctx, trace, assumed, untracked))
        elif kind == "notrack":
            quiet = ctx.untracked()
            later.insert(
                0, (index + 1, part, self.cursor(chain, quiet, part), quiet, trace, assumed, True)
            )
        else:  # jump or goto
            assert rule.action.target is not None
            sub = self.run(rule.action.target, ctx, part, depth + 1)
            resumed: list[Any] = []
            for piece, joined in called(rule, trace, assumed, untracked, sub, out):
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
