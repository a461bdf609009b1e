"""The compiled evaluator: bit-vector classification and per-class memoization.

Each chain is compiled once per (family, direction). On every dimension (source,
destination, source port, destination port) the boundaries of all the rules of the
chain *and of the chains it reaches* cut the axis into classes; a class holds no rule
boundary, so every rule either covers it whole or misses it. For each class a bit
vector (a Python int) marks the rules that cover it. The rules that can match a
region lying in one class per axis are then the AND of four vectors, and the first one
is the lowest set bit.

When a region lies in one class per axis, no rule of the chain or below can split it,
so the whole outcome of the chain depends only on (chain, context, classes): it is
memoized on that key. Regions spanning several classes fall back to an exact check of
each candidate, and the walk splits them as the plain interpreter does.

Size: the compiler of a chain and the cursor that walks it share the class layout
(boundaries, bit vectors, memo keys) and change together.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from flowmatrix.audit import ranges
from flowmatrix.audit.ir import Chain, Ruleset, reachable
from flowmatrix.audit.packet import (
    Ctx,
    Outcome,
    Region,
    context_holds,
    iface_status,
    intersects,
    names_status,
    rpfilter_status,
)
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.walk import MAX_DEPTH, Hit, Result, Walker, called, ending, too_deep

SMALL_CHAIN = 6
SCAN_BEFORE_NARROWING = 8
"""Candidates a region spanning several classes checks one by one before the others are
narrowed to those covering its classes (``_meeting``): a wide region behind thousands of
rules for other hosts (a rule's reach) meets few of them."""
NARROWING_CLASSES = 64


@dataclass
class _Compiled:
    chain: Chain
    family: int
    reply: bool
    bounds: list[list[int]]
    bits: list[list[int]]
    cubes: list[tuple[Ivs | None, Ivs | None, Ivs | None, Ivs | None] | None]
    opaque: int
    ident: int
    small: bool
    """Few rules and no jumps: candidates are checked one by one, nothing is memoized."""
    names_used: bool
    """Some rule of the chain matches DNS names."""
    gmaps: dict[int, list[list[int]]] = field(default_factory=dict)
    """Per root chain (by ident), per axis: class of the root -> class of this chain."""
    positions: dict[int, int] = field(default_factory=dict)
    contexts: dict[tuple[Any, ...], int] = field(default_factory=dict)
    by_ctx: dict[Ctx, tuple[int, int]] = field(default_factory=dict)
    iifs: dict[str | None, tuple[int, int]] = field(default_factory=dict)
    oifs: dict[str | None, tuple[int, int]] = field(default_factory=dict)
    names: dict[tuple[frozenset[str] | None, frozenset[str] | None], tuple[int, int]] = field(
        default_factory=dict
    )


@dataclass(slots=True)
class _Cursor:
    maybe: int
    definite: int
    pure: bool
    classes: tuple[int, int, int, int] | None


class CompiledWalker(Walker):
    """The fast evaluator; same results as ``NaiveWalker``, by construction and by test."""

    def __init__(self, ruleset: Ruleset) -> None:
        super().__init__(ruleset)
        self._compiled: dict[tuple[str, int, bool], _Compiled] = {}
        self._own_bounds: dict[tuple[str, int, bool], list[set[int]]] = {}
        self._memo: dict[tuple[Any, ...], list[Outcome]] = {}
        self._cube_cache: dict[tuple[str, int, bool], list[Any]] = {}

    def sibling(self) -> CompiledWalker:
        """A walker of the same ruleset that shares what is compiled (a function of the
        ruleset alone) and starts from a copy of what is memoized now: what it finds later
        does not depend on what this one walks meanwhile (a bounded walk's allowance
        counts the work the memo spares it)."""
        other = CompiledWalker(self.ruleset)
        other._compiled = self._compiled
        other._own_bounds = self._own_bounds
        other._cube_cache = self._cube_cache
        other._memo = dict(self._memo)
        return other

    # -- compilation ----------------------------------------------------------------------

    def cubes(self, chain: Chain, family: int, reply: bool) -> list[Any]:
        """Each rule's box in one family and direction; None for rules that never decide
        anything there (logs, counts, marks; contradictions; another family)."""
        key = (chain.key, family, reply)
        found = self._cube_cache.get(key)
        if found is None:
            found = self._cube_cache[key] = self._cubes(chain, family, reply)
        return found

    def _cubes(self, chain: Chain, family: int, reply: bool) -> list[Any]:
        cubes: list[Any] = []
        for rule in chain.rules:
            match = rule.match
            if rule.action.kind == "continue":
                cubes.append(None)  # logs, counts, marks: no effect on the verdict, skipped
            elif match.never is not None or (match.family is not None and match.family != family):
                cubes.append(None)
            else:
                cubes.append(match.cube(reply))
        return cubes

    def _bounds_of(self, chain_key: str, family: int, reply: bool) -> list[set[int]]:
        key = (chain_key, family, reply)
        found = self._own_bounds.get(key)
        if found is None:
            found = [{0}, {0}, {0}, {0}]
            for cube in self._cubes(self.ruleset.chains[chain_key], family, reply):
                if cube is None:
                    continue
                for dim, ivs in enumerate(cube):
                    if ivs is None:
                        continue
                    edges = found[dim]
                    for low, high in ivs:
                        edges.add(low)
                        edges.add(high + 1)
            self._own_bounds[key] = found
        return found

    def compiled(self, chain: Chain, family: int, reply: bool) -> _Compiled:
        key = (chain.key, family, reply)
        found = self._compiled.get(key)
        if found is not None:
            return found
        maxima = (ranges.ADDR_MAX[family], ranges.ADDR_MAX[family], 65535, 65535)
        edges: list[set[int]] = [set(), set(), set(), set()]
        for other in reachable(self.ruleset, chain.key):
            for dim, values in enumerate(self._bounds_of(other, family, reply)):
                edges[dim] |= values
        bounds = [sorted(v for v in edges[dim] if v <= maxima[dim]) for dim in range(4)]
        cubes = self._cubes(chain, family, reply)
        bits = [_class_bits(bounds[dim], cubes, dim) for dim in range(4)]
        opaque = 0
        for index, rule in enumerate(chain.rules):
            if rule.match.opaque:
                opaque |= 1 << index
        small = len(chain.rules) <= SMALL_CHAIN and not any(
            rule.action.kind in ("jump", "goto") for rule in chain.rules
        )
        names_used = any(
            r.match.src_names is not None or r.match.dst_names is not None for r in chain.rules
        )
        found = _Compiled(
            chain,
            family,
            reply,
            bounds,
            bits,
            cubes,
            opaque,
            len(self._compiled),
            small,
            names_used,
        )
        self._compiled[key] = found
        return found

    def _context_bits(self, comp: _Compiled, ctx: Ctx) -> int:
        key = (ctx.proto, ctx.state, ctx.tcp_flags, ctx.local_src, ctx.local_dst, ctx.dnat)
        found = comp.contexts.get(key)
        if found is None:
            found = 0
            for index, rule in enumerate(comp.chain.rules):
                if comp.cubes[index] is not None and context_holds(
                    rule.match, ctx, check_box=False
                ):
                    found |= 1 << index
            comp.contexts[key] = found
        return found

    @staticmethod
    def _iface_bits(comp: _Compiled, name: str | None, inbound: bool) -> tuple[int, int]:
        """(rules that may match, rules that surely match) for an interface name."""
        cache = comp.iifs if inbound else comp.oifs
        found = cache.get(name)
        if found is None:
            rules = comp.chain.rules
            maybe = definite = (1 << len(rules)) - 1
            for index, rule in enumerate(rules):
                match = rule.match
                want = match.iif if inbound else match.oif
                if want is None and (not inbound or match.rpfilter is None):
                    continue
                status = iface_status(want, name)
                if inbound and status != "no":
                    reverse = rpfilter_status(match.rpfilter, name)
                    status = reverse if reverse != "yes" else status
                if status == "no":
                    maybe &= ~(1 << index)
                if status != "yes":
                    definite &= ~(1 << index)
            found = (maybe, definite)
            cache[name] = found
        return found

    @staticmethod
    def _names_bits(comp: _Compiled, ctx: Ctx) -> tuple[int, int]:
        """(rules whose DNS-name condition surely fails, rules whose condition is not
        surely met) for the ends of ``ctx``."""
        key = (ctx.src_names, ctx.dst_names)
        if not comp.names_used:
            return 0, 0
        found = comp.names.get(key)
        if found is None:
            never = unsure = 0
            for index, rule in enumerate(comp.chain.rules):
                match = rule.match
                if match.src_names is None and match.dst_names is None:
                    continue
                statuses = (
                    names_status(match.src_names, ctx.src_names),
                    names_status(match.dst_names, ctx.dst_names),
                )
                if "no" in statuses:
                    never |= 1 << index
                elif "maybe" in statuses:
                    unsure |= 1 << index
            found = comp.names[key] = (never, unsure)
        return found

    # -- regions no rule splits: the lean path -----------------------------------------------

    def _gmaps(self, comp: _Compiled, root: _Compiled) -> list[list[int]]:
        """Class of ``root`` (a chain whose reach includes ``comp``) -> class of ``comp``."""
        found = comp.gmaps.get(root.ident)
        if found is None:
            found = [
                [bisect_right(local, start) - 1 for start in rbounds]
                for local, rbounds in zip(comp.bounds, root.bounds, strict=True)
            ]
            comp.gmaps[root.ident] = found
        return found

    def run(self, chain_key: str, ctx: Ctx, region: Region, depth: int = 0) -> Result:
        chain = self.ruleset.chains[chain_key]
        root = self._compiled.get((chain_key, ctx.family, ctx.reply)) or self.compiled(
            chain, ctx.family, ctx.reply
        )
        classes = self._classes(root, region)
        if None in classes:
            # some rule may split the region: the walk (no memo, the region is its key)
            if depth > MAX_DEPTH:
                raise too_deep(self.ruleset, chain)
            return self._walk(chain, ctx, region, self._cursor_of(root, ctx, classes), depth)
        pure = (classes[0], classes[1], classes[2], classes[3])
        return [(region, o) for o in self.run_pure(chain_key, ctx, pure, root, depth)]  # type: ignore[arg-type]

    def pure_classes(
        self, chain_key: str, ctx: Ctx, region: Region
    ) -> tuple[_Compiled, tuple[int, int, int, int]] | None:
        """The compiled chain and the class of ``region`` on each axis, when the region
        lies in one class per axis (no rule of the chain or below splits it), else None."""
        root = self._compiled.get((chain_key, ctx.family, ctx.reply)) or self.compiled(
            self.ruleset.chains[chain_key], ctx.family, ctx.reply
        )
        classes = self._classes(root, region)
        if None in classes:
            return None
        return root, (classes[0], classes[1], classes[2], classes[3])  # type: ignore[return-value]

    def pure_candidates(
        self, chain_key: str, ctx: Ctx, gclasses: tuple[int, int, int, int], root: _Compiled
    ) -> tuple[int, int]:
        """(rules that may match, rules that surely match), as bits by position, of a chain
        reached from ``root`` for a region in the classes ``gclasses`` of ``root``."""
        comp = self._compiled.get((chain_key, ctx.family, ctx.reply)) or self.compiled(
            self.ruleset.chains[chain_key], ctx.family, ctx.reply
        )
        return self._candidates(comp, ctx, gclasses, root)

    def _candidates(
        self, comp: _Compiled, ctx: Ctx, gclasses: tuple[int, int, int, int], root: _Compiled
    ) -> tuple[int, int]:
        maybe, definite = self._ctx_bits(comp, ctx)
        m0, m1, m2, m3 = comp.gmaps.get(root.ident) or self._gmaps(comp, root)
        b0, b1, b2, b3 = comp.bits
        g0, g1, g2, g3 = gclasses
        maybe &= b0[m0[g0]] & b1[m1[g1]] & b2[m2[g2]] & b3[m3[g3]]
        return maybe, definite

    def run_pure(
        self,
        chain_key: str,
        ctx: Ctx,
        gclasses: tuple[int, int, int, int],
        root: _Compiled,
        depth: int = 0,
    ) -> list[Outcome]:
        """``Walker.run`` for a region inside one class per axis of ``root`` (the base chain
        the walk started from), without the region: nothing below can split it, so the
        walk is a plain depth-first search over rules."""
        chain = self.ruleset.chains[chain_key]
        comp = self._compiled.get((chain_key, ctx.family, ctx.reply)) or self.compiled(
            chain, ctx.family, ctx.reply
        )
        g0, g1, g2, g3 = gclasses
        m0, m1, m2, m3 = comp.gmaps.get(root.ident) or self._gmaps(comp, root)
        c0, c1, c2, c3 = m0[g0], m1[g1], m2[g2], m3[g3]
        key = (comp.ident, ctx, c0, c1, c2, c3)
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        if depth > MAX_DEPTH:
            raise too_deep(self.ruleset, chain)
        maybe, definite = self._ctx_bits(comp, ctx)
        b0, b1, b2, b3 = comp.bits
        maybe &= b0[c0] & b1[c1] & b2[c2] & b3[c3]
        out: list[Outcome] = []
        self._pure_from(comp, ctx, gclasses, root, maybe, definite, 0, (), (), False, depth, out)
        self._memo[key] = out
        return out

    def _pure_from(
        self,
        comp: _Compiled,
        ctx: Ctx,
        gclasses: tuple[int, int, int, int],
        root: _Compiled,
        maybe: int,
        definite: int,
        pos: int,
        trace: tuple[int, ...],
        assumed: tuple[tuple[int, bool], ...],
        untracked: bool,
        depth: int,
        out: list[Outcome],
    ) -> None:
        """Walk ``comp`` from ``pos``: the same order of outcomes as ``Walker._walk``."""
        rules = comp.chain.rules
        while True:
            candidates = (maybe >> pos) << pos
            if not candidates:
                out.append(Outcome("return", None, trace, assumed, untracked))
                return
            lowest = candidates & -candidates
            index = lowest.bit_length() - 1
            rule = rules[index]
            kind = rule.action.kind
            uid = rule.uid
            sure = bool(definite & lowest)
            taken = assumed if sure else (*assumed, (uid, True))
            pos = index + 1
            ended = ending(rule, trace, taken, untracked)
            if ended is not None:
                out.append(ended)
            elif kind == "notrack":
                self._resume(comp, ctx.untracked(), gclasses, root, pos, trace, taken, depth, out)
            else:
                target = rule.action.target
                assert target is not None
                sub = self.run_pure(target, ctx, gclasses, root, depth + 1)
                ends: list[tuple[None, Outcome]] = []
                resumed = [
                    joined
                    for _, joined in called(
                        rule, trace, taken, untracked, [(None, o) for o in sub], ends
                    )
                ]
                out.extend(outcome for _, outcome in ends)
                if (
                    sure
                    and len(resumed) == 1
                    and not (resumed[0].untracked and ctx.state != "untracked")
                ):
                    # the common case: back from the chain, go on here without recursing
                    trace, assumed, untracked = resumed[0][2:5]
                    continue
                for joined in resumed:
                    if joined.untracked and ctx.state != "untracked":
                        self._resume(
                            comp,
                            ctx.untracked(),
                            gclasses,
                            root,
                            pos,
                            joined.trace,
                            joined.assumptions,
                            depth,
                            out,
                        )
                    else:
                        self._pure_from(
                            comp,
                            ctx,
                            gclasses,
                            root,
                            maybe,
                            definite,
                            pos,
                            joined.trace,
                            joined.assumptions,
                            joined.untracked,
                            depth,
                            out,
                        )
            if sure:
                return
            assumed = (*assumed, (uid, False))

    def _resume(
        self,
        comp: _Compiled,
        quiet: Ctx,
        gclasses: tuple[int, int, int, int],
        root: _Compiled,
        pos: int,
        trace: tuple[int, ...],
        assumed: tuple[tuple[int, bool], ...],
        depth: int,
        out: list[Outcome],
    ) -> None:
        """Go on in the same chain once conntrack is off for the packet (notrack)."""
        maybe, definite = self._candidates(comp, quiet, gclasses, root)
        self._pure_from(
            comp, quiet, gclasses, root, maybe, definite, pos, trace, assumed, True, depth, out
        )

    # -- the walker's hooks -----------------------------------------------------------------

    def _ctx_bits(self, comp: _Compiled, ctx: Ctx) -> tuple[int, int]:
        """(rules that may match, rules that surely match) for a context, all axes aside."""
        found = comp.by_ctx.get(ctx)
        if found is None:
            maybe = self._context_bits(comp, ctx)
            in_maybe, in_definite = self._iface_bits(comp, ctx.iif, True)
            out_maybe, out_definite = self._iface_bits(comp, ctx.oif, False)
            never, unsure = self._names_bits(comp, ctx)
            maybe &= in_maybe & out_maybe & ~never
            unsure |= comp.opaque
            found = (maybe, maybe & in_definite & out_definite & ~unsure)
            comp.by_ctx[ctx] = found
        return found

    @staticmethod
    def _classes(comp: _Compiled, region: Region) -> list[int | None]:
        """The class of the region on each axis, None where it spans several."""
        out: list[int | None] = []
        for bounds, ivs in zip(comp.bounds, region):  # noqa: B905 - both have four items
            if len(bounds) == 1:
                out.append(0)
                continue
            low, high = ivs[0][0], ivs[-1][1]
            low_class = bisect_right(bounds, low) - 1
            if low == high or (low_class + 1 == len(bounds) or bounds[low_class + 1] > high):
                out.append(low_class)
            else:
                out.append(None)
        return out

    def _make_cursor(self, comp: _Compiled, ctx: Ctx, classes: list[int | None]) -> _Cursor:
        maybe, definite = self._ctx_bits(comp, ctx)
        pure = True
        for dim, klass in enumerate(classes):
            if klass is None:
                pure = False
            elif maybe:
                maybe &= comp.bits[dim][klass]
        return _Cursor(maybe, definite, pure, None)

    def cursor(self, chain: Chain, ctx: Ctx, region: Region) -> _Cursor:
        comp = self._compiled.get((chain.key, ctx.family, ctx.reply)) or self.compiled(
            chain, ctx.family, ctx.reply
        )
        return self._cursor_of(comp, ctx, [] if comp.small else self._classes(comp, region))

    def _cursor_of(self, comp: _Compiled, ctx: Ctx, classes: list[int | None]) -> _Cursor:
        """``cursor`` for a region whose classes in ``comp`` are known."""
        if comp.small:
            # a few rules: checking each candidate beats narrowing by classes
            maybe, definite = self._ctx_bits(comp, ctx)
            return _Cursor(maybe, definite, False, None)
        return self._make_cursor(comp, ctx, classes)

    def next_hit(self, chain: Chain, ctx: Ctx, region: Region, cursor: Any, pos: int) -> Hit | None:
        candidates = (cursor.maybe >> pos) << pos
        if not candidates:
            return None
        if cursor.pure:
            lowest = candidates & -candidates
            return Hit(
                lowest.bit_length() - 1, "yes" if cursor.definite & lowest else "maybe", True
            )
        comp = self.compiled(chain, ctx.family, ctx.reply)
        cubes = comp.cubes
        misses = 0
        while candidates:
            lowest = candidates & -candidates
            index = lowest.bit_length() - 1
            cube = cubes[index]
            if cube is None or not intersects(region, cube):
                candidates ^= lowest
                misses += 1
                if misses == SCAN_BEFORE_NARROWING:
                    candidates &= _meeting(comp, region)
                continue
            return Hit(index, "yes" if cursor.definite & lowest else "maybe", False)
        return None


def _meeting(comp: _Compiled, region: Region) -> int:
    """Rules of ``comp`` that may meet ``region``, a superset of those that do: on each
    axis, those covering a class the region has values in (a rule meets the region only
    in such a class). An axis whose values span more than ``NARROWING_CLASSES`` classes
    is left out (every rule)."""
    found = -1
    for bounds, bits, ivs in zip(comp.bounds, comp.bits, region):  # noqa: B905 - four each
        spans = [(bisect_right(bounds, low) - 1, bisect_right(bounds, high)) for low, high in ivs]
        if sum(last - first for first, last in spans) > NARROWING_CLASSES:
            continue
        axis = 0
        for first, last in spans:
            for klass in range(first, last):
                axis |= bits[klass]
        found &= axis
    return found


def _class_bits(bounds: list[int], cubes: list[Any], dim: int) -> list[int]:
    """For each class of ``bounds``, the rules whose set on ``dim`` covers it."""
    count = len(bounds)
    toggles = [0] * (count + 1)
    everywhere = 0
    for index, cube in enumerate(cubes):
        if cube is None:
            continue
        ivs = cube[dim]
        bit = 1 << index
        if ivs is None:
            everywhere |= bit
            continue
        for low, high in ivs:
            first = bisect_right(bounds, low) - 1
            last = bisect_right(bounds, high) - 1
            toggles[first] ^= bit
            toggles[last + 1] ^= bit
    out: list[int] = []
    current = everywhere
    for position in range(count):
        current ^= toggles[position]
        out.append(current)
    return out
