"""Evaluating a ruleset that differs from a compiled one by a few inserted rules.

A fix is checked by evaluating the ruleset again with the fix in place (``fixes.py``).
Compiling a chain of thousands of rules again for each fix would cost more than the
whole audit, and so would copying it; the ruleset with the fix differs only by the rules
inserted into some chains. ``DeltaWalker`` walks it with the compiled engine of the
original ruleset and the list of inserted rules, without reading the new ruleset's
chains (``Ruleset.with_rule_inserted`` makes them only when read):

- a chain whose first rule that may match in a context takes every packet for sure and
  ends the walk (a session table) decides every region of that context, when the
  chain's inserted rules all come after that rule: no other rule is ever reached;
- a walk that cannot meet an inserted rule is the compiled engine's (its memo
  included): the chain and the chains it reaches hold no inserted rule, or none whose
  box meets the region in the walk's context (or in that context once conntrack is off,
  the only change of context a walk makes). A rule that no packet of the region can
  meet is never the next rule of the walk: it splits nothing and decides nothing;
- a region in one class per axis of the engine, that each inserted rule it meets
  covers, is split by no rule: its walk goes from candidate to candidate by bits, the
  engine's for the original rules and the inserted rules' own (``_PureWalk``);
- in the others, the next rule that may match is the nearer of the compiled chain's
  next candidate and of the inserted rules.

Same walk (``walk.py``), same results as a fresh ``CompiledWalker`` of the new ruleset,
by construction and by test (``tests/audit/test_audit_delta.py``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any, overload

from flowmatrix.audit import ranges
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import Chain, Rule, Ruleset, reachable
from flowmatrix.audit.packet import Ctx, Outcome, Region, Tri, applicability, intersects
from flowmatrix.audit.walk import MAX_DEPTH, Hit, Result, Walker, called, ending, too_deep

Added = tuple[tuple[int, Rule], ...]
"""(position in the new chain, rule) of the rules inserted into a chain, in order."""


class DeltaWalker(Walker):
    """The walk of ``ruleset``: the ruleset of ``base`` with rules inserted into chains
    (rules of any action but a jump or a goto: the chains each chain reaches stay the
    same)."""

    def __init__(self, base: CompiledWalker, ruleset: Ruleset) -> None:
        super().__init__(ruleset)
        self.base = base
        known = base.ruleset
        recorded = ruleset.inserted_since(known)
        self.inserted: dict[str, Added] = (
            _compared(known, ruleset) if recorded is None else recorded
        )
        """Changed chain -> its inserted rules."""
        self._spliced: dict[str, _Spliced] = {}
        reached_by = _reached_by(known)
        self.within: dict[str, list[Rule]] = {}
        """Chain -> the inserted rules its walk can meet (in it and the chains it reaches)."""
        for changed, added in self.inserted.items():
            for _, rule in added:
                if rule.action.kind in ("jump", "goto"):
                    raise ValueError(f"an inserted rule jumps ({rule.origin.text})")
            for key in reached_by.get(changed, (changed,)):
                self.within.setdefault(key, []).extend(rule for _, rule in added)

    def run(self, chain_key: str, ctx: Ctx, region: Region, depth: int = 0) -> Result:
        decided = _decided_for_all(self.base.ruleset, chain_key, ctx)
        if decided is not None and depth <= MAX_DEPTH:
            at, outcome = decided
            here = self.inserted.get(chain_key)
            if not here or here[0][0] > at:  # the chain's inserted rules all come later
                return [(region, outcome)]
        within = self.within.get(chain_key)
        meeting = None if within is None else _meeting(within, ctx, region)
        if not meeting:
            return self.base.run(chain_key, ctx, region, depth)
        pure = self.base.pure_classes(chain_key, ctx, region)
        if pure is not None and all(covers for _, _, covers in meeting):
            # no rule of the walk splits the region: the original's by their classes,
            # the inserted ones by covering it (or by never applying)
            root, gclasses = pure
            walk = _PureWalk(self, region, gclasses, root, meeting, ctx.state)
            return [(region, outcome) for outcome in walk.run(chain_key, ctx, depth)]
        # the original's chain stands for the new one: ``rules_of`` has its new rules
        chain = self.base.ruleset.chains[chain_key]
        if depth > MAX_DEPTH:
            raise too_deep(self.ruleset, chain)
        return self._walk(chain, ctx, region, self.cursor(chain, ctx, region), depth)

    def rules_of(self, chain: Chain) -> Sequence[Rule]:
        return chain.rules if chain.key not in self.inserted else self._spliced_of(chain)

    def _spliced_of(self, chain: Chain) -> _Spliced:
        found = self._spliced.get(chain.key)
        if found is None:
            found = self._spliced[chain.key] = _Spliced(chain.rules, self.inserted[chain.key])
        return found

    def cursor(self, chain: Chain, ctx: Ctx, region: Region) -> Any:
        return self.base.cursor(chain, ctx, region)

    def next_hit(self, chain: Chain, ctx: Ctx, region: Region, cursor: Any, pos: int) -> Hit | None:
        added = self.inserted.get(chain.key)
        if added is None:
            return self.base.next_hit(chain, ctx, region, cursor, pos)
        positions = self._spliced_of(chain).positions
        before = bisect_left(positions, pos)  # inserted rules before ``pos``
        found = None
        if pos - before < len(chain.rules):
            hit = self.base.next_hit(chain, ctx, region, cursor, pos - before)
            if hit is not None:
                found = hit._replace(at=_new_position(positions, before, hit.at))
        for position, rule in added[before:]:
            if found is not None and position > found.at:
                break
            cube = rule.match.cube(ctx.reply)
            if rule.action.kind == "continue" or cube is None or not intersects(region, cube):
                continue
            status = applicability(rule.match, ctx)
            if status != "no":
                return Hit(position, status, False)
        return found


class _PureWalk:
    """The walk from a chain over a region that no rule of the walk splits: a depth-first
    search over the rules that match it (the steps of ``CompiledWalker._pure_from``, over
    the chains with their inserted rules), the outcomes in the order of ``Walker._walk``."""

    def __init__(
        self,
        delta: DeltaWalker,
        region: Region,
        gclasses: tuple[int, int, int, int],
        root: Any,
        meeting: list[tuple[Rule, Tri, bool]],
        state: str,
    ) -> None:
        """``root`` is the engine's compiled chain the walk starts from, ``gclasses`` the
        region's classes in it; ``meeting`` the inserted rules the region meets, each
        with whether it applies in the walk's first context (of connection ``state``)."""
        self.delta = delta
        self.region = region
        self.gclasses = gclasses
        self.root = root
        self.met = {rule.uid for rule, _, _ in meeting}
        """The inserted rules that cover the region; the others never match it."""
        self.statuses: dict[tuple[int, str], Tri] = {
            (rule.uid, state): status for rule, status, _ in meeting
        }
        """(inserted rule, connection state) -> whether the rule applies."""

    def run(self, chain_key: str, ctx: Ctx, depth: int) -> list[Outcome]:
        """``Walker.run`` of the chain, without the region."""
        delta = self.delta
        if chain_key not in delta.within:
            return delta.base.run_pure(chain_key, ctx, self.gclasses, self.root, depth)
        chain = delta.base.ruleset.chains[chain_key]
        if depth > MAX_DEPTH:
            raise too_deep(delta.ruleset, chain)
        out: list[Outcome] = []
        rules = delta.rules_of(chain)
        self.walk(
            chain_key, rules, ctx, *self.candidates(chain_key, ctx), 0, (), (), False, depth, out
        )
        return out

    def candidates(self, chain_key: str, ctx: Ctx) -> tuple[int, int]:
        """(rules that may match, rules that surely match), as bits by position in the
        chain with its inserted rules: the original's, moved past the inserted rules,
        and the inserted rules that cover the region and apply in ``ctx``."""
        maybe, definite = self.delta.base.pure_candidates(chain_key, ctx, self.gclasses, self.root)
        for position, rule in self.delta.inserted.get(chain_key, ()):  # by position
            low = (1 << position) - 1
            maybe = (maybe & low) | ((maybe >> position) << (position + 1))
            definite = (definite & low) | ((definite >> position) << (position + 1))
            status = self._status(rule, ctx)
            if status != "no":
                maybe |= 1 << position
            if status == "yes":
                definite |= 1 << position
        return maybe, definite

    def _status(self, rule: Rule, ctx: Ctx) -> Tri:
        if rule.uid not in self.met:
            return "no"
        key = (rule.uid, ctx.state)
        found = self.statuses.get(key)
        if found is None:  # once conntrack is off, the one other context of a walk
            found = self.statuses[key] = applicability(rule.match, ctx)
        return found

    def walk(
        self,
        chain_key: str,
        rules: Sequence[Rule],
        ctx: Ctx,
        maybe: int,
        definite: int,
        pos: int,
        trace: tuple[int, ...],
        assumed: tuple[tuple[int, bool], ...],
        untracked: bool,
        depth: int,
        out: list[Outcome],
    ) -> None:
        """The outcomes of the walk of the chain from ``pos`` on, in ``ctx``."""
        while True:
            candidates = (maybe >> pos) << pos
            if not candidates:
                out.append(Outcome("return", None, trace, assumed, untracked))
                return
            lowest = candidates & -candidates
            index = lowest.bit_length() - 1
            rule = rules[index]
            sure = bool(definite & lowest)
            taken = assumed if sure else (*assumed, (rule.uid, True))
            pos = index + 1
            ended = ending(rule, trace, taken, untracked)
            if ended is not None:
                out.append(ended)
            elif rule.action.kind == "notrack":
                quiet = ctx.untracked()
                if sure:  # the walk goes on with conntrack off, here (no recursion)
                    ctx, untracked = quiet, True
                    maybe, definite = self.candidates(chain_key, quiet)
                    continue
                bits = self.candidates(chain_key, quiet)
                self.walk(chain_key, rules, quiet, *bits, pos, trace, taken, True, depth, out)
            else:
                assert rule.action.target is not None
                sub = [(None, o) for o in self.run(rule.action.target, ctx, depth + 1)]
                ends: list[tuple[None, Outcome]] = []
                resumed = called(rule, trace, taken, untracked, sub, ends)
                out.extend(outcome for _, outcome in ends)
                if sure and len(resumed) == 1:
                    joined = resumed[0][1]
                    if not joined.untracked or ctx.state == "untracked":
                        # back from the chain, go on here without recursing (a chain of
                        # thousands of jumps is deeper than Python's recursion limit)
                        trace, assumed = joined.trace, joined.assumptions
                        untracked = joined.untracked
                        continue
                for _, joined in resumed:
                    here, bits = ctx, (maybe, definite)
                    if joined.untracked and ctx.state != "untracked":
                        here = ctx.untracked()
                        bits = self.candidates(chain_key, here)
                    self.walk(
                        chain_key,
                        rules,
                        here,
                        *bits,
                        pos,
                        joined.trace,
                        joined.assumptions,
                        joined.untracked,
                        depth,
                        out,
                    )
            if sure:
                return
            assumed = (*assumed, (rule.uid, False))


