"""``verify --rate`` bounds the packets on the wire, retries included, and a stall does not
turn into a burst: proven by a capture at the destination of a real two-namespace run.

    src (198.18.9.1) ── veth ── dst (198.18.9.2): 20 TCP ports dropped, 10 closed,
                                                  5 open, 5 UDP (DNS) ports dropped

The verify process is suspended (SIGSTOP) for 0.3 s in the middle of its run; the
capture's kernel timestamps must still show at most ``burst + rate * w`` probe packets in
every window of ``w`` seconds, and exactly as many SYNs and datagrams as the results
count attempts (the kernel never resends a SYN of its own).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path

import pytest

from flowmatrix.netns import Namespace, NamespaceSet, leftover_namespaces
from flowmatrix.probe.netns_thread import run_in_netns
from flowmatrix.probe.pacing import BURST_SECONDS
from probe.capture import Capture, Packet
from probe.conftest import QUIET_FEATURES

pytestmark = pytest.mark.kernel

SRC, DST = "198.18.9.1", "198.18.9.2"
DROPPED = list(range(21000, 21020))
CLOSED = list(range(21020, 21030))
OPEN = list(range(21030, 21035))
UDP_DROPPED = list(range(21100, 21105))
RATE = 40.0
RETRIES = 2
#: Capture timestamps are taken on arrival: allow this much jitter between two packets.
JITTER = 0.005


def site_text() -> str:
    ports = ", ".join(str(p) for p in DROPPED + CLOSED + OPEN)
    udp = ", ".join(str(p) for p in UDP_DROPPED)
    return "\n".join(
        [
            "version: 1",
            "name: rate lab",
            "zones:",
            f"  - {{name: clients, cidrs: [{SRC}/32]}}",
            f"  - {{name: servers, cidrs: [{DST}/32]}}",
            "firewalls:",
            "  - {name: fw, zones: [clients, servers]}",
            "hosts:",
            f"  - {{name: xms1, role: xenmobile, addresses: [{SRC}]}}",
            f"  - {{name: db1, role: sql-server, addresses: [{DST}]}}",
            "features:",
            *(f"  {k}: {str(v).lower()}" for k, v in QUIET_FEATURES.items()),
            "flows:",
            f"  - {{name: rate-tcp, source: xms1, destination: db1, protocols: [tcp], "
            f"ports: [{ports}]}}",
            f"  - {{name: rate-udp, source: xms1, destination: db1, protocols: [udp], "
            f"ports: [{udp}], service: dns}}",
        ]
    )


@pytest.fixture
def rate_lab(tmp_path: Path) -> Iterator[tuple[Namespace, Namespace, Path]]:
    site = tmp_path / "site.yaml"
    site.write_text(site_text() + "\n")
    nss = NamespaceSet()
    with nss, ExitStack() as stack:
        src, dst = nss.add("src"), nss.add("dst")
        nss.link(src, "eth0", dst, "eth0")
        src.ip("addr", "add", f"{SRC}/24", "dev", "eth0")
        dst.ip("addr", "add", f"{DST}/24", "dev", "eth0")
        dropped = ", ".join(str(p) for p in DROPPED)
        udp = ", ".join(str(p) for p in UDP_DROPPED)
        dst.run(
            ["nft", "-f", "-"],
            input_text="table inet fmrate {\n  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            f"    tcp dport {{ {dropped} }} drop\n    udp dport {{ {udp} }} drop\n  }}\n}}\n",
        )

        def listen() -> None:
            for port in OPEN:
                listener = stack.enter_context(socket.socket())
                listener.bind((DST, port))
                listener.listen(16)

        run_in_netns(dst.name, listen)
        yield src, dst, site
    assert leftover_namespaces(nss.prefix) == []


def probe_packets(packets: list[Packet]) -> list[Packet]:
    """What verify sent to the destination: SYNs (no ACK) and datagrams to the plan's ports."""
    tcp = set(DROPPED + CLOSED + OPEN)
    return [
        p
        for p in packets
        if p.destination == DST
        and ((p.protocol == "tcp" and p.syn_only and p.port in tcp) or p.port in UDP_DROPPED)
    ]


def busiest_window(times: list[float], burst: float) -> tuple[int, float, float]:
    """The window whose packet count exceeds the bound the most: (count, start, length)."""
    worst = (0, 0.0, 0.0)
    worst_excess = -1e9
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            length = times[j] - start
            excess = (j - i + 1) - (burst + RATE * (length + JITTER))
            if excess > worst_excess:
                worst_excess, worst = excess, (j - i + 1, start, length)
    return worst


def test_rate_bounds_every_packet_and_a_stall_does_not_burst(
    rate_lab: tuple[Namespace, Namespace, Path], tmp_path: Path
) -> None:
    src, dst, site = rate_lab
    out = tmp_path / "out.json"
    command = [
        sys.executable,
        "-m",
        "flowmatrix",
        "verify",
        str(site),
        "--flow",
        "SITE-rate-tcp",
        "--flow",
        "SITE-rate-udp",
        "--timeout",
        "1.5",
        "--retries",
        str(RETRIES),
        "--rate",
        str(RATE),
        "-f",
        "json",
        "-o",
        str(out),
    ]
    with Capture(dst.name, "eth0") as capture:
        process = subprocess.Popen(
            src.exec_args(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 30
            while len(probe_packets(capture.packets)) < 6 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(process.pid, signal.SIGSTOP)
            stopped = time.time()
            time.sleep(0.3)
            os.kill(process.pid, signal.SIGCONT)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        time.sleep(0.1)  # the last packets reach the capture
    assert process.returncode == 1, stderr  # closed and filtered flows fail
    results = json.loads(out.read_text())["results"]
    states = {r["destination"]["port"]: r["state"] for r in results}
    assert {p: states[p] for p in DROPPED} == dict.fromkeys(DROPPED, "filtered")
    assert {p: states[p] for p in CLOSED} == dict.fromkeys(CLOSED, "closed")
    assert {p: states[p] for p in OPEN} == dict.fromkeys(OPEN, "open")
    assert {p: states[p] for p in UDP_DROPPED} == dict.fromkeys(UDP_DROPPED, "filtered")
    sent = probe_packets(capture.packets)
    # every packet is counted: the results' attempts are exactly the SYNs and datagrams
    # seen, retries included (no SYN resent by the kernel behind the rate's back)
    attempts = sum(r["attempts"] for r in results)
    assert attempts == len(DROPPED) * 3 + len(CLOSED) + len(OPEN) + len(UDP_DROPPED) * 3
    syns = [p for p in sent if p.protocol == "tcp"]
    resent = len(syns) - len({p.source_port for p in syns})  # same socket: the kernel's resend
    assert len(sent) == attempts, (
        f"{len(sent)} packets captured for {attempts} attempts ({resent} SYNs resent by the "
        "kernel: an attempt outlived its guard)"
    )
    times = sorted(p.at for p in sent)
    assert any(b - a >= 0.25 for a, b in pairwise(times)), (
        "the run was not suspended while it was sending"
    )
    assert any(t > stopped for t in times)
    burst = max(1.0, RATE * BURST_SECONDS)
    count, start, length = busiest_window(times, burst)
    assert count <= burst + RATE * (length + JITTER), (
        f"{count} packets in {length:.3f} s from {start - times[0]:.3f} s into the run "
        f"at --rate {RATE:g}"
    )
