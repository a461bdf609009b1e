"""Vendor audits at scale: `flowmatrix audit` of a 5,000-policy FortiGate and of a 5,000-line
Cisco ASA ACL with object-groups, 10,000 flow ports, against a plain first-match
interpreter, with identical verdicts asserted.

    python benchmarks/audit_vendors.py [--policies 5000] [--flows 10000] [--pairs 5] [--seed 1]

flowmatrix side: the whole process a user runs, from exec to exit, output written
(`flowmatrix audit SITE -F edge -r CONFIG -f json -o OUT`): reading the site and
planning, reading the configuration, the audit (verdicts, fixes, least privilege, dead
rules), the JSON report. Peer: the same work in this process with the plain interpreter
(``audit/naive.py``: every rule in order, flow by flow) instead of the compiled batch;
its time includes reading the site and the configuration too. The sides alternate A B A
B (``harness.py``); the verdict of every flow port must be the same on both sides.
Targets: flowmatrix under 1 s (median) for each configuration, ratio at least 20x.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from audit_common import whole_against_plain
from harness import load_average

PORTS = [22, 25, 53, 80, 123, 389, 443, 636, 1433, 1494, 2598, 3268, 3389, 4443, 8080, 8443]
SOURCES = 250
DESTINATIONS = 250


def lan(index: int) -> str:
    return f"10.1.{index // 250}.{index % 250 + 1}"


def dmz(index: int) -> str:
    return f"10.2.{index // 250}.{index % 250 + 1}"


class Workload:
    """Hosts, address objects and policies a flow has to walk deep into to meet.

    As in real rulebases, most objects are single hosts and every policy names its
    sources and destinations, so a flow meets the policy that decides it after many that
    do not; nine flows in ten are drawn from a policy (allowed or denied by it), the
    others at random (most of them fall to the implicit deny)."""

    def __init__(self, policies: int, flows: int, rng: random.Random) -> None:
        self.rng = rng
        self.objects: dict[str, list[tuple[int, int]]] = {"lan": [], "dmz": []}
        """Per zone, each object as (first host, last host) indexes."""
        for zone in ("lan", "dmz"):
            for _ in range(600):
                first = rng.randrange(SOURCES if zone == "lan" else DESTINATIONS)
                size = 1 if rng.random() < 0.8 else 4
                self.objects[zone].append((first, min(first + size - 1, SOURCES - 1)))
        self.groups = {
            zone: [rng.sample(range(len(self.objects[zone])), 4) for _ in range(150)]
            for zone in ("lan", "dmz")
        }
        self.rules = []
        for _ in range(policies):
            src = rng.sample(range(len(self.objects["lan"])), rng.randint(1, 2))
            dst = rng.sample(range(len(self.objects["dmz"])), rng.randint(1, 2))
            ports = rng.sample(PORTS, rng.randint(1, 2))
            proto = rng.choice(["tcp", "tcp", "udp"])
            action = "permit" if rng.random() < 0.85 else "deny"
            self.rules.append((src, dst, proto, ports, action))
        self.flows = []
        for _ in range(flows * 2 // 3):
            if rng.random() < 0.9:
                src, dst, proto, ports, _ = rng.choice(self.rules)
                first, last = self.objects["lan"][rng.choice(src)]
                client = rng.randint(first, last)
                first, last = self.objects["dmz"][rng.choice(dst)]
                server = rng.randint(first, last)
                chosen = sorted(ports)
            else:
                client, server = rng.randrange(SOURCES), rng.randrange(DESTINATIONS)
                proto = rng.choice(["tcp", "tcp", "udp"])
                chosen = sorted(rng.sample(PORTS, 2))
            self.flows.append((client, server, proto, chosen))

    def address(self, zone: str, index: int) -> tuple[str, str]:
        first, last = self.objects[zone][index]
        host = lan if zone == "lan" else dmz
        if first == last:
            return host(first), "255.255.255.255"
        return host(first), f"{host(first)}-{host(last)}"


def site(work: Workload) -> str:
    """A site whose firewall 'edge' carries the workload's flows, LAN to DMZ."""
    lines = [
        "version: 1",
        "name: vendor audit scale",
        "zones:",
        "  - {name: internet, internet: true}",
        "  - {name: lan, cidrs: [10.1.0.0/16]}",
        "  - {name: dmz, cidrs: [10.2.0.0/16]}",
        "firewalls:",
        "  - {name: edge, zones: [internet, lan, dmz]}",
        "hosts:",
    ]
    for index in range(SOURCES):
        lines.append(f"  - {{name: c{index}, role: admin-browser, addresses: [{lan(index)}]}}")
    for index in range(DESTINATIONS):
        lines.append(f"  - {{name: s{index}, role: intranet-web, addresses: [{dmz(index)}]}}")
    lines += [
        "features: {admin-console: false, callback-url: false, intranet-vpn: false}",
        "flows:",
    ]
    for index, (client, server, proto, ports) in enumerate(work.flows):
        lines.append(
            f"  - {{name: f{index}, source: c{client}, destination: s{server}, "
            f"protocols: [{proto}], ports: [{', '.join(map(str, ports))}]}}"
        )
    return "\n".join(lines) + "\n"


