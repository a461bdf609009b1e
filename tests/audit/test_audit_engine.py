"""The compiled engine against the plain interpreter, and both against a per-packet one.

Random rulesets (chains, jumps, gotos, returns, notrack, interfaces, conditions the
engine cannot evaluate) and random regions: the compiled engine must give exactly what
the plain first-match interpreter gives; and for any single packet of the region, the
fate found must be the one a direct packet-by-packet interpreter (written here, without
regions) finds.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmatrix.audit import ranges
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ir import Action, BaseChain, Chain, IfaceMatch, Match, Origin, Rule, Ruleset
from flowmatrix.audit.naive import NaiveWalker
from flowmatrix.audit.packet import SYN, SYN_ACK, Ctx, Region, names_status
from flowmatrix.audit.parse_iptables import parse_iptables
from flowmatrix.audit.pipeline import evaluate_path
from flowmatrix.audit.walk import WalkTooFine

ADDR = 64  # a small address space makes overlaps (and splits) frequent
PORT = 32
IFACES = ["eth0", "eth1", "eth2"]


def ivs_strategy(limit: int) -> st.SearchStrategy[Any]:
    pair = st.tuples(st.integers(0, limit - 1), st.integers(0, limit - 1)).map(
        lambda p: (min(p), max(p))
    )
    return st.lists(pair, min_size=1, max_size=3).map(ranges.normalize)


ADDRS = ivs_strategy(ADDR)
PORTS = ivs_strategy(PORT)
MAYBE_ADDRS = st.none() | ADDRS
MAYBE_PORTS = st.none() | PORTS
PROTOS = st.none() | st.sampled_from([frozenset({6}), frozenset({17}), frozenset({6, 17})])
STATES = st.none() | st.sampled_from(
    [
        frozenset({"new"}),
        frozenset({"established", "related"}),
        frozenset({"untracked"}),
        frozenset({"new", "untracked"}),
    ]
)
IIFS = st.none() | st.sampled_from(
    [IfaceMatch.of([n], negated=neg) for n in [*IFACES, "eth+"] for neg in (False, True)]
)
OIFS = st.none() | st.sampled_from([IfaceMatch.of([n]) for n in IFACES])
OPAQUE = st.sampled_from([(), (), (), ("-m recent --rcheck",)])


@st.composite
def matches(draw: Any) -> Match:
    src = draw(MAYBE_ADDRS)
    dst = draw(MAYBE_ADDRS)
    protos = draw(PROTOS)
    sport = draw(MAYBE_PORTS) if protos is not None else None
    dport = draw(MAYBE_PORTS) if protos is not None else None
    return Match(
        family=4 if (src or dst) else None,
        src=src,
        dst=dst,
        protos=protos,
        sport=sport,
        dport=dport,
        states=draw(STATES),
        iif=draw(IIFS),
        oif=draw(OIFS),
        opaque=draw(OPAQUE),
    )


MATCHES = matches()


@st.composite
def rulesets(draw: Any) -> Ruleset:
    count = draw(st.integers(1, 4))
    chains: dict[str, Chain] = {}
    uid = 0
    names = [f"filter/C{i}" for i in range(count)]
    for index, key in enumerate(names):
        rules = []
        for position in range(draw(st.integers(0, 8))):
            later = names[index + 1 :]
            kinds = ["accept", "drop", "reject", "continue", "return", "notrack"]
            if later:
                kinds += ["jump", "jump", "goto"]
            kind = draw(st.sampled_from(kinds))
            target = draw(st.sampled_from(later)) if kind in ("jump", "goto") else None
            origin = Origin("r", position + 1, f"rule {uid}", "filter", key[7:], position + 1)
            rules.append(Rule(uid, draw(MATCHES), Action(kind, target), origin))  # type: ignore[arg-type]
            uid += 1
        chains[key] = Chain(key, "filter", key[7:], tuple(rules))
    policy = draw(st.sampled_from(["accept", "drop"]))
    bases = [BaseChain(names[0], "forward", 0, "filter", policy, frozenset({4}), 0)]
    if count > 1 and draw(st.booleans()):
        # a second base chain on the same hook, later priority, reusing a user chain
        bases.append(BaseChain(names[-1], "forward", 10, "filter", "accept", frozenset({4}), 1))
    return Ruleset("iptables", "r", chains, tuple(bases), frozenset({4}))


@st.composite
def queries(draw: Any) -> tuple[Ctx, Region]:
    proto = draw(st.sampled_from([6, 17]))
    reply = draw(st.booleans())
    ctx = Ctx(
        4,
        proto,
        "established" if reply else "new",
        (SYN_ACK if reply else SYN) if proto == 6 else None,
        draw(st.sampled_from([None, *IFACES])),
        draw(st.sampled_from([None, *IFACES])),
        reply,
    )
    region = Region(draw(ADDRS), draw(ADDRS), draw(PORTS), draw(PORTS))
    return ctx, region


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), queries())
def test_compiled_equals_plain(ruleset: Ruleset, query: tuple[Ctx, Region]) -> None:
    ctx, region = query
    plain = evaluate_path(NaiveWalker(ruleset), "forward", ctx, region)
    compiled = evaluate_path(CompiledWalker(ruleset), "forward", ctx, region)
    assert compiled == plain


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), queries())
def test_compiled_memo_is_sound_across_queries(ruleset: Ruleset, query: tuple[Ctx, Region]) -> None:
    """One engine for many regions (the memo shared), the same as fresh plain walks."""
    ctx, region = query
    walker = CompiledWalker(ruleset)
    points = [
        Region(((a, a),), ((b, b),), region.sport, region.dport)
        for a, b in ((region.src[0][0], region.dst[0][0]), (region.src[-1][1], region.dst[-1][1]))
    ]
    for item in [region, *points, region]:
        assert evaluate_path(walker, "forward", ctx, item) == evaluate_path(
            NaiveWalker(ruleset), "forward", ctx, item
        )


# -- an independent packet-by-packet interpreter ------------------------------------------------


def _holds(match: Match, ctx: Ctx, packet: tuple[int, int, int, int]) -> bool:
    """Every condition, for one packet; unevaluated conditions are taken as false."""
    if match.opaque or match.never:
        return False
    if match.protos is not None and ctx.proto not in match.protos:
        return False
    if match.states is not None and ctx.state not in match.states:
        return False
    for want, have in ((match.iif, ctx.iif), (match.oif, ctx.oif)):
        if want is not None and (have is None or not want.matches(have)):
            return False
    for ivs, value in zip((match.src, match.dst, match.sport, match.dport), packet, strict=True):
        if ivs is not None and not ranges.contains(ivs, value):
            return False
    return True


def _chain(ruleset: Ruleset, key: str, ctx: Ctx, packet: Any) -> tuple[str, int | None, Ctx]:
    """(end, deciding uid, context after) for one packet; end 'return' at the chain's end."""
    for rule in ruleset.chains[key].rules:
        if not _holds(rule.match, ctx, packet):
            continue
        kind = rule.action.kind
        if kind in ("accept", "drop", "reject", "return"):
            return kind, rule.uid, ctx
        if kind == "notrack":
            ctx = ctx.untracked()
        elif kind in ("jump", "goto"):
            assert rule.action.target is not None
            end, uid, ctx = _chain(ruleset, rule.action.target, ctx, packet)
            if end != "return":
                return end, uid, ctx
            if kind == "goto":
                return "return", None, ctx
    return "return", None, ctx


