"""``flowmatrix audit`` of the real ~5,500-rule iptables dump as a whole process, fixes
included, against the plain first-match interpreter, in one run, with identical verdicts
asserted.

    python benchmarks/audit_vs_naive.py [--flows 10000] [--pairs 5] [--seed 1] [--engines]

The dump of the chair for Network Architectures and Services (iptables-save,
2016-06-27), with the interface map its ``ranges_*`` chains give (``--ipassmt``; uplink
``eth1.110`` for the rest). A site whose firewall ``fw`` is that router: a campus zone
of the dump's networks, 300 hosts at random addresses in them, 200 on the Internet,
about FLOWS flow ports both ways (one or two common service ports per flow, TCP and
UDP). flowmatrix side: ``flowmatrix audit SITE -F fw -r DUMP --ipassmt MAP -f json -o
OUT``, from exec to exit (reading the site and the dump, verdicts, a checked fix for
every blocked flow port, least privilege, dead rules, the JSON report). Peer: the same
verdicts in this process by the plain interpreter (``naive.py``, every rule in order,
flow by flow; reading the site and the dump included). A B A B over PAIRS pairs
(``harness.py``). Beside it, in-process and once: how much of the audit the fixes take.
Targets: ratio >= 20x; the audit with its fixes within 2x of the audit without them.

With ``--engines``, also the three evaluators in this process on random flows (the
request, state NEW, every client source port 1024-65535, and the reply where it
passes): the plain one, the compiled engine flow by flow (``engine.py``) and the batch
the audit uses (``batch.py``), on the dump and on a flat synthetic FORWARD chain of
RULES random rules; cells, verdicts, deciding rules, traces and assumptions must be
identical; times include compiling the chains; ratio plain / batch. Needs the shared
rulesets next to the repository (``../shared/data/rulesets``), or --rulesets DIR.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from audit_common import whole_against_plain
from harness import load_average

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
    return parse_ipassmt(ipassmt_text(text), "derived from ranges_* chains")


def ipassmt_text(text: str) -> str:
    """The interface map of the dump in the ``--ipassmt`` notation."""
    jumps = {m[2]: m[1] for m in re.finditer(r"^-A FORWARD -i (\S+) -j (ranges_\S+)$", text, re.M)}
    nets: dict[str, list[str]] = {}
    for found in re.finditer(r"^-A (ranges_\S+) -s (\S+) -j RETURN$", text, re.M):
        nets.setdefault(jumps[found[1]], []).append(found[2])
    lines = [f"{name} = [{', '.join(items)}]" for name, items in nets.items()]
    lines.append("eth1.110 = [0.0.0.0/0]")
    return "\n".join(lines) + "\n"


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


def chair_site(ipassmt: InterfaceMap, flow_count: int, rng: random.Random) -> str:
    """A site whose firewall 'fw' is the chair's router: a campus zone of the dump's
    networks, the Internet beyond; hosts at random addresses in each, flows both ways with
    one or two common service ports (about ``flow_count`` flow ports)."""
    prefixes = [iv for family, iv, _ in ipassmt.entries if family == 4 and iv[1] - iv[0] < 1 << 24]
    cidrs = sorted({c for iv in prefixes for c in ranges.to_cidrs((iv,), 4)})

    def inside() -> int:
        low, high = rng.choice(prefixes)
        return rng.randint(low, high)

    def outside() -> int:
        while True:
            address = rng.randrange(20 << 24, 60 << 24)
            if not any(low <= address <= high for low, high in prefixes):
                return address

    def dotted(address: int) -> str:
        return ".".join(str(address >> shift & 255) for shift in (24, 16, 8, 0))

    campus = list(dict.fromkeys(inside() for _ in range(400)))[:300]
    internet = list(dict.fromkeys(outside() for _ in range(200)))
    lines = [
        "version: 1",
        "name: chair audit scale",
        "zones:",
        "  - {name: internet, internet: true}",
        f"  - {{name: campus, cidrs: [{', '.join(cidrs)}]}}",
        "firewalls:",
        "  - {name: fw, zones: [internet, campus]}",
        "hosts:",
    ]
    for index, address in enumerate(campus):
        lines.append(f"  - {{name: c{index}, role: intranet-web, addresses: [{dotted(address)}]}}")
    for index, address in enumerate(internet):
        lines.append(f"  - {{name: i{index}, role: admin-browser, addresses: [{dotted(address)}]}}")
    lines += [
        "features: {admin-console: false, callback-url: false, intranet-vpn: false}",
        "flows:",
    ]
    for index in range(flow_count * 2 // 3):
        ends = [f"c{rng.randrange(len(campus))}", f"i{rng.randrange(len(internet))}"]
        if rng.random() < 0.5:
            ends.reverse()
        proto = rng.choice(["tcp", "tcp", "tcp", "udp"])
        ports = sorted(rng.sample(PORTS, rng.randint(1, 2)))
        lines.append(
            f"  - {{name: f{index}, source: {ends[0]}, destination: {ends[1]}, "
            f"protocols: [{proto}], ports: [{', '.join(map(str, ports))}]}}"
        )
    return "\n".join(lines) + "\n"


def fixes_share(site_file: Path, dump: Path, ipassmt: Path) -> tuple[float, float, int]:
    """In-process, once: (seconds of the whole audit, seconds of it spent proposing and
    checking fixes, fixes proposed)."""
    from flowmatrix.api import load_plan
    from flowmatrix.audit import judging as audit_run
    from flowmatrix.audit.ipassmt import load_ipassmt
    from flowmatrix.audit.loader import load_ruleset

    plan, ruleset = load_plan(site_file), load_ruleset(dump, prefer="fw")
    spent = [0.0]
    propose = audit_run.propose

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return propose(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    audit_run.propose = timed  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        report = audit_run.audit_plan(plan, ruleset, firewall="fw", ipassmt=load_ipassmt(ipassmt))
        whole = time.perf_counter() - started
    finally:
        audit_run.propose = propose  # type: ignore[assignment]
    return whole, spent[0], sum(len(flow.fixes) for flow in report.flows)


def whole_command(path: Path, text: str, flows: int, pairs: int, rng: random.Random) -> bool:
    """``flowmatrix audit`` of the dump as a whole process against the plain interpreter."""
    with tempfile.TemporaryDirectory(prefix="fm-chair-") as folder:
        root = Path(folder)
        ipassmt = root / "chair.ipassmt"
        ipassmt.write_text(ipassmt_text(text), "utf-8")
        site_file = root / "site.yaml"
        site_file.write_text(chair_site(derive_ipassmt(text), flows, rng), "utf-8")
        name = f"real dump, whole command, {flows} flow ports wanted"
        _, ratio = whole_against_plain(
            name, site_file, path, "fw", root / "out.json", pairs, ipassmt
        )
        whole, fixing, count = fixes_share(site_file, path, ipassmt)
        verdicts = whole - fixing
        print(
            f"  in-process, once: audit {whole:.3f} s, of which {count} fixes proposed and "
            f"checked {fixing:.3f} s; without them {verdicts:.3f} s "
            f"(with / without: {whole / verdicts:.2f}x, target <= 2x)"
        )
    met = ratio >= 20 and whole <= 2 * verdicts
    print(
        f"  targets: ratio >= 20x ({ratio:.1f}x), fixes within 2x "
        f"({whole / verdicts:.2f}x): {'met' if met else 'NOT met'}"
    )
    return met


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
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--engines",
        action="store_true",
        help="also compare the three evaluators in this process (plain, compiled, batch)",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each figure as it comes
    path = args.rulesets / "net-network" / CHAIR
    if not path.exists():
        print(f"missing {path}: give --rulesets", file=sys.stderr)
        return 2
    print(f"start: {load_average()}")
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
    ok = whole_command(path, text, args.flows, args.pairs, random.Random(args.seed))
    if args.engines:
        _, queries = chair_queries(text, args.flows, rng)
        ok = compare("real dump", ruleset, queries, 20) and ok
        synthetic_set, synthetic_queries = synthetic(args.rules, args.flows, rng)
        ok = compare("flat synthetic chain", synthetic_set, synthetic_queries, 100) and ok
    ok = ok and min(times) < 0.5
    print(f"end: {load_average()}")
    print("all targets met" if ok else "some target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