def fortigate(work: Workload) -> str:
    out = [
        "config system interface",
        '    edit "port1"\n        set ip 10.1.0.254 255.255.0.0\n    next',
        '    edit "port2"\n        set ip 10.2.0.254 255.255.0.0\n    next',
        '    edit "port3"\n        set ip 203.0.113.2 255.255.255.0\n    next',
        "end",
        'config router static\n    edit 1\n        set device "port3"\n    next\nend',
        "config firewall address",
    ]
    for zone in ("lan", "dmz"):
        for index in range(len(work.objects[zone])):
            address, mask = work.address(zone, index)
            if "-" in mask:
                first, last = mask.split("-")
                value = f"        set type iprange\n        set start-ip {first}\n        set end-ip {last}"
            else:
                value = f"        set subnet {address} {mask}"
            out.append(f'    edit "{zone}-{index}"\n{value}\n    next')
    out += ["end", "config firewall service custom"]
    for port in PORTS:
        for proto in ("tcp", "udp"):
            out.append(f'    edit "{proto}-{port}"\n        set {proto}-portrange {port}\n    next')
    out += ["end", "config firewall policy"]
    ids = list(range(1, len(work.rules) + 1))
    work.rng.shuffle(ids)
    for ident, (src, dst, proto, ports, action) in zip(ids, work.rules, strict=True):
        srcaddr = " ".join(f'"lan-{i}"' for i in src)
        dstaddr = " ".join(f'"dmz-{i}"' for i in dst)
        service = " ".join(f'"{proto}-{p}"' for p in ports)
        out.append(
            f'    edit {ident}\n        set srcintf "port1"\n        set dstintf "port2"\n'
            f"        set srcaddr {srcaddr}\n        set dstaddr {dstaddr}\n"
            f"        set action {'accept' if action == 'permit' else 'deny'}\n"
            f'        set schedule "always"\n        set service {service}\n    next'
        )
    out.append("end")
    return "\n".join(out) + "\n"


def asa(work: Workload) -> str:
    out = [
        "ASA Version 9.16(2)",
        "!",
        "interface GigabitEthernet0/0\n nameif outside\n security-level 0\n ip address 203.0.113.2 255.255.255.0",
        "!",
        "interface GigabitEthernet0/1\n nameif inside\n security-level 100\n ip address 10.1.0.254 255.255.0.0",
        "!",
        "interface GigabitEthernet0/2\n nameif dmz\n security-level 50\n ip address 10.2.0.254 255.255.0.0",
        "!",
        "route outside 0.0.0.0 0.0.0.0 203.0.113.1 1",
    ]
    for zone in ("lan", "dmz"):
        for index in range(len(work.objects[zone])):
            address, mask = work.address(zone, index)
            out.append(f"object network {zone}-{index}")
            if "-" in mask:
                out.append(f" range {mask.replace('-', ' ')}")
            else:
                out.append(f" host {address}")
        for index, members in enumerate(work.groups[zone]):
            out.append(f"object-group network {zone.upper()}-{index}")
            out += [f" network-object object {zone}-{m}" for m in members]
    for src, dst, proto, ports, action in work.rules:
        # one object-group or object per side, the ports as an object-group or eq
        source = f"object lan-{src[0]}" if len(src) == 1 else f"object-group LAN-{src[0] % 150}"
        target = f"object dmz-{dst[0]}" if len(dst) == 1 else f"object-group DMZ-{dst[0] % 150}"
        out.append(
            f"access-list inside_in extended {action} {proto} {source} {target} eq {ports[0]}"
        )
    out.append("access-group inside_in in interface inside")
    return "\n".join(out) + "\n"


def run(name: str, site_file: Path, config: Path, out: Path, pairs: int) -> bool:
    median, ratio = whole_against_plain(name, site_file, config, "edge", out, pairs)
    met = median < 1.0 and ratio >= 20
    print(
        f"  targets: flowmatrix < 1 s ({median:.3f} s), ratio >= 20x ({ratio:.1f}x): "
        f"{'met' if met else 'NOT met'}"
    )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=int, default=5000)
    parser.add_argument("--flows", type=int, default=10000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each figure as it comes
    work = Workload(args.policies, args.flows, random.Random(args.seed))
    print(f"start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="fm-vendors-") as folder:
        root = Path(folder)
        site_file = root / "site.yaml"
        site_file.write_text(site(work), "utf-8")
        forti = root / "edge.conf"
        forti.write_text(fortigate(work), "utf-8")
        cisco = root / "edge.cfg"
        cisco.write_text(asa(work), "utf-8")
        met = run(
            f"FortiGate, {args.policies} policies", site_file, forti, root / "f.json", args.pairs
        )
        met &= run(
            f"Cisco ASA, {args.policies} ACL lines", site_file, cisco, root / "a.json", args.pairs
        )
    print(f"end: {load_average()}")
    print("all targets met" if met else "some targets NOT met")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