def _packet_verdict(ruleset: Ruleset, ctx: Ctx, packet: Any) -> str:
    for base in sorted(ruleset.bases, key=lambda b: b.priority):
        end, _, ctx = _chain(ruleset, base.chain, ctx, packet)
        if end == "return":
            end = base.policy
        if end != "accept":
            return end
    return "accept"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), queries(), st.data())
def test_region_result_matches_each_packet(
    ruleset: Ruleset, query: tuple[Ctx, Region], data: Any
) -> None:
    ctx, region = query
    results = evaluate_path(CompiledWalker(ruleset), "forward", ctx, region)
    for _ in range(5):
        packet = tuple(
            data.draw(st.sampled_from(ivs)).__getitem__(0) + data.draw(st.integers(0, 3))
            for ivs in region
        )
        packet = tuple(
            value if ranges.contains(ivs, value) else ivs[0][0]
            for value, ivs in zip(packet, region, strict=True)
        )
        # the branch where every unevaluated condition is false
        found = [
            result.verdict
            for piece, result in results
            if all(ranges.contains(ivs, v) for ivs, v in zip(piece, packet, strict=True))
            and not any(holds for _, holds in result.assumptions)
        ]
        assert found == [_packet_verdict(ruleset, ctx, packet)], (packet, results)


def test_a_name_object_is_judged_through_the_names_it_serves() -> None:
    # served: every name of the end; another name: not served; some names, an end known
    # by address (None) or as any address (empty): depends on DNS
    want = frozenset({"fcm.googleapis.com", "*.example.net"})
    assert names_status(want, frozenset({"fcm.googleapis.com", "a.example.net"})) == "yes"
    assert names_status(want, frozenset({"rest.nexmo.com"})) == "no"
    assert names_status(want, frozenset({"rest.nexmo.com", "a.example.net"})) == "maybe"
    assert names_status(want, None) == "maybe"
    assert names_status(want, frozenset()) == "maybe"
    assert names_status(None, frozenset({"rest.nexmo.com"})) == "yes"


def test_a_bounded_walk_gives_up_and_the_bound_ends_with_it() -> None:
    """A question worth a bounded cost (a rule's exact reach) stops after that much work;
    the walker is whole afterwards: the same walk unbounded gives the full answer."""
    lines = ["*filter", ":FORWARD DROP [0:0]"]
    lines += [f"-A FORWARD -s 10.0.{n // 250}.{n % 250} -j ACCEPT" for n in range(600)]
    ruleset = parse_iptables("\n".join([*lines, "COMMIT", ""]), "hosts.rules")
    walker = CompiledWalker(ruleset)
    ctx = Ctx(4, 6, "new", SYN, "eth0", "eth1")
    everyone = ((0, 2**32 - 1),)
    region = Region(everyone, everyone, ((1, 65535),), ((443, 443),))
    with pytest.raises(WalkTooFine), walker.bounded(50):
        evaluate_path(walker, "forward", ctx, region)
    pieces = evaluate_path(walker, "forward", ctx, region)
    accepted = [piece for piece, result in pieces if result.verdict == "accept"]
    assert len(accepted) == 600 and len(pieces) > 600
    fresh = CompiledWalker(ruleset)
    with fresh.bounded(10_000):  # enough: the same answer
        assert evaluate_path(fresh, "forward", ctx, region) == pieces