def _meeting(rules: list[Rule], ctx: Ctx, region: Region) -> list[tuple[Rule, Tri, bool]]:
    """The inserted ``rules`` that may be the next rule of a walk of ``region`` in ``ctx``
    or in ``ctx`` once conntrack is off for the packets (the contexts a walk goes
    through), each with whether it applies in ``ctx`` and whether it covers the region."""
    found: list[tuple[Rule, Tri, bool]] = []
    for rule in rules:
        box = rule.match.cube(ctx.reply)
        if rule.action.kind == "continue" or box is None:
            continue
        covers = True
        for have, want in zip(region, box, strict=True):
            if want is None or ranges.is_subset(have, want):
                continue
            if not ranges.meets(have, want):
                break
            covers = False
        else:
            status = applicability(rule.match, ctx)
            if status != "no" or applicability(rule.match, ctx.untracked()) != "no":
                found.append((rule, status, covers))
    return found


def _decided_for_all(ruleset: Ruleset, chain_key: str, ctx: Ctx) -> tuple[int, Outcome] | None:
    """The rule (its position) that decides every region in ``ctx`` and the outcome, when
    the first of the chain's rules that may match in ``ctx`` matches every packet, for
    sure, and ends the walk (a session table's accept of the packets of known
    connections): no earlier rule can match, that one takes the whole region. Once per
    ruleset, chain and context."""
    cache: dict[tuple[str, Ctx], tuple[int, Outcome] | None] = ruleset.__dict__.setdefault(
        "_decided_for_all", {}
    )
    key = (chain_key, ctx)
    if key not in cache:
        cache[key] = None
        for at, rule in enumerate(ruleset.chains[chain_key].rules):
            box = rule.match.cube(ctx.reply)
            if rule.action.kind == "continue" or box is None:
                continue  # never decides anything (as for the compiled engine)
            status = applicability(rule.match, ctx)
            if status != "no":
                outcome = ending(rule, (), (), False)
                if status == "yes" and box == _EVERYWHERE and outcome is not None:
                    cache[key] = (at, outcome)
                break
    return cache[key]


