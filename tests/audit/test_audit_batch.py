"""The batch evaluator (every flow at once, one bit per flow) against the walk of each
flow on its own: the same cells, verdicts, deciding rules, traces and assumptions.

Random rulesets (chains, jumps, gotos, returns, notrack, interfaces, conditions the
engine cannot evaluate, two base chains) and random lists of flows: points, which the
batch evaluates, and ranges that some rule splits, which it hands to the walk.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.test_audit_engine import ADDR, IFACES, PORT, PORTS, rulesets
from flowmatrix.api import load_plan
from flowmatrix.audit import ranges
from flowmatrix.audit.batch import _Axis, evaluate_flows
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ipassmt import InterfaceMap, parse_ipassmt
from flowmatrix.audit.judging import audit_plan
from flowmatrix.audit.naive import NaiveWalker
from flowmatrix.audit.packet import Ctx, Region
from flowmatrix.audit.parse_iptables import parse_iptables
from flowmatrix.audit.verdict import evaluate_flow, refine, request_context


def _axis(limit: int, wide: Any) -> Any:
    point = st.integers(0, limit - 1).map(ranges.point)
    return st.one_of(point, point, wide, st.just(((0, limit - 1),)))


@st.composite
def flows(draw: Any) -> tuple[Ctx, Region]:
    proto = draw(st.sampled_from([6, 17]))
    iif = draw(st.sampled_from([None, *IFACES]))
    oif = draw(st.sampled_from([None, *IFACES]))
    ctx = request_context(4, proto, iif, oif, "forward")
    region = Region(
        draw(_axis(ADDR, st.just(((3, 9),)))),
        draw(_axis(ADDR, st.just(((20, 40),)))),
        draw(st.one_of(st.just(((8, PORT - 1),)), _axis(PORT, PORTS))),
        draw(_axis(PORT, PORTS)),
    )
    return ctx, region


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.lists(flows(), min_size=1, max_size=8))
def test_batch_equals_each_flow(ruleset: Any, queries: list[tuple[Ctx, Region]]) -> None:
    expected = [evaluate_flow(NaiveWalker(ruleset), "forward", c, r) for c, r in queries]
    walker = CompiledWalker(ruleset)
    assert evaluate_flows(walker, "forward", queries) == expected
    # the engine's memo, filled by the batch's fallbacks, stays sound
    assert evaluate_flows(walker, "forward", queries[::-1]) == expected[::-1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.lists(flows(), min_size=1, max_size=6))
def test_batch_on_other_paths(ruleset: Any, queries: list[tuple[Ctx, Region]]) -> None:
    """Input and output paths: no base chain of the random rulesets sits there."""
    for path in ("input", "output"):
        items = [
            (request_context(4, c.proto, c.iif, c.oif, path), r)  # type: ignore[arg-type]
            for c, r in queries
        ]
        walker = CompiledWalker(ruleset)
        expected = [evaluate_flow(walker, path, c, r) for c, r in items]  # type: ignore[arg-type]
        assert evaluate_flows(CompiledWalker(ruleset), path, items) == expected  # type: ignore[arg-type]


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "rulesets"
CHAIR = "configs_chair_for_Network_Architectures_and_Services_iptables-save-2016-06-27_16-29-01"


@pytest.fixture(scope="module")
def chair() -> tuple[Any, InterfaceMap]:
    path = SHARED / "net-network" / CHAIR
    if not path.exists():
        pytest.skip(f"real rulesets not found at {SHARED}")
    text = path.read_text()
    # FORWARD -i IF -j ranges_X, ranges_X -s NET -j RETURN: IF = [NET, ...]; uplink: the rest
    jumps = {m[2]: m[1] for m in re.finditer(r"^-A FORWARD -i (\S+) -j (ranges_\S+)$", text, re.M)}
    nets: dict[str, list[str]] = {}
    for found in re.finditer(r"^-A (ranges_\S+) -s (\S+) -j RETURN$", text, re.M):
        nets.setdefault(jumps[found[1]], []).append(found[2])
    lines = [f"{name} = [{', '.join(items)}]" for name, items in nets.items()]
    lines.append("eth1.110 = [0.0.0.0/0]")
    return parse_iptables(text, str(path)), parse_ipassmt("\n".join(lines), "ranges_* chains")


def test_batch_on_the_chair_dump(chair: Any) -> None:
    """The real dump: per-host chains, -m recent and -m mac everywhere, notrack in raw."""
    ruleset, ipassmt = chair
    assert isinstance(ipassmt, InterfaceMap)
    rng = random.Random(7)
    prefixes = [iv for family, iv, _ in ipassmt.entries if family == 4 and iv[1] - iv[0] < 1 << 24]
    items = []
    for _ in range(400):
        ends = [
            rng.randrange(1 << 32) if rng.random() < 0.3 else rng.randint(*rng.choice(prefixes))
            for _ in range(2)
        ]
        port = rng.choice((22, 25, 53, 80, 123, 443, 993, 3306, 5060, 8080))
        proto = rng.choice((6, 17))
        iif = ipassmt.interface_of(4, ends[0])
        oif = ipassmt.interface_of(4, ends[1])
        ctx = request_context(4, proto, iif, oif, "forward")
        sports = rng.choice((((1024, 65535),), ((32768, 60999),), ranges.point(5060)))
        region = Region(ranges.point(ends[0]), ranges.point(ends[1]), sports, ranges.point(port))
        items.append((ctx, region))
    walker = CompiledWalker(ruleset)
    expected = [evaluate_flow(walker, "forward", c, r) for c, r in items]
    assert evaluate_flows(CompiledWalker(ruleset), "forward", items) == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 300), min_size=1, max_size=400),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300)), min_size=1, max_size=3),
)
def test_axis_ranges(lows: list[int], pairs: list[tuple[int, int]]) -> None:
    """The queries of a range of values, through the block unions: those, and only those."""
    ivs = ranges.normalize((min(p), max(p)) for p in pairs)
    expected = sum(1 << i for i, value in enumerate(lows) if ranges.contains(ivs, value))
    assert _Axis(lows).inside(ivs) == expected


@pytest.mark.parametrize(
    "rule",
    [
        "-A FORWARD -m mac --mac-source 00:11:22:33:44:{n:02x} -j DROP",  # assumed false: go on
        "-A FORWARD -j check",  # back from a chain: go on
    ],
)
def test_a_chain_longer_than_the_recursion_limit_is_walked(rule: str) -> None:
    lines = ["*filter", ":FORWARD DROP [0:0]", ":check - [0:0]"]
    lines += ["-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT"]
    lines += [rule.format(n=n % 256) for n in range(1200)]
    lines += ["-A FORWARD -p tcp --dport 443 -j ACCEPT", "-A check -s 192.0.2.1 -j RETURN"]
    lines += ["COMMIT", ""]
    report = audit_plan(
        load_plan(None), parse_iptables("\n".join(lines), "deep.rules"), firewall="fw-back"
    )
    statuses = {f.status for f in report.flows if f.port == 443}
    assert statuses == ({"depends"} if "mac" in rule else {"allowed"})


Box = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]
_span = st.tuples(st.integers(0, 40), st.integers(0, 8)).map(lambda p: (p[0], p[0] + p[1]))


@settings(max_examples=80, deadline=None)
@given(
    boxes=st.lists(st.tuples(_span, _span, _span, _span), min_size=1, max_size=12),
    points=st.lists(st.tuples(*[st.integers(0, 50)] * 4), min_size=1, max_size=30),
)
def test_refine_gives_each_point_the_labels_of_the_items_covering_it(
    boxes: list[Box], points: list[tuple[int, int, int, int]]
) -> None:
    """Boxes disjoint along any one dimension (a reply split by destination, a port
    range cut in two) are kept apart; overlapping ones are cut into disjoint cells."""
    items = [(Region(*((span,) for span in box)), label) for label, box in enumerate(boxes)]
    cells = refine(items)
    for at, (a, _) in enumerate(cells):  # disjoint
        for c, _ in cells[at + 1 :]:
            assert a.intersect(c) is None
    for point in points:
        want = sorted(label for region, label in items if _inside(region, point))
        have = [sorted(labels) for region, labels in cells if _inside(region, point)]
        assert have == ([want] if want else [])


def test_refine_keeps_apart_what_only_one_dimension_separates() -> None:
    """Pieces sharing sources but split by destination, then by port, stay as they are."""
    items = [
        (Region(((0, 9),), ((d, d),), ((0, 0),), ((p, p),)), (d, p))
        for d in range(30)
        for p in range(30)
    ]
    cells = refine(items)
    assert sorted((region, labels) for region, labels in cells) == sorted(
        (region, [label]) for region, label in items
    )


def _inside(region: Region, point: tuple[int, int, int, int]) -> bool:
    return all(
        any(lo <= value <= hi for lo, hi in ivs)
        for ivs, value in zip(region.dims(), point, strict=True)
    )
