"""``flowmatrix verify`` against ``nmap -sT -Pn -n -T4``, both as the whole process a user runs.

Run as root (network namespaces)::

    python benchmarks/verify_vs_nmap.py                  # 1,000 and 10,000 ports
    python benchmarks/verify_vs_nmap.py --ports 65535    # every port of one host
    python benchmarks/verify_vs_nmap.py --ports 1000 --pairs 7 --timeout 1

Two namespaces joined by a veth pair; in the destination one, listeners on 10% of the
ports (open), an nftables set dropping another 10% (filtered) and nothing on the rest
(closed: the kernel resets). From the source namespace, alternately (A B A B, at least 5
pairs):

- ``ip netns exec SRC flowmatrix verify site.yaml --flow SITE-bench --timeout T --no-tls
  -f json -o out.json``: a site file whose one flow holds the ports (as ranges:
  ``ports: [20000-20999]``), from exec to exit with the JSON written;
- ``ip netns exec SRC nmap -sT -Pn -n -T4 -p PORTS DST -oX out.xml``.

Every run of both is checked against the ground truth (0 misclassified ports, or the
script fails). Printed: median, min and max of each side and of the ratio, peak memory,
the run in timeouts, the latency distribution flowmatrix reports next to the veth's ping
RTT, and, beside it, the probe engine alone timed inside one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import struct
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from harness import Side, compare, console_script, load_average, print_comparison

from flowmatrix.netns import Namespace, NamespaceSet, kernel_support
from flowmatrix.portset import PortSet
from flowmatrix.probe.netns_thread import run_in_netns
from flowmatrix.probe.scheduler import ProbeOptions, probe_all
from flowmatrix.probe.targets import ProbeTarget

SOURCE = "198.18.0.1"
DESTINATION = "198.18.0.2"
BASE_PORT = 20000
MEMORY_BUDGET_MB = 300


def ground_truth(count: int) -> dict[int, str]:
    """10% open, 10% filtered (dropped), 80% closed, interleaved; all ports for 65,535."""
    first = 1 if count + BASE_PORT > 65536 else BASE_PORT
    truth = {}
    for index in range(count):
        kind = index % 10
        truth[first + index] = "open" if kind == 0 else "filtered" if kind == 5 else "closed"
    return truth


def ranges(ports: Iterable[int]) -> str:
    """'1,2,3,7' -> '1-3,7' (for nmap -p and nft sets)."""
    return PortSet.of(ports).text(",")


def site_text(ports: Iterable[int]) -> str:
    """The site a user writes: the flow's ports as ranges (``20000-20999``)."""
    listed = PortSet.of(ports).text(", ")
    return (
        "version: 1\n"
        "name: verify benchmark\n"
        "zones:\n"
        f"  - {{name: left, cidrs: [{SOURCE}/32]}}\n"
        f"  - {{name: right, cidrs: [{DESTINATION}/32]}}\n"
        "firewalls:\n"
        "  - {name: fw, zones: [left, right]}\n"
        "hosts:\n"
        f"  - {{name: src, role: xenmobile, addresses: [{SOURCE}]}}\n"
        f"  - {{name: dst, role: sql-server, addresses: [{DESTINATION}]}}\n"
        "flows:\n"
        f"  - {{name: bench, source: src, destination: dst, protocols: [tcp], ports: [{listed}]}}\n"
    )


def build(nss: NamespaceSet, truth: dict[int, str]) -> tuple[Namespace, list[socket.socket]]:
    src = nss.add("src")
    dst = nss.add("dst")
    nss.link(src, "eth0", dst, "eth0")
    src.ip("addr", "add", f"{SOURCE}/24", "dev", "eth0")
    dst.ip("addr", "add", f"{DESTINATION}/24", "dev", "eth0")
    dropped = ranges(p for p, s in truth.items() if s == "filtered")
    dst.run(
        ["nft", "-f", "-"],
        input_text=(
            "table inet fmbench {\n"
            f"  set dropped {{ type inet_service; flags interval; elements = {{ {dropped} }} }}\n"
            "  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            "    tcp dport @dropped drop\n"
            "  }\n"
            "}\n"
        ),
    )
    listening = [p for p, s in truth.items() if s == "open"]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = len(listening) + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))

    def listen() -> list[socket.socket]:
        sockets = []
        for port in listening:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((DESTINATION, port))
            sock.listen(64)
            sockets.append(sock)
        return sockets

    return src, run_in_netns(dst.name, listen)