_EVERYWHERE = (None, None, None, None)


def _new_position(positions: list[int], before: int, old: int) -> int:
    """The position in the new chain of the original's rule ``old``, knowing that
    ``before`` inserted rules come before it (and maybe more of the others)."""
    shift = before
    while shift < len(positions) and positions[shift] <= old + shift:
        shift += 1
    return old + shift


class _Spliced(Sequence[Rule]):
    """The rules of a chain with rules inserted, read in place (not copied)."""

    def __init__(self, rules: tuple[Rule, ...], added: Added) -> None:
        self.rules = rules
        self.added = added
        self.positions = [p for p, _ in added]

    def __len__(self) -> int:
        return len(self.rules) + len(self.added)

    @overload
    def __getitem__(self, index: int) -> Rule: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Rule]: ...

    def __getitem__(self, index: int | slice) -> Rule | Sequence[Rule]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        before = bisect_left(self.positions, index)
        if before < len(self.positions) and self.positions[before] == index:
            return self.added[before][1]
        return self.rules[index - before]


def _compared(known: Ruleset, ruleset: Ruleset) -> dict[str, Added]:
    """The rules of ``ruleset`` that ``known`` does not have, by chain: for a ruleset that
    has the chains of ``known`` with rules added, not derived by ``with_rule_inserted``."""
    found: dict[str, Added] = {}
    for key, chain in ruleset.chains.items():
        before = known.chains.get(key)
        if before is not None and before.rules is not chain.rules:
            found[key] = tuple(
                (index, rule)
                for index, rule in enumerate(chain.rules)
                if not _known(known, rule.uid)
            )
    return found


def _known(ruleset: Ruleset, uid: int) -> bool:
    try:
        ruleset.rule(uid)
    except KeyError:
        return False
    return True


def _reached_by(ruleset: Ruleset) -> dict[str, set[str]]:
    """Chain -> the chains whose walk can reach it, itself included (``reachable``
    turned around), once per ruleset that does not change."""
    found: dict[str, set[str]] | None = ruleset.__dict__.get("_reached_by")
    if found is None:
        found = {}
        for key in ruleset.chains:
            for reached in reachable(ruleset, key):
                found.setdefault(reached, set()).add(key)
        ruleset.__dict__["_reached_by"] = found
    return found
