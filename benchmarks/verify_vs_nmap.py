"""flowmatrix's probe engine against ``nmap -sT -Pn -n -T4`` on the same ports.

Run as root (network namespaces)::

    python benchmarks/verify_vs_nmap.py            # 1,000 and 10,000 ports
    python benchmarks/verify_vs_nmap.py --ports 1000 --timeout 1

Two namespaces joined by a veth pair; in the destination one, listeners on 10% of the
ports (open), an nftables set dropping another 10% (filtered) and nothing on the rest
(closed: the kernel resets). Both scanners run from the source namespace over the same
ports; every classification is checked against that ground truth. flowmatrix is timed
in-process around the engine call (``run_probes``); nmap as a whole process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable

from flowmatrix.netns import Namespace, NamespaceSet, kernel_support
from flowmatrix.probe.netns_thread import run_in_netns
from flowmatrix.probe.runner import ProbeOptions, probe_all
from flowmatrix.probe.targets import ProbeTarget

SOURCE = "198.18.0.1"
DESTINATION = "198.18.0.2"
BASE_PORT = 20000


def ground_truth(count: int) -> dict[int, str]:
    """10% open, 10% filtered (dropped), 80% closed, interleaved."""
    truth = {}
    for index in range(count):
        kind = index % 10
        truth[BASE_PORT + index] = "open" if kind == 0 else "filtered" if kind == 5 else "closed"
    return truth


def ranges(ports: Iterable[int]) -> str:
    """'1,2,3,7' -> '1-3,7' (for nmap -p and nft sets)."""
    items = sorted(ports)
    parts: list[str] = []
    start = prev = items[0]
    for port in items[1:]:
        if port == prev + 1:
            prev = port
            continue
        parts.append(f"{start}-{prev}" if prev > start else str(start))
        start = prev = port
    parts.append(f"{start}-{prev}" if prev > start else str(start))
    return ",".join(parts)


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

    def listen() -> list[socket.socket]:
        sockets = []
        for port, state in truth.items():
            if state == "open":
                sock = socket.socket()
                sock.bind((DESTINATION, port))
                sock.listen(64)
                sockets.append(sock)
        return sockets

    return src, run_in_netns(dst.name, listen)


def run_flowmatrix(
    src: Namespace, truth: dict[int, str], timeout: float, concurrency: int
) -> tuple[float, dict[int, str]]:
    targets = [
        ProbeTarget(
            flow_id=f"BENCH.{port}",
            requirement="BENCH",
            required=True,
            source_role="bench",
            source_host=None,
            source_address=None,
            destination_role="bench",
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
    options = ProbeOptions(timeout=timeout, retries=1, concurrency=concurrency)

    def body() -> tuple[float, dict[int, str]]:
        started = time.perf_counter()
        results = asyncio.run(probe_all(targets, options))
        elapsed = time.perf_counter() - started
        return elapsed, {r.port: r.state for r in results if r.port is not None}

    return run_in_netns(src.name, body)


def run_nmap(src: Namespace, truth: dict[int, str]) -> tuple[float, dict[int, str]]:
    command = ["nmap", "-sT", "-Pn", "-n", "-T4", "-p", ranges(truth), DESTINATION, "-oX", "-"]
    started = time.perf_counter()
    done = subprocess.run(src.exec_args(command), capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    return elapsed, parse_nmap(done.stdout)


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


def bench(count: int, timeout: float, concurrency: int, with_nmap: bool) -> bool:
    truth = ground_truth(count)
    print(f"\n{count} TCP ports: {dict(Counter(truth.values()))}, timeout {timeout:g} s")
    with NamespaceSet() as nss:
        src, listeners = build(nss, truth)
        try:
            fm_time, fm_states = run_flowmatrix(src, truth, timeout, concurrency)
            fm_wrong = wrong(truth, fm_states)
            print(
                f"  flowmatrix  {fm_time:7.3f} s  ({fm_time / timeout:.2f} timeouts)  "
                f"wrong: {fm_wrong}"
            )
            ok = fm_wrong == 0
            if with_nmap:
                nm_time, nm_states = run_nmap(src, truth)
                nm_wrong = wrong(truth, nm_states)
                print(f"  nmap -sT -T4 {nm_time:6.3f} s  wrong: {nm_wrong}")
                print(f"  ratio nmap / flowmatrix: {nm_time / fm_time:.1f}x")
                ok = ok and fm_time < nm_time
        finally:
            for sock in listeners:
                sock.close()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ports",
        type=int,
        action="append",
        help="number of ports (repeatable; default: 1000 and 10000)",
    )
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=ProbeOptions().concurrency)
    parser.add_argument("--no-nmap", action="store_true", help="time flowmatrix only")
    args = parser.parse_args()
    reason = kernel_support()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    with_nmap = not args.no_nmap
    if with_nmap and shutil.which("nmap") is None:
        print("nmap not found: timing flowmatrix only", file=sys.stderr)
        with_nmap = False
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}")
    ok = True
    for count in args.ports or [1000, 10000]:
        ok = bench(count, args.timeout, args.concurrency, with_nmap) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