def parse_nmap(text: str) -> dict[int, str]:
    """Port states from nmap's XML, including the ports folded into <extraports>."""
    root = ET.fromstring(text)
    states: dict[int, str] = {}
    for port in root.iter("port"):
        state = port.find("state")
        if state is not None:
            states[int(port.attrib["portid"])] = state.attrib["state"]
    for extra in root.iter("extraports"):
        for reasons in extra.iter("extrareasons"):
            for part in reasons.attrib.get("ports", "").split(","):
                if not part:
                    continue
                low, _, high = part.partition("-")
                for number in range(int(low), int(high or low) + 1):
                    states[number] = extra.attrib["state"]
    return states


def wrong(truth: dict[int, str], seen: dict[int, str]) -> int:
    return sum(1 for port, state in truth.items() if seen.get(port) != state)


class Checks:
    """Reads each run's output, counts misclassified ports, keeps the last latencies."""

    def __init__(self, truth: dict[int, str], folder: Path) -> None:
        self.truth = truth
        self.json = folder / "out.json"
        self.xml = folder / "out.xml"
        self.wrong: dict[str, list[int]] = {"flowmatrix": [], "nmap": []}
        self.latencies: dict[str, list[float]] = {}

    def clear(self) -> None:
        for path in (self.json, self.xml):
            path.unlink(missing_ok=True)

    def flowmatrix(self) -> None:
        results = json.loads(self.json.read_text())["results"]
        seen = {r["destination"]["port"]: r["state"] for r in results}
        self.wrong["flowmatrix"].append(wrong(self.truth, seen))
        self.latencies = {}
        for result in results:
            if result["latency_ms"] is not None:
                self.latencies.setdefault(result["state"], []).append(result["latency_ms"])

    def nmap(self) -> None:
        self.wrong["nmap"].append(wrong(self.truth, parse_nmap(self.xml.read_text())))


