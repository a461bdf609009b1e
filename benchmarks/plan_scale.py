"""Start-up and planning speed: `flowmatrix --help` and `plan` of a 2,000-host site.

Run: python benchmarks/plan_scale.py [--hosts 2000] [--repeat 5]
Prints the median wall time of each command and the peak memory of the plan run.
Targets: --help under 0.3 s; plan of 2,000 hosts under 1 s and under 200 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def generate_site(hosts: int) -> str:
    """A site with ``hosts`` hosts spread over roles and zones, every feature on."""
    lines = [
        "version: 1",
        "name: scale test",
        "zones:",
        "  - {name: internet, internet: true}",
        "  - {name: dmz, cidrs: [172.16.0.0/16]}",
        "  - {name: servers, cidrs: [10.0.0.0/12]}",
        "  - {name: lan, cidrs: [10.16.0.0/12]}",
        "  - {name: admin, cidrs: [10.32.0.0/16]}",
        "firewalls:",
        "  - {name: front, zones: [internet, dmz]}",
        "  - {name: back, zones: [dmz, servers, lan, admin]}",
        "hosts:",
        "  - name: gw",
        "    role: netscaler-gateway",
        "    netscaler: {nsip: 172.16.0.5, vip: [172.16.0.10], snip: [172.16.0.20]}",
    ]
    bases = {"servers": 0x0A000000, "lan": 0x0A100000, "admin": 0x0A200000}
    for index in range(hosts - 1):
        role, zone = ROLES[index % len(ROLES)]
        value = bases[zone] + 256 + index
        address = ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))
        lines.append(f"  - {{name: h{index}, role: {role}, addresses: [{address}]}}")
    lines += ["features:", "  clustering: true", "  syslog: true", "  remote-sql: true"]
    return "\n".join(lines) + "\n"


def timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median seconds over ``repeat`` runs, and the peak RSS (MB) of the children."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return statistics.median(times), peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    exe = [sys.executable, "-m", "flowmatrix"]
    bare, _ = timed([sys.executable, "-c", "pass"], args.repeat)
    help_time, _ = timed([*exe, "--help"], args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site.yaml"
        site.write_text(generate_site(args.hosts))
        out = Path(folder) / "plan.json"
        plan_time, peak = timed(
            [*exe, "plan", str(site), "-f", "json", "-o", str(out)], args.repeat
        )
        flows = out.read_text().count('"requirement":')
    print(f"python startup alone     : {bare:.3f} s")
    print(f"flowmatrix --help        : {help_time:.3f} s   (target < 0.3 s)")
    print(f"plan, {args.hosts} hosts ({flows} flows): {plan_time:.3f} s   (target < 1 s)")
    print(f"plan peak memory         : {peak:.0f} MB   (target < 200 MB)")
    print(f"cpu count                : {os.cpu_count()}")


if __name__ == "__main__":
    main()
