"""Start-up and planning, as the whole processes a user runs.

Run: python benchmarks/plan_scale.py [--hosts 20000] [--pairs 5]

Each figure is a whole process from exec to exit (output written), at least 5 runs
alternating with a reference process, through ``harness``:

- ``flowmatrix --help`` against ``python -c pass`` (what Python itself costs) and
  against ``python -c 'import typer'`` (the floor of any command: the CLI is Typer's;
  its plain values are converted without pydantic, ``cli/param_coercion.py``);
- ``flowmatrix plan -f json -o FILE`` of the embedded default site, of a generated
  site of ``--hosts`` hosts (every feature on), and of a version 2 site of ``--v2-hosts``
  hosts with nested zones and NAT, each with its peak memory;

and, beside them, in-process figures (a fresh interpreter timing its own work):
loading and planning the default site (imports included), and writing the JSON document
of 10,000 verify results.

Targets: --help < 0.15 s; loading and planning the default site < 0.15 s; plan of
20,000 hosts < 2 s and < 300 MB; plan of a 2,000-host version 2 site < 1 s and < 200 MB;
JSON of 10,000 results < 0.1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import Side, compare, console_script, load_average, print_comparison

ROLES = [
    ("xenmobile", "servers"),
    ("storefront", "servers"),
    ("xenapp-xendesktop", "servers"),
    ("ldap-server", "servers"),
    ("dns-server", "servers"),
    ("ntp-server", "servers"),
    ("sql-server", "servers"),
    ("syslog-server", "servers"),
    ("intranet-web", "servers"),
    ("devices-lan", "lan"),
    ("admin-browser", "admin"),
]

LOAD_AND_PLAN = """
import time
started = time.perf_counter()
from flowmatrix.api import load_plan
plan = load_plan(None)
print(time.perf_counter() - started)
"""

JSON_OF_RESULTS = """
import time
from flowmatrix.probe.verify_report import to_json_document
from flowmatrix.probe.results import ProbeResult
from flowmatrix.probe.scheduler import ProbeOptions
from flowmatrix.probe.verify import VerifyReport
from flowmatrix.atomic import write_atomic
results = tuple(
    ProbeResult(
        flow="SITE-bench.1", requirement="SITE-bench", required=True, source_role="xenmobile",
        source_host="src", source_address="198.18.0.1", destination_role="sql-server",
        destination_host="dst", fqdn=None, address="198.18.0.2", port=port, protocol="tcp",
        service=None, state="closed",
        reason=f"refused with a TCP reset (RST): nothing listens on 198.18.0.2:{port}",
        latency_ms=0.0213, attempts=1,
    )
    for port in range(10000, 20000)
)
report = VerifyReport(results, "host src", (), ProbeOptions(timeout=1.0), "bench")
timings = []
for _ in range(5):
    started = time.perf_counter()
    write_atomic(OUT, to_json_document(report))
    timings.append(time.perf_counter() - started)