def _checksum(data: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def ping_rtt(src: Namespace, count: int = 20) -> str:
    """ICMP echo round trips over the veth, as ``ping`` measures them (from user space)."""

    def body() -> list[float]:
        rtts = []
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
            sock.settimeout(1.0)
            for seq in range(count):
                header = struct.pack("!BBHHH", 8, 0, 0, 0x464D, seq)
                packet = struct.pack("!BBHHH", 8, 0, _checksum(header), 0x464D, seq)
                started = time.perf_counter()
                sock.sendto(packet, (DESTINATION, 0))
                while True:
                    data = sock.recv(1024)
                    kind, _, _, ident, number = struct.unpack_from("!BBHHH", data, 20)
                    if kind == 0 and ident == 0x464D and number == seq:
                        break
                rtts.append((time.perf_counter() - started) * 1000.0)
                time.sleep(0.01)
        return rtts

    try:
        rtts = run_in_netns(src.name, body)
    except OSError as exc:
        return f"ping failed: {exc}"
    return f"ICMP echo: {distribution(rtts)}"


def distribution(values: list[float]) -> str:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return (
        f"median {statistics.median(ordered):.3f} ms, p90 {at(0.9):.3f}, p99 {at(0.99):.3f}, "
        f"max {ordered[-1]:.3f} (n={len(ordered)})"
    )


def engine_alone(src: Namespace, truth: dict[int, str], timeout: float) -> float:
    """The probe engine inside one process (no start-up, no site, no output), median of 3."""
    targets = [
        ProbeTarget(
            flow_id="SITE-bench.1",
            requirement="SITE-bench",
            required=True,
            source_role="xenmobile",
            source_host="src",
            source_address=SOURCE,
            destination_role="sql-server",
            host="dst",
            address=DESTINATION,
            port=port,
            protocol="tcp",
            service=None,
            tls=False,
            server_name=None,
        )
        for port in truth
    ]
    options = ProbeOptions(timeout=timeout, retries=1, check_tls=False)

    def body() -> float:
        started = time.perf_counter()
        asyncio.run(probe_all(targets, options))
        return time.perf_counter() - started

    return statistics.median(run_in_netns(src.name, body) for _ in range(3))


def bench(count: int, timeout: float, pairs: int, with_nmap: bool, cache: bool = True) -> bool:
    truth = ground_truth(count)
    print(
        f"\n{count} TCP ports: {dict(Counter(truth.values()))}, timeout {timeout:g} s, "
        f"{'cache on (the first run fills it)' if cache else 'no cache (FLOWMATRIX_NO_CACHE=1)'}"
    )
    with tempfile.TemporaryDirectory() as tmp, NamespaceSet() as nss:
        folder = Path(tmp)
        site = folder / "site.yaml"
        site.write_text(site_text(truth))
        src, listeners = build(nss, truth)
        checks = Checks(truth, folder)
        prefix = ("ip", "netns", "exec", src.name)
        flowmatrix = Side(
            "flowmatrix verify",
            [
                console_script("flowmatrix"),
                "verify",
                str(site),
                "--flow",
                "SITE-bench",
                "--timeout",
                f"{timeout:g}",
                "--no-tls",
                "-f",
                "json",
                "-o",
                str(checks.json),
            ],
            prefix=prefix,
            env=None if cache else {"FLOWMATRIX_NO_CACHE": "1"},
            before=checks.clear,
            check=checks.flowmatrix,
        )
        nmap = Side(
            "nmap -sT -Pn -n -T4",
            [
                "nmap",
                "-sT",
                "-Pn",
                "-n",
                "-T4",
                "-p",
                ranges(truth),
                DESTINATION,
                "-oX",
                str(checks.xml),
            ],
            prefix=prefix,
            before=checks.clear,
            check=checks.nmap,
        )
        try:
            result = compare(flowmatrix, nmap if with_nmap else None, pairs=pairs)
            engine = engine_alone(src, truth, timeout)
            rtt = ping_rtt(src)
        finally:
            for sock in listeners:
                sock.close()
    print_comparison(result, f"{count} ports, whole processes")
    ours = result.flowmatrix
    print(
        f"  {'flowmatrix in timeouts':<28} median {ours.median / timeout:.2f} (timeout {timeout:g} s)"
    )
    print(f"  {'engine alone, in-process':<28} median {engine:.3f} s (no start-up, no output)")
    print(
        f"  {'misclassified ports':<28} flowmatrix {checks.wrong['flowmatrix']}, nmap {checks.wrong['nmap']}"
    )
    print(f"  {'veth round trip':<28} {rtt}")
    for state in ("open", "closed"):
        if state in checks.latencies:
            print(f"  {'latency reported, ' + state:<28} {distribution(checks.latencies[state])}")
    print_targets(count, timeout, result.ratios, ours.median, max(ours.peak_rss_mb))
    return not any(checks.wrong["flowmatrix"]) and not any(checks.wrong["nmap"])


def print_targets(
    count: int, timeout: float, ratios: list[float], median: float, rss: float
) -> None:
    ratio = statistics.median(ratios) if ratios else None
    targets: list[tuple[str, bool | None]] = []
    if count <= 1000:
        targets.append((f"<= {timeout + 0.2:g} s (one timeout + 0.2 s)", median <= timeout + 0.2))
        targets.append((">= 1.2x faster than nmap", None if ratio is None else ratio >= 1.2))
    elif count <= 10000:
        targets.append(("<= 2 timeouts", median <= 2 * timeout))
        targets.append((">= 1.5x faster than nmap", None if ratio is None else ratio >= 1.5))
    else:
        targets.append(("faster than nmap", None if ratio is None else ratio > 1.0))
        targets.append((f"< {MEMORY_BUDGET_MB} MB peak", rss < MEMORY_BUDGET_MB))
    for text, met in targets:
        verdict = "not measured" if met is None else "met" if met else "MISSED"
        print(f"  target {text}: {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--ports",
        type=int,
        action="append",
        help="number of ports (repeatable; default: 1000 and 10000; 65535: every port)",
    )
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--pairs", type=int, default=5, help="A B pairs per size (at least 5)")
    parser.add_argument("--no-nmap", action="store_true", help="time flowmatrix only")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="every flowmatrix run as a first one (FLOWMATRIX_NO_CACHE=1: no plan cache)",
    )
    args = parser.parse_args()
    reason = kernel_support()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    with_nmap = not args.no_nmap
    if with_nmap and shutil.which("nmap") is None:
        print("nmap not found: timing flowmatrix only", file=sys.stderr)
        with_nmap = False
    print(f"{os.cpu_count()} CPUs, {load_average()}, Python {sys.version.split()[0]}")
    ok = True
    for count in args.ports or [1000, 10000]:
        ok = bench(min(count, 65535), args.timeout, args.pairs, with_nmap, not args.no_cache) and ok
    print(f"\nfinished, {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
