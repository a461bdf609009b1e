"""The audit's evaluator against the plain first-match interpreter, on one machine, in
one run, with identical results asserted.

    python benchmarks/audit_vs_naive.py [--flows 10000] [--rules 10000] [--seed 1]

1. The real ~5,500-rule dump of the chair for Network Architectures and Services
   (iptables-save, 2016-06-27) with an interface map derived from its ``ranges_*``
   chains: FLOWS flows with random addresses inside its networks (and some outside),
   random common service ports, TCP and UDP.
2. A flat synthetic FORWARD chain of RULES random rules (prefixes, ports, accept/drop),
   FLOWS random flows.

Each flow is evaluated as the audit does: the request (state NEW, every client source
port 1024-65535) and, where it passes, the reply. Three evaluators: the plain one
(``naive.py``, flow by flow), the compiled engine flow by flow (``engine.py``), and the
batch evaluator the audit uses (``batch.py``: every flow at once). The results (cells,
verdicts, deciding rules, traces, assumptions) must be identical; the times include
compiling the chains. The ratio is plain / batch. Needs the shared rulesets next to the repository
(``../shared/data/rulesets``), or --rulesets DIR.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

from flowmatrix.audit import ranges
from flowmatrix.audit.batch import evaluate_flows
from flowmatrix.audit.engine import CompiledWalker
from flowmatrix.audit.ipassmt import InterfaceMap, parse_ipassmt
from flowmatrix.audit.ir import Action, BaseChain, Chain, Match, Origin, Rule, Ruleset
from flowmatrix.audit.naive import NaiveWalker
from flowmatrix.audit.packet import Ctx, Region
from flowmatrix.audit.parse_iptables import parse_iptables
from flowmatrix.audit.verdict import Cell, evaluate_flow, request_context
from flowmatrix.audit.walk import Walker

CHAIR = "configs_chair_for_Network_Architectures_and_Services_iptables-save-2016-06-27_16-29-01"
PORTS = [
    22,
    25,
    53,
    80,
    110,
    123,
    143,
    389,
    443,
    465,
    587,
    636,
    993,
    1433,
    1494,
    2598,
    3268,
    3306,
    3389,
    4443,
    5223,
    5228,
    8080,
    8443,
]
Query = tuple[int, int, int, int, str | None, str | None]


def derive_ipassmt(text: str) -> InterfaceMap:
    """``-A FORWARD -i IF -j ranges_X`` and ``-A ranges_X -s NET -j RETURN``: IF = [NET...];
    the uplink (eth1.110, where NOTFROMHERE guards) takes everything else."""
    jumps = {m[2]: m[1] for m in re.finditer(r"^-A FORWARD -i (\S+) -j (ranges_\S+)$", text, re.M)}
    nets: dict[str, list[str]] = {}
    for found in re.finditer(r"^-A (ranges_\S+) -s (\S+) -j RETURN$", text, re.M):
        nets.setdefault(jumps[found[1]], []).append(found[2])
    lines = [f"{name} = [{', '.join(items)}]" for name, items in nets.items()]
    lines.append("eth1.110 = [0.0.0.0/0]")
    return parse_ipassmt("\n".join(lines), "derived from ranges_* chains")


def chair_queries(
    ruleset_text: str, count: int, rng: random.Random
) -> tuple[InterfaceMap, list[Query]]:
    ipassmt = derive_ipassmt(ruleset_text)
    prefixes = [iv for family, iv, _ in ipassmt.entries if family == 4 and iv[1] - iv[0] < 1 << 24]

    def address() -> int:
        if rng.random() < 0.3:
            return rng.randrange(1 << 32)
        low, high = rng.choice(prefixes)
        return rng.randint(low, high)

    queries = []
    for _ in range(count):
        src, dst = address(), address()
        queries.append(
            (
                src,
                dst,
                rng.choice((6, 6, 6, 17)),
                rng.choice(PORTS),
                ipassmt.interface_of(4, src),
                ipassmt.interface_of(4, dst),
            )
        )
    return ipassmt, queries


def synthetic(rule_count: int, flow_count: int, rng: random.Random) -> tuple[Ruleset, list[Query]]:
    """A flat FORWARD chain: random prefixes inside 10.0.0.0/8, ports, accept or drop."""
    base = ranges.parse_prefix("10.0.0.0/8")[1][0]

    def prefix() -> tuple[tuple[int, int], ...]:
        length = rng.choice((16, 20, 24, 24, 28, 32, 32))
        start = base + (rng.randrange(1 << 24) >> (32 - length) << (32 - length))
        return ((start, start + (1 << (32 - length)) - 1),)

    rules = []
    for index in range(rule_count):
        proto = rng.choice((6, 17, None))
        dport = None
        if proto is not None and rng.random() < 0.8:
            low = rng.choice(PORTS) if rng.random() < 0.7 else rng.randint(1, 60000)
            dport = ((low, low + (0 if rng.random() < 0.8 else rng.randint(1, 500))),)
        # every rule names a source or a destination network (or both), as real rules
        # do: a packet walks deep into the chain before one of them takes it
        src, dst = prefix(), prefix()
        if rng.random() < 0.5:
            src, dst = (src, None) if rng.random() < 0.5 else (None, dst)
        match = Match(
            family=4,
            src=src,
            dst=dst,
            protos=None if proto is None else frozenset({proto}),
            dport=dport,
        )
        kind = "accept" if rng.random() < 0.6 else "drop"
        origin = Origin("synthetic", index + 1, f"rule {index + 1}", "filter", "FORWARD", index + 1)
        rules.append(Rule(index, match, Action(kind, kind.upper()), origin))  # type: ignore[arg-type]
    established = Rule(
        rule_count,
        Match(states=frozenset({"established", "related"})),
        Action("accept", "ACCEPT"),
        Origin("synthetic", 0, "established", "filter", "FORWARD", 0),
    )
    chain = Chain("filter/FORWARD", "filter", "FORWARD", (established, *rules))
    base_chain = BaseChain("filter/FORWARD", "forward", 0, "filter", "drop", frozenset({4}), 0)
    ruleset = Ruleset("iptables", "synthetic", {chain.key: chain}, (base_chain,), frozenset({4}))
    queries = []
    for _ in range(flow_count):
        queries.append(
            (
                base + rng.randrange(1 << 24),
                base + rng.randrange(1 << 24),
                rng.choice((6, 17)),
                rng.choice(PORTS),
                "eth0",
                "eth1",
            )
        )
    return ruleset, queries


def _items(queries: list[Query]) -> list[tuple[Ctx, Region]]:
    return [
        (
            request_context(4, proto, iif, oif, "forward"),
            Region(ranges.point(src), ranges.point(dst), ((1024, 65535),), ranges.point(port)),
        )
        for src, dst, proto, port, iif, oif in queries
    ]


def run(walker: Walker, items: list[tuple[Ctx, Region]]) -> list[list[Cell]]:
    """Every flow on its own: request and reply, the cells in order."""
    return [evaluate_flow(walker, "forward", ctx, region) for ctx, region in items]


def run_batch(ruleset: Ruleset, items: list[tuple[Ctx, Region]]) -> list[list[Cell]]:
    """Every flow at once (``audit/batch.py``), as the audit does."""
    return evaluate_flows(CompiledWalker(ruleset), "forward", items)


def compare(name: str, ruleset: Ruleset, queries: list[Query], target: float) -> bool:
    items = _items(queries)  # the same queries for the three, built once, not timed
    start = time.perf_counter()
    batch = run_batch(ruleset, items)
    batch_time = time.perf_counter() - start
    start = time.perf_counter()
    fast = run(CompiledWalker(ruleset), items)
    fast_time = time.perf_counter() - start
    start = time.perf_counter()
    plain = run(NaiveWalker(ruleset), items)
    plain_time = time.perf_counter() - start
    # the same cells: regions, verdicts, deciding rules, traces and assumptions
    assert fast == plain, f"{name}: the compiled walk and the plain one disagree"
    assert batch == plain, f"{name}: the batch and the plain walk disagree"
    ratio = plain_time / batch_time
    counts: dict[str, int] = {}
    for cells in plain:
        verdict = {c.status for c in cells}
        key = verdict.pop() if len(verdict) == 1 else "split"
        counts[key] = counts.get(key, 0) + 1
    print(f"{name}: {len(queries)} flows, {len(ruleset.rules)} rules")
    print(f"  verdicts (identical in all three): {counts}")
    print(
        f"  plain first-match: {plain_time:.2f} s   compiled, flow by flow: {fast_time:.3f} s "
        f"({plain_time / fast_time:.1f}x)   batch: {batch_time:.3f} s   "
        f"ratio: {ratio:.1f}x (target {target:.0f}x)"
    )
    return ratio >= target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parent
    parser.add_argument(
        "--rulesets", type=Path, default=here.parent.parent / "shared" / "data" / "rulesets"
    )
    parser.add_argument("--flows", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    path = args.rulesets / "net-network" / CHAIR
    if not path.exists():
        print(f"missing {path}: give --rulesets", file=sys.stderr)
        return 2
    text = path.read_text()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        ruleset = parse_iptables(text, str(path))
        times.append(time.perf_counter() - start)
    print(
        f"parse {CHAIR}: {len(ruleset.rules)} rules in {len(ruleset.chains)} chains, "
        f"best of 5 {min(times) * 1000:.0f} ms (target < 500 ms)"
    )
    rng = random.Random(args.seed)
    _, queries = chair_queries(text, args.flows, rng)
    ok = compare("real dump", ruleset, queries, 20)
    synthetic_set, synthetic_queries = synthetic(args.rules, args.flows, rng)
    ok = compare("flat synthetic chain", synthetic_set, synthetic_queries, 100) and ok
    ok = ok and min(times) < 0.5
    print("all targets met" if ok else "some target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
