"""Least privilege: accept rules wider than the planned flows they serve, and accept
rules that no planned flow needs.

A rule's effective reach is what it accepts, by the same evaluation as the verdicts: a
first bound is its own match narrowed by the jumps that lead to it (a ``-p tcp --dport
80 -j ACCEPT`` in a chain entered with ``-d 10.0.0.5 -j web`` only lets port 80 of
10.0.0.5 through) and by the interfaces' addresses; where that bound is wider than the
flows it decided, the packets of the bound are walked through the ruleset in the flows'
contexts (sets, negated sets, the RETURNs before it, names, families) and the reach is
what the rule itself accepts of them. An empty reach is empty, not "any". It is
compared with the union of the flows it decided: any source where the flows come from
a few hosts, port ranges beyond the ports needed, any protocol.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from flowmatrix.audit import ranges
from flowmatrix.audit.ipassmt import InterfaceMap
from flowmatrix.audit.ir import Match, Rule, Ruleset, reachable
from flowmatrix.audit.packet import Ctx, Region, applicability, intersects
from flowmatrix.audit.pipeline import Path, base_chains, evaluate_path
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.result import RuleRef, WideRule, addresses_text
from flowmatrix.audit.walk import Steps, Walker, WalkTooFine
from flowmatrix.i18n import _

MAX_REACH_PIECES = 4096
"""Pieces of an exact reach walk beyond which the first bound is kept (see ``_exact``)."""
MAX_REACH_STEPS = 4096
"""Work of the walks of one exact reach beyond which the first bound is kept: a rule
behind thousands of others that split its bound finely (a dump of host rules) costs
no more than this, not the product of the two."""
MAX_REACH_WORK = 8 * MAX_REACH_STEPS
"""Work of all the exact reach walks of one audit: past it, the remaining rules keep
their first bound (the report says how many)."""


class WideRules(NamedTuple):
    rules: list[WideRule]
    bounded: int
    """Rules judged by their first bound: their exact reach was too costly to walk."""


@dataclass
class Served:
    """What the flows decided by one accept rule need."""

    family: int
    trace: tuple[int, ...]
    src: list[tuple[int, int]] = field(default_factory=list)
    dst: list[tuple[int, int]] = field(default_factory=list)
    ports: list[tuple[int, int]] = field(default_factory=list)
    protos: set[int] = field(default_factory=set)
    flows: dict[str, None] = field(default_factory=dict)
    contexts: dict[tuple[Path, Ctx], None] = field(default_factory=dict)
    """The request contexts (path, family, protocol, interfaces, names) of those flows."""
    sports: list[tuple[int, int]] = field(default_factory=list)


def wide_rules(
    ruleset: Ruleset,
    served: dict[tuple[int, int], Served],
    interfaces: InterfaceMap | None = None,
    walker: Walker | None = None,
) -> WideRules:
    """``interfaces`` narrows a rule's reach by its ``-i``/``-o``: a rule for packets coming
    in on the Internet side cannot take sources of the inside zones. With ``walker`` the
    reach is made exact where the first bound is wider than needed, within a budget of
    work (``MAX_REACH_WORK``)."""
    out: list[WideRule] = []
    budget = Steps(MAX_REACH_WORK)
    bounded = 0
    # by (rule, family): a rule of both families serves each family's flows separately
    for (uid, _family), need in sorted(
        served.items(), key=lambda item: _order(ruleset, item[0][0])
    ):
        reach = _reach(ruleset, need.trace, need.family, interfaces)
        if reach is None:
            continue
        src, dst, dport, protos = reach
        family = need.family
        full = ranges.ALL_ADDRESSES[family]
        wider = not ranges.is_subset(src or full, ranges.normalize(need.src)) or (
            not ranges.is_subset(dst or full, ranges.normalize(need.dst))
        )
        if wider and walker is not None:  # only then is it worth walking
            exact = _exact(walker, uid, need, src or full, dst or full, dport, budget)
            if exact is not None:  # empty: it accepts none of them itself (not "any")
                src = exact[0] or ranges.normalize(need.src)
                dst = exact[1] or ranges.normalize(need.dst)
            else:  # too fine to walk: the bound without what earlier rules take whole
                bounded += 1
                src, dst = _minus_earlier(ruleset, uid, family, src, dst, dport, protos)
        elif wider:
            src, dst = _minus_earlier(ruleset, uid, family, src, dst, dport, protos)
        reasons: list[str] = []
        needed_src = ranges.normalize(need.src)
        needed_dst = ranges.normalize(need.dst)
        needed_ports = ranges.normalize(need.ports)
        if protos is None:
            needed = ", ".join({6: "tcp", 17: "udp"}.get(p, str(p)) for p in sorted(need.protos))
            reasons.append(_("any protocol (needed: {needed})").format(needed=needed))
        # an FQDN object reaches the addresses of its names: no wider than the named end
        match = ruleset.rule(uid).match
        if match.src_names is None:
            reasons += _wider("source", src or full, needed_src, family)
        if match.dst_names is None:
            reasons += _wider("destination", dst or full, needed_dst, family)
        ports = dport if dport is not None else ranges.PORTS
        extra = ranges.difference(ports, needed_ports)
        if extra:
            needed = ranges.describe_ports(needed_ports)
            text = (
                _("any port (needed: {needed})")
                if dport is None
                else _("ports {ports} (needed: {needed})")
            )
            reasons.append(text.format(ports=ranges.describe_ports(ports), needed=needed))
        if reasons:
            out.append(WideRule(RuleRef.of(ruleset.rule(uid)), tuple(reasons), tuple(need.flows)))
    return WideRules(out, bounded)


def _order(ruleset: Ruleset, uid: int) -> tuple[str, int]:
    origin = ruleset.rule(uid).origin
    return origin.file, origin.line or origin.position


def _wider(what: str, have: Ivs, needed: Ivs, family: int) -> list[str]:
    if not needed or ranges.is_subset(have, needed):
        return []
    shown = ranges.describe_addresses(have, family)
    wanted = ranges.describe_addresses(needed, family)
    if len(wanted) > 80:
        wanted = wanted[:77] + "..."
    text = (
        _("source {addresses} (needed: {needed})")
        if what == "source"
        else _("destination {addresses} (needed: {needed})")
    )
    return [text.format(addresses=addresses_text(shown), needed=wanted)]


def _reach(
    ruleset: Ruleset, trace: tuple[int, ...], family: int, interfaces: InterfaceMap | None
) -> tuple[Ivs | None, Ivs | None, Ivs | None, frozenset[int] | None] | None:
    """The match of the deciding rule narrowed by every jump leading to it (requests)."""
    src: Ivs | None = None
    dst: Ivs | None = None
    dport: Ivs | None = None
    protos: frozenset[int] | None = None
    for uid in trace:
        rule = ruleset.rule(uid)
        if rule.action.kind == "return":
            continue
        cube = rule.match.cube(False)
        if cube is None:
            return None
        src = _narrow(src, cube[0])
        dst = _narrow(dst, cube[1])
        if interfaces is not None:
            # an interface whose addresses the rule does not meet (a rule on published,
            # pre-NAT addresses) narrows nothing
            if rule.match.iif is not None:
                src = _narrow(src, interfaces.addresses_of(rule.match.iif, family)) or src
            if rule.match.oif is not None:
                dst = _narrow(dst, interfaces.addresses_of(rule.match.oif, family)) or dst
        dport = _narrow(dport, cube[3])
        if rule.match.protos is not None:
            protos = rule.match.protos if protos is None else protos & rule.match.protos
    return src, dst, dport, protos


def _exact(
    walker: Walker,
    uid: int,
    need: Served,
    src: Ivs,
    dst: Ivs,
    dport: Ivs | None,
    budget: Steps,
) -> tuple[Ivs, Ivs] | None:
    """(sources, destinations) of the packets within the first bound that the rule itself
    accepts, walked in each context of the flows it decided, on their ports (the port
    question is answered by the bound); None when the walk splits too finely (past
    ``MAX_REACH_STEPS`` or what is left of ``budget``, which it spends)."""
    allowed = min(MAX_REACH_STEPS, budget.left)
    if allowed <= 0:
        return None
    ports = ranges.normalize(need.ports)
    if dport is not None:
        ports = ranges.intersect(ports, dport) or ports
    sports = ranges.normalize(need.sports) or ranges.PORTS
    region = Region(src, dst, sports, ports)
    found_src: list[tuple[int, int]] = []
    found_dst: list[tuple[int, int]] = []
    with walker.bounded(allowed) as steps:
        try:
            walks = [evaluate_path(walker, path, ctx, region) for path, ctx in need.contexts]
        except WalkTooFine:
            return None
        finally:
            budget.left -= allowed - max(steps.left, 0)
    if sum(len(walked) for walked in walks) > MAX_REACH_PIECES:
        return None
    for piece, result in (item for walked in walks for item in walked):
        decider = result.decider
        if (
            result.verdict == "accept"
            and decider is not None
            and decider.outcome.rule == uid
            and decider.end == "accept"
        ):
            found_src.extend(piece.src)
            found_dst.extend(piece.dst)
    return ranges.normalize(found_src), ranges.normalize(found_dst)


def _minus_earlier(
    ruleset: Ruleset,
    uid: int,
    family: int,
    src: Ivs | None,
    dst: Ivs | None,
    dport: Ivs | None,
    protos: frozenset[int] | None,
) -> tuple[Ivs | None, Ivs | None]:
    """The reach without the addresses earlier rules of the same chain take whole: an
    earlier rule that ends the walk, evaluated in full and covering the reach on the
    other axes (a Cisco-like ``deny internal`` before ``permit any``), takes its own
    sources (or destinations) out of it."""
    rule = ruleset.rule(uid)
    chain = ruleset.chains.get(f"{rule.origin.table}/{rule.origin.chain}")
    if chain is None:
        return src, dst
    full = ranges.ALL_ADDRESSES[family]
    enders = _enders(ruleset, chain.key)
    for index in _candidates(ruleset, chain.key, _stop(ruleset, chain.key, rule), src, dst):
        earlier = enders[index]
        m = earlier.match
        if m.protos is not None and (protos is None or not protos <= m.protos):
            continue
        if m.dport is not None and (dport is None or not ranges.is_subset(dport, m.dport)):
            continue
        covers_src = m.src is None or (src is not None and ranges.is_subset(src, m.src))
        covers_dst = m.dst is None or (dst is not None and ranges.is_subset(dst, m.dst))
        if not (covers_src or covers_dst) or not _plain(m, rule, family):
            continue
        if covers_dst and m.src is not None:
            src = ranges.difference(src or full, m.src) or src
        if covers_src and m.dst is not None:
            dst = ranges.difference(dst or full, m.dst) or dst
    return src, dst


def _enders(ruleset: Ruleset, key: str) -> list[Rule]:
    """The rules of a chain that end the walk (accept, drop, reject), once per ruleset."""
    cache: dict[str, list[Rule]] = ruleset.__dict__.setdefault("_enders", {})
    found = cache.get(key)
    if found is None:
        kinds = ("accept", "drop", "reject")
        found = cache[key] = [r for r in ruleset.chains[key].rules if r.action.kind in kinds]
    return found


def _stop(ruleset: Ruleset, key: str, rule: Rule) -> int:
    """The index of the first ender of the chain that is ``rule`` or not earlier than it."""
    cache: dict[str, tuple[list[int], dict[int, int], bool]] = ruleset.__dict__.setdefault(
        "_ender_positions", {}
    )
    enders = _enders(ruleset, key)
    found = cache.get(key)
    if found is None:
        positions = [earlier.origin.position for earlier in enders]
        ordered = positions == sorted(positions)
        found = cache[key] = (positions, {r.uid: i for i, r in enumerate(enders)}, ordered)
    positions, by_uid, ordered = found
    position = rule.origin.position
    if ordered:
        return min(bisect_left(positions, position), by_uid.get(rule.uid, len(enders)))
    for index, earlier in enumerate(enders):
        if earlier.uid == rule.uid or earlier.origin.position >= position:
            return index
    return len(enders)


def _candidates(
    ruleset: Ruleset, key: str, stop: int, src: Ivs | None, dst: Ivs | None
) -> list[int]:
    """The indexes (in chain order, below ``stop``) of the enders of a chain that can
    narrow ``src`` or ``dst`` in ``_minus_earlier``: those whose sources meet ``src``
    (or are any) and whose destinations meet ``dst`` (or are any). An ender narrows
    one side only when it covers the other and its own set on that side meets the
    reach; narrowing keeps a non-empty set inside itself, so what meets the narrowed
    reach met the first. With a side open or empty, every ender."""
    enders = _enders(ruleset, key)
    if not src or not dst:
        return list(range(stop))
    cache: dict[str, tuple[_AxisIndex, _AxisIndex]] = ruleset.__dict__.setdefault(
        "_ender_index", {}
    )
    index = cache.get(key)
    if index is None:
        index = cache[key] = (
            _AxisIndex([rule.match.src for rule in enders]),
            _AxisIndex([rule.match.dst for rule in enders]),
        )
    return sorted(p for p in index[0].meeting(src) & index[1].meeting(dst) if p < stop)


class _AxisIndex:
    """Which of a list of interval sets (the enders' sources or destinations, the planned
    flows' regions on one axis) meet a set of addresses, without trying each.

    Intervals are kept by size class (the bit length of their span), each class sorted
    by its low ends: an interval of a class that meets ``low..high`` starts in
    ``low - span..high``, found by bisection. A set that is None (any) meets every set."""

    def __init__(self, sets: list[Ivs | None]) -> None:
        self.anywhere: list[int] = []
        sized: dict[int, list[tuple[int, int, int]]] = {}
        for position, ivs in enumerate(sets):
            if ivs is None:
                self.anywhere.append(position)
                continue
            for low, high in ivs:
                sized.setdefault((high - low).bit_length(), []).append((low, high, position))
        self.classes: list[tuple[int, list[int], list[tuple[int, int, int]]]] = []
        for size, items in sorted(sized.items()):
            items.sort()
            self.classes.append(((1 << size) - 1, [low for low, _, _ in items], items))

    def meeting(self, ivs: Ivs) -> set[int]:
        found = set(self.anywhere)
        for low, high in ivs:
            for span, lows, items in self.classes:
                start = bisect_left(lows, low - span)
                stop = bisect_right(lows, high)
                found.update(p for _, top, p in items[start:stop] if top >= low)
        return found


def _plain(match: Match, rule: Rule, family: int) -> bool:
    """Conditions other than addresses, protocol and port that hold for every packet the
    rule takes (so that the earlier rule surely takes those of its addresses)."""
    return (
        match.never is None
        and not match.opaque
        and match.src_names is None
        and match.dst_names is None
        and match.family in (None, family)
        and match.sport is None
        and not match.tcp_flags
        and match.states in (None, rule.match.states)
        and match.iif in (None, rule.match.iif)
        and match.oif in (None, rule.match.oif)
        and match.dnat in (None, rule.match.dnat)
        and match.orig_src is None
        and match.orig_dst is None
        and match.direction is None
        and match.local_src is None
        and match.local_dst is None
    )


def _narrow(have: Ivs | None, more: Ivs | None) -> Ivs | None:
    if more is None:
        return have
    if have is None:
        return more
    return ranges.intersect(have, more)


def unused_accepts(
    ruleset: Ruleset,
    path: Path,
    families: set[int],
    used: set[int],
    queries: list[tuple[Ctx, Region]] | None = None,
) -> list[RuleRef]:
    """Accept rules on the audited path that can take new connections but decided no
    planned flow, and would take none of the planned flows' packets (``queries``) if
    they were reached: a rule a planned flow needs but earlier rules shadow is reported
    as shadowed (``shadow.py``), not as needed by no flow."""
    chains: dict[str, None] = {}
    for family in sorted(families):
        for base in base_chains(ruleset, path, family):
            if base.kind != "filter":
                continue
            for key in reachable(ruleset, base.chain):
                chains.setdefault(key, None)
    seen: dict[tuple[str, int | None, str, int], None] = {}
    # a source rule expanded into several IR rules is needed when any of them is
    for key in chains:
        for rule in ruleset.chains[key].rules:
            if rule.uid in used:
                origin = rule.origin
                seen[(origin.file, origin.line, origin.chain, origin.position)] = None
    out: list[RuleRef] = []
    planned = _Planned(queries or [])
    for key in chains:
        for rule in ruleset.chains[key].rules:
            if not _accepts_new(rule) or rule.uid in used:
                continue
            origin = rule.origin
            ident = (origin.file, origin.line, origin.chain, origin.position)
            if ident in seen:
                continue
            seen[ident] = None
            if not planned.taken_by(rule):
                out.append(RuleRef.of(rule))
    return out


class _Planned:
    """The planned flows' packets (queries) grouped by context, each context's regions
    indexed by destination and by source (built at the first question): which planned
    packets a rule's own match may take, without trying every query."""

    def __init__(self, queries: list[tuple[Ctx, Region]]) -> None:
        grouped: dict[Ctx, list[Region]] = {}
        for ctx, region in queries:
            grouped.setdefault(ctx, []).append(region)
        self.groups = list(grouped.items())
        self.indexes: dict[int, tuple[_AxisIndex, _AxisIndex]] = {}

    def taken_by(self, rule: Rule) -> bool:
        """Whether the rule's own match may take packets of some planned flow."""
        for number, (ctx, regions) in enumerate(self.groups):
            if applicability(rule.match, ctx) == "no":
                continue
            cube = rule.match.cube(ctx.reply)
            if cube is None:
                continue
            candidates: Iterable[int]
            if cube[0] is not None and cube[1] is not None:
                by_src, by_dst = self._index(number)
                candidates = by_src.meeting(cube[0]) & by_dst.meeting(cube[1])
            elif cube[1] is not None:
                candidates = self._index(number)[1].meeting(cube[1])
            elif cube[0] is not None:
                candidates = self._index(number)[0].meeting(cube[0])
            else:
                candidates = range(len(regions))
            if any(intersects(regions[i], cube) for i in candidates):
                return True
        return False

    def _index(self, number: int) -> tuple[_AxisIndex, _AxisIndex]:
        found = self.indexes.get(number)
        if found is None:
            regions = self.groups[number][1]
            found = self.indexes[number] = (
                _AxisIndex([region.src for region in regions]),
                _AxisIndex([region.dst for region in regions]),
            )
        return found


def _accepts_new(rule: Rule) -> bool:
    match = rule.match
    if rule.action.kind != "accept" or match.never is not None:
        return False
    if match.states is not None and "new" not in match.states:
        return False
    return match.direction != "reply"
