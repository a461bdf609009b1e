"""Dead rules: rules that can never match.

* shadowed: earlier rules of the same chain that end the chain's walk (accept, drop,
  reject, return, goto) together cover every packet the rule could take, so it is never
  reached. Only earlier rules whose conditions the tool evaluates count, and their
  non-address conditions must be implied by the rule's own: the answer can miss a
  shadowing, never invent one.
* never-matches: the rule's own conditions contradict each other.
* unreachable-chain: a user chain no base chain reaches.

Candidates are found with the engine's per-class bit vectors (a range-OR table per
axis), so a chain of thousands of rules is not compared pair by pair.
"""

from __future__ import annotations

from bisect import bisect_right

from flowmatrix.audit import ranges
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import Chain, Match, Rule, Ruleset, reachable
from flowmatrix.audit.packet import Region
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.result import DeadRule, RuleRef
from flowmatrix.i18n import _, ngettext

_ENDS_CHAIN = frozenset({"accept", "drop", "reject", "return", "goto", "queue", "nat"})
MAX_PIECES = 4096
_WIDE = (0, (1 << 128) - 1)


class _RangeOr:
    """OR of the class bit vectors over any range of classes, in two lookups."""

    def __init__(self, bits: list[int]) -> None:
        self.levels = [bits]
        width = 1
        while width * 2 <= len(bits):
            previous = self.levels[-1]
            self.levels.append(
                [previous[i] | previous[i + width] for i in range(len(bits) - 2 * width + 1)]
            )
            width *= 2

    def query(self, first: int, last: int) -> int:
        level = (last - first + 1).bit_length() - 1
        table = self.levels[level]
        return table[first] | table[last - (1 << level) + 1]


def dead_rules(ruleset: Ruleset) -> list[DeadRule]:
    out: list[DeadRule] = []
    reached: set[str] = set()
    for base in ruleset.bases:
        reached.update(reachable(ruleset, base.chain))
    walker = CompiledWalker(ruleset)
    for chain in ruleset.chains.values():
        if chain.key not in reached:
            for rule in _first_of_each_source(chain.rules):
                out.append(
                    DeadRule(
                        RuleRef.of(rule),
                        "unreachable-chain",
                        _("no base chain reaches chain {chain}").format(chain=chain.name),
                    )
                )
            continue
        out.extend(_chain_dead(walker, ruleset, chain))
    return out


def _first_of_each_source(rules: tuple[Rule, ...]) -> list[Rule]:
    seen: dict[tuple[int | None, int], Rule] = {}
    for rule in rules:
        seen.setdefault((rule.origin.line, rule.origin.position), rule)
    return list(seen.values())


def _chain_dead(walker: CompiledWalker, ruleset: Ruleset, chain: Chain) -> list[DeadRule]:
    rules = chain.rules
    if not rules:
        return []
    out: list[DeadRule] = []
    dead_by_source: dict[tuple[int | None, int], list[tuple[int, list[Rule]]]] = {}
    indexes: dict[int, tuple[list[list[int]], list[_RangeOr]]] = {}
    enders = 0
    for index, rule in enumerate(rules):
        if rule.action.kind in _ENDS_CHAIN and _can_shadow(rule.match):
            enders |= 1 << index
    for index, rule in enumerate(rules):
        key = (rule.origin.line, rule.origin.position)
        match = rule.match
        if match.never is not None:
            dead_by_source.setdefault(key, []).append((index, []))
            continue
        earlier = enders & ((1 << index) - 1)
        if not earlier:
            dead_by_source.setdefault(key, []).append((-1, []))
            continue
        cube = match.cube(False)
        family = match.family or min(ruleset.families)
        if cube is None or family not in ruleset.families:
            dead_by_source.setdefault(key, []).append((-1, []))
            continue
        if family not in indexes:
            comp = walker.compiled(chain, family, False)
            indexes[family] = (comp.bounds, [_RangeOr(bits) for bits in comp.bits])
        all_bounds, tables = indexes[family]
        candidates = earlier
        for dim, ivs in enumerate(cube):
            if ivs is None or not candidates:
                continue
            bounds = all_bounds[dim]
            found = 0
            for low, high in ivs:
                found |= tables[dim].query(
                    bisect_right(bounds, low) - 1, bisect_right(bounds, high) - 1
                )
            candidates &= found
        shadowers = _covered(rules, rule, candidates, family) if candidates else None
        dead_by_source.setdefault(key, []).append((index if shadowers else -1, shadowers or []))
    for parts in dead_by_source.values():
        # a source rule expanded into several IR rules is dead only if all of them are
        if any(index < 0 for index, _shadowers in parts):
            continue
        first = rules[parts[0][0]]
        if first.match.never is not None:
            out.append(DeadRule(RuleRef.of(first), "never-matches", first.match.never))
            continue
        by: dict[tuple[int | None, int], RuleRef] = {}
        for _index, shadowers in parts:
            for shadow in shadowers:
                by.setdefault((shadow.origin.line, shadow.origin.position), RuleRef.of(shadow))
        names = ", ".join(ref.label for ref in by.values())
        out.append(
            DeadRule(
                RuleRef.of(first),
                "shadowed",
                ngettext(
                    "never reached: {rules} take every packet it could match",
                    "never reached: {rules} take every packet it could match",
                    len(by),
                ).format(rules=names),
                tuple(by.values()),
            )
        )
    return out


