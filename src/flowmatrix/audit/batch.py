"""Many flows at once: every chain walked once, rule by rule, with the flows as bits.

``evaluate_flows`` gives, for a list of (context, region) queries, exactly what
``verdict.evaluate_flow`` gives for each one, in one pass over the ruleset.

Queries that share the family, the direction, the connection state and the locality form
a group; bit ``i`` of a Python int stands for query ``i``. For each chain (and state),
each rule gets the set of queries it may take and the set it surely takes: per axis from
the sorted values of the queries (the low end of each axis), per protocol and interface
from the queries that share them. The chain is then walked once, ``remaining`` losing
the queries each rule takes; a jump walks its target with the subset, and the queries
that come back go on after the jump. A rule whose condition is not evaluated (or whose
interface is unknown) branches its queries as the per-region walk does (it holds, then
it does not), so outcomes, deciding rules, traces and assumptions come out the same and
in the same order for each query.

A query is evaluated by its low ends only while no rule it meets covers part of its
region; a query that meets such a rule (a rule on part of the client ports, on part of
a range of addresses) would be split there: it is marked, and its fate comes from the
per-region walk (``evaluate_flow``) instead.

Size: one algorithm. The query groups, the per-axis masks and the walk share one
invariant (bit ``i`` is query ``i`` in every mask); apart, each part would reach into
the other's internals.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from flowmatrix.audit import ranges
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import BaseChain, IfaceMatch, Match, Rule
from flowmatrix.audit.packet import (
    Ctx,
    Outcome,
    Region,
    context_holds,
    iface_status,
    names_status,
    rpfilter_status,
)
from flowmatrix.audit.pipeline import Decision, Path, PathResult, deciding_chains
from flowmatrix.audit.verdict import (
    REPLY_PATH,
    Alternative,
    Cell,
    distinct_alternatives,
    distinct_results,
    evaluate_flow,
    reply_context,
)
from flowmatrix.audit.walk import MAX_DEPTH, called, ending, too_deep
from flowmatrix.collector import collector_paused

L = TypeVar("L")
Entries = list[tuple[int, Outcome]]
Steps = Iterator[
    tuple[str, int, str, int, tuple[int, ...], tuple[tuple[int, bool], ...], bool, int, Entries]
]
"""What a walk step asks for: going on in a chain (``_walk_from``'s arguments)."""
"""(queries, outcome): per query, the outcomes of the entries holding its bit, in order."""


@dataclass(slots=True)
class _Masks:
    """One chain for one connection state: per rule, the queries it may take and those it
    surely takes; ``order`` lists the rules that may take some query."""

    rules: tuple[Rule, ...]
    maybe: list[int]
    definite: list[int]
    order: list[int]
    straddle: dict[int, int]
    """Rule -> the queries it may take part of (their region is split there)."""


class _Group:
    """Queries sharing family, direction, state and locality; bit ``i`` is ``ctxs[i]``
    over ``regions[i]``, represented by the low end of each axis."""

    def __init__(self, walker: CompiledWalker, ctxs: list[Ctx], regions: list[Region]) -> None:
        """``regions`` sorted by their lowest source address."""
        self.walker = walker
        self.ctxs = ctxs
        self.count = count = len(ctxs)
        self.all = (1 << count) - 1
        first = ctxs[0]
        self.family = first.family
        self.reply = first.reply
        self.masks: dict[tuple[str, str], _Masks] = {}
        self.memo: dict[tuple[str, str, int], tuple[Entries, int]] = {}
        self.taint = 0
        """Queries met by a rule that covers part of their region: their walk splits."""
        # axis 0: the queries are in source order, a range of sources is a range of bits;
        # other axes: the queries sorted by value, with block unions (_Axis);
        # per axis, the queries whose region is more than a point there, by their set
        self.axes: list[_Axis] = []
        """Axes 1 to 3 (destination, source port, port)."""
        self.wide: list[list[tuple[ranges.Ivs, int]]] = []
        for dim in range(4):
            lows = [region[dim][0][0] for region in regions]
            if dim:
                self.axes.append(_Axis(lows))
            else:
                self.sources = lows
            highs = [region[dim][-1][1] for region in regions]
            spans: dict[ranges.Ivs, list[int]] = {}
            if highs != lows:
                for index in [i for i in range(count) if lows[i] != highs[i]]:
                    spans.setdefault(regions[index][dim], []).append(index)
            self.wide.append([(ivs, _bitset(found, count)) for ivs, found in spans.items()])
        combos: dict[tuple[int, int | None, str, str | None, str | None], list[int]] = {}
        for index, ctx in enumerate(ctxs):
            combos.setdefault((ctx.proto, ctx.tcp_flags, ctx.dnat, ctx.iif, ctx.oif), []).append(
                index
            )
        kinds: dict[tuple[int, int | None, str], int] = {}
        iifs: dict[str | None, int] = {}
        oifs: dict[str | None, int] = {}
        for (proto, flags, dnat, iif, oif), found in combos.items():
            bits = _bitset(found, count)
            kinds[(proto, flags, dnat)] = kinds.get((proto, flags, dnat), 0) | bits
            iifs[iif] = iifs.get(iif, 0) | bits
            oifs[oif] = oifs.get(oif, 0) | bits
        self.kinds = list(kinds.items())
        self.iifs = list(iifs.items())
        self.oifs = list(oifs.items())
        named: dict[tuple[frozenset[str] | None, frozenset[str] | None], list[int]] = {}
        for index, ctx in enumerate(ctxs):
            if ctx.src_names is not None or ctx.dst_names is not None:
                named.setdefault((ctx.src_names, ctx.dst_names), []).append(index)
        self.named = [(names, _bitset(found, count)) for names, found in named.items()]
        """Queries whose ends have DNS names, by those names (the others have none)."""
        self.iif_cache: dict[tuple[IfaceMatch | None, bool | None], tuple[int, int]] = {}
        self.oif_cache: dict[IfaceMatch, tuple[int, int]] = {}

    # -- per-rule query sets --------------------------------------------------------------

    def _inside(self, dim: int, ivs: ranges.Ivs) -> int:
        if dim:
            return self.axes[dim - 1].inside(ivs)
        found = 0
        values = self.sources
        for low, high in ivs:
            first = bisect_left(values, low)
            last = bisect_right(values, high)
            if last > first:
                found |= (1 << last) - (1 << first)
        return found

    def _iif(self, want: IfaceMatch | None, rpfilter: bool | None) -> tuple[int, int]:
        """(queries the input interface condition may hold for, those it surely holds for)."""
        found = self.iif_cache.get((want, rpfilter))
        if found is None:
            may = yes = 0
            for name, bits in self.iifs:
                status = iface_status(want, name)
                if status != "no":
                    reverse = rpfilter_status(rpfilter, name)
                    status = reverse if reverse != "yes" else status
                if status != "no":
                    may |= bits
                if status == "yes":
                    yes |= bits
            found = self.iif_cache[(want, rpfilter)] = (may, yes)
        return found

    def _oif(self, want: IfaceMatch) -> tuple[int, int]:
        found = self.oif_cache.get(want)
        if found is None:
            may = yes = 0
            for name, bits in self.oifs:
                status = iface_status(want, name)
                if status != "no":
                    may |= bits
                if status == "yes":
                    yes |= bits
            found = self.oif_cache[want] = (may, yes)
        return found

    def _names(self, match: Match) -> tuple[int, int]:
        """(the queries for which the DNS-name conditions of ``match`` may hold, those
        for which they surely hold); queries whose ends have no name may match."""
        never = yes = 0
        for (src, dst), bits in self.named:
            statuses = (
                names_status(match.src_names, src),
                names_status(match.dst_names, dst),
            )
            if "no" in statuses:
                never |= bits
            elif "maybe" not in statuses:
                yes |= bits
        return self.all & ~never, yes

    def masks_of(self, key: str, state: str) -> _Masks:
        found = self.masks.get((key, state))
        if found is not None:
            return found
        walker = self.walker
        chain = walker.ruleset.chains[key]
        cubes = walker.cubes(chain, self.family, self.reply)
        first = self.ctxs[0]
        kinds = [
            (first._replace(proto=proto, tcp_flags=flags, state=state, dnat=dnat), bits)
            for (proto, flags, dnat), bits in self.kinds
        ]
        maybe: list[int] = []
        definite: list[int] = []
        order: list[int] = []
        straddle: dict[int, int] = {}
        for index, rule in enumerate(chain.rules):
            cube = cubes[index]
            match = rule.match
            found_maybe = 0
            if cube is not None:
                for ctx, bits in kinds:
                    if context_holds(match, ctx, check_box=False):
                        found_maybe |= bits
            found_definite = 0
            if found_maybe:
                assert cube is not None
                sure = self.all
                if match.iif is not None or match.rpfilter is not None:
                    may, yes = self._iif(match.iif, match.rpfilter)
                    found_maybe &= may
                    sure &= yes
                if match.oif is not None:
                    may, yes = self._oif(match.oif)
                    found_maybe &= may
                    sure &= yes
                if match.src_names is not None or match.dst_names is not None:
                    may, yes = self._names(match)
                    found_maybe &= may
                    sure &= yes
                inside = overlap = found_maybe
                for dim in range(4):
                    want = cube[dim]
                    if want is None or not overlap:
                        continue
                    here = self._inside(dim, want)
                    near = here
                    for ivs, bits in self.wide[dim]:
                        here &= ~bits
                        if ranges.is_subset(ivs, want):
                            here |= bits
                            near |= bits
                        elif ranges.meets(ivs, want):
                            near |= bits
                        else:
                            near &= ~bits
                    inside &= here
                    overlap &= near
                found_maybe = overlap
                split = overlap & ~inside
                if split:
                    straddle[index] = split
                if not match.opaque:
                    found_definite = found_maybe if sure == self.all else found_maybe & sure
            maybe.append(found_maybe)
            definite.append(found_definite)
            if found_maybe:
                order.append(index)
        found = _Masks(chain.rules, maybe, definite, order, straddle)
        self.masks[(key, state)] = found
        return found

    # -- the walk ---------------------------------------------------------------------------

    def walk(self, key: str, flows: int, state: str, depth: int = 0) -> Entries:
        """What chain ``key`` does with ``flows`` (traces relative to the chain)."""
        memo_key = (key, state, flows)
        found = self.memo.get(memo_key)
        if found is not None:
            self.taint |= found[1]
            return found[0]
        if depth > MAX_DEPTH:
            raise too_deep(self.walker.ruleset, self.walker.ruleset.chains[key])
        out: Entries = []
        outer = self.taint
        self.taint = 0
        self._walk_from(key, flows, state, 0, (), (), False, depth, out)
        self.memo[memo_key] = (out, self.taint)
        self.taint |= outer
        return out

    def _walk_from(
        self,
        key: str,
        flows: int,
        state: str,
        pos: int,
        trace: tuple[int, ...],
        assumed: tuple[tuple[int, bool], ...],
        untracked: bool,
        depth: int,
        out: Entries,
    ) -> None:
        """The queries ``flows`` from rule ``pos`` of chain ``key`` on, into ``out``.

        Iterative: going on in the same chain (after an unevaluated condition assumed
        false, a ``notrack``, a return from a jump) is a step the steps yield and this
        loop runs at once, in order, on its own stack (a chain of thousands of such rules
        is as deep as it is long)."""
        stack: list[Steps] = [
            self._walk_from_steps(key, flows, state, pos, trace, assumed, untracked, depth, out)
        ]
        while stack:
            try:
                request = next(stack[-1])
            except StopIteration:
                stack.pop()
                continue
            stack.append(self._walk_from_steps(*request))

    def _walk_from_steps(
        self,
        key: str,
        flows: int,
        state: str,
        pos: int,
        trace: tuple[int, ...],
        assumed: tuple[tuple[int, bool], ...],
        untracked: bool,
        depth: int,
        out: Entries,
    ) -> Steps:
        masks = self.masks_of(key, state)
        maybe, definite, order, straddle = masks.maybe, masks.definite, masks.order, masks.straddle
        remaining = flows
        for at in range(bisect_left(order, pos), len(order)):
            index = order[at]
            taken = remaining & maybe[index]
            if not taken:
                continue
            if straddle:
                self.taint |= remaining & straddle.get(index, 0)
            remaining ^= taken
            rule = masks.rules[index]
            sure = taken & definite[index]
            if sure:
                yield from self._take_steps(
                    key, rule, index, sure, state, trace, assumed, untracked, depth, out
                )
            unsure = taken ^ sure
            if unsure:
                uid = rule.uid
                yield from self._take_steps(
                    key,
                    rule,
                    index,
                    unsure,
                    state,
                    trace,
                    (*assumed, (uid, True)),
                    untracked,
                    depth,
                    out,
                )
                yield (
                    key,
                    unsure,
                    state,
                    index + 1,
                    trace,
                    (*assumed, (uid, False)),
                    untracked,
                    depth,
                    out,
                )
            if not remaining:
                return
        out.append((remaining, Outcome("return", None, trace, assumed, untracked)))

    def _take_steps(
        self,
        key: str,
        rule: Rule,
        index: int,
        flows: int,
        state: str,
        trace: tuple[int, ...],
        taken: tuple[tuple[int, bool], ...],
        untracked: bool,
        depth: int,
        out: Entries,
    ) -> Steps:
        """The queries ``flows`` meet ``rule`` (with the assumptions ``taken``)."""
        ended = ending(rule, trace, taken, untracked)
        if ended is not None:
            out.append((flows, ended))
        elif rule.action.kind == "notrack":
            yield (key, flows, "untracked", index + 1, trace, taken, True, depth, out)
        else:
            target = rule.action.target
            assert target is not None
            sub = self.walk(target, flows, state, depth + 1)
            resumed = called(rule, trace, taken, untracked, sub, out)
            if len(resumed) == 1:
                bits, joined = resumed[0]
                quiet = joined.untracked and state != "untracked"
                yield (
                    key,
                    bits,
                    "untracked" if quiet else state,
                    index + 1,
                    joined.trace,
                    joined.assumptions,
                    joined.untracked,
                    depth,
                    out,
                )
            elif resumed:
                yield from self._resume_steps(key, index + 1, state, resumed, depth, out)

    def _resume_steps(
        self, key: str, pos: int, state: str, resumed: Entries, depth: int, out: Entries
    ) -> Steps:
        """Queries back from a chain, each with its own trace: the rest of the chain is
        walked once for all of them, then each gets its own trace and assumptions."""
        unions: dict[str, int] = {}
        for bits, joined in resumed:
            going = "untracked" if joined.untracked else state
            unions[going] = unions.get(going, 0) | bits
        rests: dict[str, tuple[Entries, dict[int, list[int]]]] = {}
        for going, union in unions.items():
            rest: Entries = []
            yield (key, union, going, pos, (), (), False, depth, rest)
            where: dict[int, list[int]] = {}
            for at, (bits, _) in enumerate(rest):
                for member in _members(bits):
                    where.setdefault(member, []).append(at)
            rests[going] = (rest, where)
        for bits, joined in resumed:
            rest, where = rests["untracked" if joined.untracked else state]
            members = _members(bits)
            if len(members) == 1:
                ats: list[int] = where[members[0]]
            else:
                ats = sorted({at for member in members for at in where[member]})
            trace, assumed, untracked = joined.trace, joined.assumptions, joined.untracked
            for at in ats:
                found, outcome = rest[at]
                found &= bits
                if found:
                    out.append(
                        (
                            found,
                            Outcome(
                                outcome.end,
                                outcome.rule,
                                trace + outcome.trace,
                                assumed + outcome.assumptions,
                                untracked or outcome.untracked,
                            ),
                        )
                    )


BLOCK = 32


class _Axis:
    """The queries by their value on one axis: sorted, with the union of every ``BLOCK``
    first ones, so that the queries of a range of values are a few unions away."""

    def __init__(self, lows: list[int]) -> None:
        count = self.count = len(lows)
        self.order = order = sorted(range(count), key=lows.__getitem__)
        self.values = [lows[index] for index in order]
        self.blocks = [0]
        running = 0
        for start in range(0, count - BLOCK + 1, BLOCK):
            running |= _bitset(order[start : start + BLOCK], count)
            self.blocks.append(running)

    def inside(self, ivs: ranges.Ivs) -> int:
        """The queries whose value is in ``ivs``."""
        found = 0
        values, order = self.values, self.order
        for low, high in ivs:
            first = bisect_left(values, low)
            last = bisect_right(values, high)
            if last - first <= 2 * BLOCK:
                if last > first:
                    found |= _bitset(order[first:last], self.count)
                continue
            head = -(-first // BLOCK)
            tail = last // BLOCK
            found |= self.blocks[tail] ^ self.blocks[head]
            edges = order[first : head * BLOCK] + order[tail * BLOCK : last]
            if edges:
                found |= _bitset(edges, self.count)
        return found


def _bitset(positions: list[int], count: int) -> int:
    """The int with the bits at ``positions`` set."""
    if len(positions) <= 4:
        found = 0
        for position in positions:
            found |= 1 << position
        return found
    buffer = bytearray((count + 7) >> 3)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")


def _members(bits: int) -> list[int]:
    """The positions of the set bits."""
    found: list[int] = []
    if bits.bit_count() <= 8:
        while bits:
            low = bits & -bits
            found.append(low.bit_length() - 1)
            bits ^= low
        return found
    data = bits.to_bytes((bits.bit_length() + 7) >> 3, "little")
    for hit in _NONZERO.finditer(data):
        at = hit.start()
        base = at << 3
        found.extend([base + offset for offset in _BYTE_BITS[data[at]]])
    return found


_NONZERO = re.compile(rb"[^\x00]")
_BYTE_BITS = [tuple(i for i in range(8) if value >> i & 1) for value in range(256)]


def _path(group: _Group, bases: list[BaseChain]) -> tuple[list[tuple[int, PathResult]], int]:
    """``pipeline.evaluate_path`` for every query of the group at once: (queries, result)
    entries, in the order each query gets them; and the queries some rule on their way
    splits (their entries are not to be used)."""
    last = len(bases)
    walks: dict[tuple[int, str], tuple[Entries, int]] = {}
    tainted = 0
    state0 = group.ctxs[0].state
    pending: list[tuple[int, str, tuple[Decision, ...], int]] = [(0, state0, (), group.all)]
    out: list[tuple[int, PathResult]] = []
    while pending:
        index, state, decisions, flows = pending.pop()
        while index < last and bases[index].kind == "nat" and state != "new":
            index += 1
        if index == last:
            out.append((flows, PathResult("accept", decisions)))
            continue
        base = bases[index]
        found = walks.get((index, state))
        if found is None:
            group.taint = 0
            found = (group.walk(base.chain, group.all, state), group.taint)
            walks[(index, state)] = found
        tainted |= flows & found[1]
        for bits, outcome in reversed(found[0]):
            bits &= flows
            if not bits:
                continue
            quiet = outcome.untracked and state != "untracked"
            next_state = "untracked" if quiet else state
            end = outcome.end
            if end == "return":
                decision = Decision(base.chain, f"policy-{base.policy}", outcome)
                if base.policy == "accept":
                    pending.append((index + 1, next_state, (*decisions, decision), bits))
                else:
                    out.append((bits, PathResult("drop", (*decisions, decision))))
            elif end == "accept":
                decision = Decision(base.chain, "accept", outcome)
                pending.append((index + 1, next_state, (*decisions, decision), bits))
            else:
                decision = Decision(base.chain, end, outcome)
                out.append((bits, PathResult(end, (*decisions, decision))))
    return out, tainted


def _batched(
    walker: CompiledWalker,
    path: Path,
    queries: list[tuple[int, Ctx, Region]],
    label: Callable[[PathResult], L],
) -> tuple[dict[int, list[L]], set[int], list[int]]:
    """For the queries no rule splits (by their number): the labels of their path
    results, in order; those of them with a path result that accepts; the numbers of the
    other queries."""
    groups: dict[tuple[object, ...], list[tuple[int, Ctx, Region]]] = {}
    impure: list[int] = []
    for number, ctx, region in queries:
        if not all(region):
            impure.append(number)
            continue
        key = (ctx.family, ctx.state, ctx.reply, ctx.local_src, ctx.local_dst)
        groups.setdefault(key, []).append((number, ctx, region))
    found: dict[int, list[L]] = {}
    accepted: set[int] = set()
    for members in groups.values():
        members.sort(key=_lowest_source)
        group = _Group(walker, [m[1] for m in members], [m[2] for m in members])
        entries, tainted = _path(group, deciding_chains(walker.ruleset, path, group.family))
        per: list[list[L]] = [[] for _ in members]
        passing = 0
        for bits, result in entries:
            labelled = label(result)
            if result.verdict == "accept":
                passing |= bits
            for member in _members(bits & ~tainted):
                per[member].append(labelled)
        for index, (number, _, _) in enumerate(members):
            if tainted >> index & 1:
                impure.append(number)
            else:
                found[number] = per[index]
        accepted.update(members[index][0] for index in _members(passing & ~tainted))
    return found, accepted, impure


def _same(result: PathResult) -> PathResult:
    return result


def _lowest_source(member: tuple[int, Ctx, Region]) -> int:
    return member[2][0][0][0]


def evaluate_flows(
    walker: CompiledWalker, path: Path, queries: Sequence[tuple[Ctx, Region]]
) -> list[list[Cell]]:
    """``[evaluate_flow(walker, path, ctx, region) for ctx, region in queries]``, at once.

    The cyclic garbage collector is paused meanwhile: the evaluation makes no reference
    cycles, only many small tuples, and the collector's passes over every object of a
    large ruleset would make it about a quarter slower."""
    with collector_paused():
        return _evaluate_flows(walker, path, queries)


def _evaluate_flows(
    walker: CompiledWalker, path: Path, queries: Sequence[tuple[Ctx, Region]]
) -> list[list[Cell]]:
    # a path result is shared by every query of its entry, so is its alternative; a
    # request that passes is labelled by itself, to be paired with the replies
    def alone(result: PathResult) -> Alternative | PathResult:
        return result if result.verdict == "accept" else Alternative(result, None)

    requests, accepted, impure = _batched(
        walker, path, [(n, c, r) for n, (c, r) in enumerate(queries)], alone
    )
    fallback = set(impure)
    wanted: list[tuple[int, Ctx, Region]] = []
    for number in sorted(accepted):
        ctx, region = queries[number]
        wanted.append((number, reply_context(ctx), region.mirrored()))
    replies, _, impure_replies = _batched(walker, REPLY_PATH[path], wanted, _same)
    fallback.update(impure_replies)
    pairs: dict[tuple[int, int], Alternative] = {}
    reduced: dict[tuple[int, ...], list[PathResult]] = {}

    def distinct(results: list[PathResult]) -> list[PathResult]:
        # the lists are shared by the queries of an entry: reduced once per list
        key = tuple(id(result) for result in results)
        found = reduced.get(key)
        if found is None:
            found = reduced[key] = distinct_results(results)
        return found

    out: list[list[Cell]] = []
    for number, (ctx, region) in enumerate(queries):
        if number in fallback:
            out.append(evaluate_flow(walker, path, ctx, region))
            continue
        labels = requests[number]
        back = replies.get(number)
        if back is None:
            alternatives = distinct_alternatives(labels)  # type: ignore[arg-type]
        else:
            found: list[Alternative] = []
            answers = distinct(back)
            for item in labels:
                if isinstance(item, Alternative):
                    found.append(item)
                    continue
                for reply in answers:
                    pair = pairs.get((id(item), id(reply)))
                    if pair is None:
                        pair = pairs[(id(item), id(reply))] = Alternative(item, reply)
                    found.append(pair)
            alternatives = distinct_alternatives(found)
        out.append([Cell(region, ctx.iif, ctx.oif, alternatives)])
    return out
