"""nftables rules for a 10,000-flow site: flowmatrix against aerleon, same flows, one run.

Run (root, for the load test): python benchmarks/rules_vs_aerleon.py [--flows 10000]

1. Generates a site: 24 internal zones behind one core firewall, 480 hosts in 8 roles,
   and site flows between random hosts of different zones (random TCP/UDP ports) until
   the plan holds --flows concrete flows, all crossing the core firewall; writes it as a
   site file, and the same flows as an aerleon policy (one term per flow, networks and
   services as flowmatrix names them) with its naming definitions.
2. Generation, whole process: ``flowmatrix rules SITE --firewall core -o FILE`` (parse
   the site, plan, select, render, read back, write) against aerleon's own command,
   ``aclgen --policy_file ... --output_directory ...`` (parse the definitions and the
   policy, generate, write), alternating A B A B (benchmarks/harness.py): median, min and
   max of each and of the ratio. The in-process figures (``rules.generate`` against
   ``aerleon.api.Generate``) are printed beside them.
3. Loading: each nftables script is loaded with ``nft -f`` into its own throwaway
   network namespace, timed, and the namespace deleted (best of --repeat loads).

The site is IPv4 only, so aerleon's duplicated rules on mixed IPv4/IPv6 tables do not
weigh on its side. Targets: generation >= 10x, loading >= 5x.
"""

from __future__ import annotations

import argparse
import gc
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Side, compare, console_script, print_comparison

from flowmatrix.catalog import load_catalog
from flowmatrix.model import Plan
from flowmatrix.plan import build_plan
from flowmatrix.portset import PortSet
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.objects import ObjectNames, ports_key
from flowmatrix.rules.select import select
from flowmatrix.rules.text import comment, identifier, label
from flowmatrix.site import Site

T = TypeVar("T")
ZONES = 24
HOSTS_PER_ZONE = 20
ROLES = (
    "xenmobile",
    "storefront",
    "xenapp-xendesktop",
    "ldap-server",
    "sql-server",
    "intranet-web",
    "syslog-server",
    "dns-server",
)