def _can_shadow(match: Match) -> bool:
    return (
        match.never is None
        and not match.opaque
        and match.orig_src is None
        and match.orig_dst is None
        and match.orig_sport is None
        and match.orig_dport is None
        and match.src_names is None
        and match.dst_names is None
    )


def _implied(earlier: Match, rule: Match) -> bool:
    """Every non-box condition of ``earlier`` holds for all packets ``rule`` matches."""
    if earlier.family is not None and earlier.family != rule.family:
        return False
    if earlier.protos is not None and (rule.protos is None or not rule.protos <= earlier.protos):
        return False
    if earlier.states is not None and (rule.states is None or not rule.states <= earlier.states):
        return False
    if earlier.dnat is not None and (rule.dnat is None or not rule.dnat <= earlier.dnat):
        return False
    if earlier.tcp_flags and not set(earlier.tcp_flags) <= set(rule.tcp_flags):
        return False
    for mine, theirs in ((earlier.iif, rule.iif), (earlier.oif, rule.oif)):
        if mine is not None and mine != theirs:
            return False
    for mine_b, theirs_b in (
        (earlier.local_src, rule.local_src),
        (earlier.local_dst, rule.local_dst),
        (earlier.direction, rule.direction),
    ):
        if mine_b is not None and mine_b != theirs_b:
            return False
    return not ((earlier.sport is not None or earlier.dport is not None) and rule.protos is None)


def _box(cube: tuple[Ivs | None, Ivs | None, Ivs | None, Ivs | None], family: int) -> Region:
    full = ranges.ALL_ADDRESSES[family]
    return Region(
        cube[0] or full, cube[1] or full, cube[2] or ranges.PORTS, cube[3] or ranges.PORTS
    )


def _covered(
    rules: tuple[Rule, ...], rule: Rule, candidates: int, family: int
) -> list[Rule] | None:
    """The earlier rules that together take every packet of ``rule``, or None."""
    cube = rule.match.cube(False)
    assert cube is not None
    own = _box(cube, family)
    usable: list[tuple[Rule, Region]] = []
    while candidates:
        lowest = candidates & -candidates
        candidates ^= lowest
        earlier = rules[lowest.bit_length() - 1]
        other = earlier.match.cube(False)
        if other is None or not _implied(earlier.match, rule.match):
            continue
        box = _box(other, family)
        if box.contains(own):
            return [earlier]  # one earlier rule takes it all: name that one
        usable.append((earlier, box))
    used = _union_cover(own, usable)
    if used is None or len(used) > 8:
        return used
    for candidate in list(used):  # drop rules the others make unnecessary
        rest = [item for item in usable if item[0] in used and item[0] is not candidate]
        if _union_cover(own, rest) is not None:
            used.remove(candidate)
    return used


def _union_cover(own: Region, usable: list[tuple[Rule, Region]]) -> list[Rule] | None:
    remaining = [own]
    used: list[Rule] = []
    for earlier, box in usable:
        touched = False
        following: list[Region] = []
        for piece in remaining:
            if piece.intersect(box) is None:
                following.append(piece)
                continue
            touched = True
            following.extend(piece.minus(box))
        if touched:
            used.append(earlier)
            remaining = following
            if not remaining:
                return used
            if len(remaining) > MAX_PIECES:
                return None
    return None