print(sorted(timings)[2])
"""


#: Version 2: the gateway published on a public address, the servers and the LAN
#: translated as they leave to the Internet.
NAT_LINES = [
    "    nat:",
    "      destination: [{public: 203.0.113.40, to: gw, ports: [443, 8443]}]",
    "      source:",
    "        - {from: servers, as: 203.0.113.41}",
    "        - {from: lan, as: masquerade}",
]


def generate_site(hosts: int, version: int = 1) -> str:
    """A site with ``hosts`` hosts spread over roles and zones, every feature on.

    Version 2 adds a ``campus`` zone of 10.0.0.0/8 around the others (nested zones),
    address translations on the front firewall (``NAT_LINES``), and writes each host's
    role as ``roles: [...]``; the admin workstations then sit in the campus, outside
    every nested zone.
    """
    nested = version >= 2
    lines = [
        f"version: {version}",
        "name: scale test",
        "zones:",
        "  - {name: internet, internet: true}",
        "  - {name: dmz, cidrs: [172.16.0.0/16]}",
        "  - {name: servers, cidrs: [10.0.0.0/12]}",
        "  - {name: lan, cidrs: [10.16.0.0/12]}",
        "  - {name: admin, cidrs: [10.32.0.0/16]}",
        *(["  - {name: campus, cidrs: [10.0.0.0/8]}"] if nested else []),
        "firewalls:",
        "  - name: front",
        "    zones: [internet, dmz]",
        *(NAT_LINES if nested else []),
        f"  - {{name: back, zones: [dmz, servers, lan, admin{', campus' if nested else ''}]}}",
        "hosts:",
        "  - name: gw",
        f"    {'roles: [netscaler-gateway]' if nested else 'role: netscaler-gateway'}",
        "    netscaler: {nsip: 172.16.0.5, vip: [172.16.0.10], snip: [172.16.0.20]}",
    ]
    bases = {"servers": 0x0A000000, "lan": 0x0A100000, "admin": 0x0A200000}
    if nested:
        bases["admin"] = 0x0A400000  # 10.64.x: in the campus, outside the nested zones
    for index in range(hosts - 1):
        role, zone = ROLES[index % len(ROLES)]
        value = bases[zone] + 256 + index
        address = ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))
        said = f"roles: [{role}]" if nested else f"role: {role}"
        lines.append(f"  - {{name: h{index}, {said}, addresses: [{address}]}}")
    lines += ["features:", "  clustering: true", "  syslog: true", "  remote-sql: true"]
    return "\n".join(lines) + "\n"


def in_process(code: str, runs: int, **names: str) -> list[float]:
    """Seconds a fresh interpreter reports for its own work, one per run."""
    prelude = "".join(f"{key} = {value!r}\n" for key, value in names.items())
    seconds = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", prelude + code], capture_output=True, text=True, check=True
        )
        seconds.append(float(done.stdout.strip().splitlines()[-1]))
    return seconds


def spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.3f} s "
        f"(min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20000)
    parser.add_argument("--v2-hosts", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    flowmatrix = console_script("flowmatrix")
    python = sys.executable
    print(f"{os.cpu_count()} CPUs, {load_average()}, Python {sys.version.split()[0]}")
    bare = Side("python -c pass", [python, "-c", "pass"])
    floor = Side("python: import typer", [python, "-c", "import typer"])
    help_side = Side("flowmatrix --help", [flowmatrix, "--help"])
    print_comparison(compare(help_side, bare, pairs=args.pairs), "--help against Python alone")
    print_comparison(compare(help_side, floor, pairs=args.pairs), "--help against its imports")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "plan.json"
        default = Side("flowmatrix plan (default site)", [flowmatrix, "plan", "-f", "json"])
        default = Side(default.name, [*(default.command or ()), "-o", str(out)])
        print_comparison(compare(default, floor, pairs=args.pairs), "plan of the default site")
        planned = in_process(LOAD_AND_PLAN, args.pairs)
        print(f"  {'load + plan, in-process':<28} {spread(planned)} (imports included)")
        site = Path(folder) / "site.yaml"
        site.write_text(generate_site(args.hosts))
        big = Side(f"flowmatrix plan ({args.hosts} hosts)", [flowmatrix, "plan", str(site)])
        big = Side(big.name, [*(big.command or ()), "-f", "json", "-o", str(out)])
        result = compare(big, None, pairs=args.pairs)
        flows = len(json.loads(out.read_text())["flows"])
        print_comparison(result, f"plan of {args.hosts} hosts ({flows} flows)")
        nested = Path(folder) / "nested.yaml"
        nested.write_text(generate_site(args.v2_hosts, version=2))
        v2 = Side(
            f"flowmatrix plan (v2, {args.v2_hosts} hosts, nested zones, NAT)",
            [flowmatrix, "plan", str(nested), "-f", "json", "-o", str(out)],
        )
        result = compare(v2, None, pairs=args.pairs)
        flows = len(json.loads(out.read_text())["flows"])
        print_comparison(result, f"plan of a v2 site of {args.v2_hosts} hosts ({flows} flows)")
        json_out = str(Path(folder) / "results.json")
        written = in_process(JSON_OF_RESULTS, 1, OUT=json_out)
        print(f"\n  {'JSON of 10,000 results':<28} {written[0]:.3f} s (to_dict, encode, write)")
    print(f"\nfinished, {load_average()}")


if __name__ == "__main__":
    main()