def site_dict(site_flows: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    zones: list[dict[str, Any]] = [{"name": "internet", "internet": True}]
    hosts: list[dict[str, Any]] = []
    for z in range(ZONES):
        zones.append({"name": f"zone{z:02d}", "cidrs": [f"10.{z}.0.0/16"]})
        for h in range(HOSTS_PER_ZONE):
            hosts.append(
                {
                    "name": f"h{z:02d}-{h:02d}",
                    "role": ROLES[(z + h) % len(ROLES)],
                    "addresses": [f"10.{z}.{h // 8}.{10 + h % 8 * 2}"],
                }
            )
    flows = []
    for n in range(site_flows):
        source, destination = rng.sample(hosts, 2)
        while source["name"][:3] == destination["name"][:3]:
            destination = rng.choice(hosts)
        ports = sorted(rng.sample(range(1024, 60000), rng.choice((1, 1, 2, 3))))
        flows.append(
            {
                "name": f"f{n:05d}",
                "source": source["name"],
                "destination": destination["name"],
                "protocols": [rng.choice(("tcp", "tcp", "udp"))],
                "ports": ports,
                "description": f"benchmark flow {n}",
            }
        )
    return {
        "version": 1,
        "name": "rules benchmark",
        "zones": zones,
        "firewalls": [{"name": "core", "zones": [z["name"] for z in zones]}],
        "hosts": hosts,
        "flows": flows,
        "features": {
            "clustering": False,
            "remote-sql": False,
            "ldap": False,
            "xenapp": False,
            "storefront": False,
            "intranet-vpn": False,
        },
    }


def make_plan(total: int) -> Plan:
    catalog = load_catalog()
    base = len(build_plan(Site.model_validate(site_dict(0)), catalog).flows)
    return build_plan(Site.model_validate(site_dict(max(0, total - base))), catalog)


def aerleon_policy(plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same flows as one aerleon nftables filter: one term per flow."""
    selection = select(plan, Scope("firewall", "core"))
    networks: ObjectNames[tuple[str, ...]] = ObjectNames()
    services: ObjectNames[tuple[str, PortSet]] = ObjectNames()
    terms = []
    for spec in selection.specs:
        if not spec.renderable:
            continue
        ports = spec.flow.ports
        term: dict[str, Any] = {
            "name": label(spec.flow.id, 40),
            "protocol": spec.flow.protocol,
            "destination-port": services.name(
                f"{spec.flow.protocol.upper()}_{ports_key(ports)}", (spec.flow.protocol, ports)
            ),
            "action": "accept",
            "comment": comment(f"{spec.flow.id}: {spec.flow.description}", 120),
        }
        for side, key in (
            (spec.source, "source-address"),
            (spec.destination, "destination-address"),
        ):
            if not side.any:
                values = tuple(n.with_prefixlen for n in side.v4)
                term[key] = networks.name(identifier(side.key.upper(), 48), values)
        terms.append(term)
    policy = {
        "filename": "bench",
        "filters": [{"header": {"targets": {"nftables": "inet FORWARD"}}, "terms": terms}],
    }
    definitions = {
        "networks": {n: {"values": [{"address": a} for a in v]} for n, v in networks.items()},
        "services": {
            n: [{"port": str(a) if a == b else f"{a}-{b}", "protocol": p} for a, b in ports.ranges]
            for n, (p, ports) in services.items()
        },
    }
    return policy, definitions


def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, float, T]:
    """Best wall-clock and best CPU seconds of ``repeat`` runs, and the last result."""
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = work()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    assert result is not None
    return wall, cpu, result


def collector_paused(work: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        gc.disable()
        try:
            return work()
        finally:
            gc.enable()

    return run


def load_time(text: str) -> float:
    """Seconds ``nft -f`` takes to load ``text`` into a fresh namespace (deleted after)."""
    name = f"fmbench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        started = time.perf_counter()
        done = subprocess.run(
            ["ip", "netns", "exec", name, "nft", "-f", "-"],
            input=text,
            text=True,
            capture_output=True,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"nft refused the script: {done.stderr[:500]}")
        return elapsed
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def write_inputs(
    folder: Path, total: int, policy: dict[str, Any], definitions: dict[str, Any]
) -> Path:
    """The site file for flowmatrix, the policy and definitions files for aclgen."""
    site = folder / "site.yaml"
    site.write_text(yaml.safe_dump(site_dict(_site_flows(total)), sort_keys=False))
    (folder / "policies").mkdir()
    (folder / "policies" / "bench.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    (folder / "def").mkdir()
    (folder / "def" / "networks.yaml").write_text(
        yaml.safe_dump({"networks": definitions["networks"]}, sort_keys=False)
    )
    (folder / "def" / "services.yaml").write_text(
        yaml.safe_dump({"services": definitions["services"]}, sort_keys=False)
    )
    (folder / "out").mkdir()
    return site


def _site_flows(total: int) -> int:
    catalog = load_catalog()
    base = len(build_plan(Site.model_validate(site_dict(0)), catalog).flows)
    return max(0, total - base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=5, help="A B pairs (at least 5)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-load", action="store_true", help="skip the nft -f load test")
    args = parser.parse_args()

    from aerleon import api
    from aerleon.lib import naming

    started = time.perf_counter()
    plan = make_plan(args.flows)
    crossing = len(plan.flows_through("core"))
    print(
        f"site: {len(plan.site.hosts)} hosts, {len(plan.site.zones)} zones; plan: "
        f"{len(plan.flows)} flows, {crossing} through firewall core "
        f"(built in {time.perf_counter() - started:.2f} s)"
    )
    policy, definitions = aerleon_policy(plan)
    with tempfile.TemporaryDirectory(prefix="fm-bench-") as tmp:
        folder = Path(tmp)
        site = write_inputs(folder, args.flows, policy, definitions)
        ours_file = folder / "core.nft"
        theirs_file = folder / "out" / "bench.nft"

        def check_ours() -> None:
            text = ours_file.read_text()
            assert text.count("ct state new accept") > crossing // 2, "flowmatrix wrote too little"

        def check_theirs() -> None:
            assert theirs_file.stat().st_size > 0, "aclgen wrote nothing"

        flowmatrix = Side(
            "flowmatrix rules (process)",
            [
                console_script("flowmatrix"),
                "rules",
                str(site),
                "--firewall",
                "core",
                "-o",
                str(ours_file),
            ],
            before=lambda: ours_file.unlink(missing_ok=True),
            check=check_ours,
        )
        aclgen = Side(
            "aerleon aclgen (process)",
            [
                console_script("aclgen"),
                "--base_directory",
                str(folder / "policies"),
                "--policy_file",
                str(folder / "policies" / "bench.yaml"),
                "--definitions_directory",
                str(folder / "def"),
                "--output_directory",
                str(folder / "out"),
                "--max_renderers",
                "1",
            ],
            before=lambda: theirs_file.unlink(missing_ok=True),
            check=check_theirs,
        )
        result = compare(flowmatrix, aclgen, pairs=args.pairs)
        print_comparison(result, "generation, whole process, alternating")
        ours_text = ours_file.read_text()

    ours_s, ours_cpu, ours = best_of(
        args.repeat, lambda: generate(plan, Scope("firewall", "core"), "nftables")
    )
    assert not ours.errors, ours.errors[:3]

    def aerleon_run() -> str:
        names = naming.Naming()
        names.ParseDefinitionsObject(definitions, "")
        configs = api.Generate([policy], names)  # type: ignore[list-item]
        assert configs
        return next(iter(configs.values()))

    theirs_s, theirs_cpu, theirs = best_of(args.repeat, aerleon_run)
    paused_s, _, _ = best_of(args.repeat, collector_paused(aerleon_run))
    print(
        f"in process (best of {args.repeat}): flowmatrix rules.generate {ours_s:.3f} s wall, "
        f"{ours_cpu:.3f} s CPU ({ours.rules} rules, {ours.text.count(chr(10))} lines); "
        f"aerleon.api.Generate {theirs_s:.3f} s wall, {theirs_cpu:.3f} s CPU "
        f"({len(policy['filters'][0]['terms'])} terms, {theirs.count(chr(10))} lines), "
        f"{paused_s:.3f} s with its garbage collector paused too"
    )
    print(
        f"in-process ratio: {theirs_s / ours_s:.1f}x wall, {theirs_cpu / ours_cpu:.1f}x CPU; "
        f"against aerleon with the collector paused: {paused_s / ours_s:.1f}x wall "
        f"(whole-process target >= 10x)"
    )
    if args.no_load:
        return
    ours_load = min(load_time(ours_text) for _ in range(args.repeat))
    theirs_load = min(load_time(theirs) for _ in range(args.repeat))
    print(
        f"nft -f load (best of {args.repeat}): flowmatrix {ours_load:.2f} s, "
        f"aerleon {theirs_load:.2f} s"
    )
    print(f"load ratio: {theirs_load / ours_load:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
