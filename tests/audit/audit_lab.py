"""A router between two (or three) network namespaces, to ask the kernel what passes.

Traffic stays inside namespaces created here and deleted on exit: listeners bind the
destination addresses in one namespace, probes bind the source addresses in another,
and the router namespace in the middle holds the ruleset under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from flowmatrix.netns import Namespace, NamespaceSet

LISTENER = r"""
import json, selectors, socket, sys
specs = json.loads(sys.argv[1])
sel = selectors.DefaultSelector()
for address, proto, port in specs:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    if proto == "tcp":
        sock.listen(64)
    sock.setblocking(False)
    sel.register(sock, selectors.EVENT_READ, proto)
print("ready", flush=True)
while True:
    for key, _ in sel.select(timeout=1):
        sock = key.fileobj
        try:
            if key.data == "tcp":
                conn, _ = sock.accept()
                conn.close()
            else:
                data, peer = sock.recvfrom(2048)
                sock.sendto(data, peer)
        except OSError:
            pass
"""

PROBER = r"""
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
probes = json.loads(sys.argv[1])
timeout = float(sys.argv[2])

def probe(item):
    src, dst, proto, port = item
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    sock.settimeout(timeout)
    try:
        sock.bind((src, 0))
        sock.connect((dst, port))
        if proto == "udp":
            sock.send(b"flowmatrix-probe")
            sock.recv(2048)
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as exc:
        return f"error {exc.errno}"
    finally:
        sock.close()

with ThreadPoolExecutor(max_workers=64) as pool:
    print(json.dumps(list(pool.map(probe, probes))))
"""


@dataclass
class Side:
    """A namespace on one side of the router, with its addresses."""

    ns: Namespace
    addresses: list[str]


@dataclass
class Lab:
    spaces: NamespaceSet
    router: Namespace
    sides: dict[str, Side] = field(default_factory=dict)

    def side_of(self, address: str) -> Side:
        for side in self.sides.values():
            if address in side.addresses:
                return side
        raise KeyError(address)

    def load_iptables(self, text: str, *, legacy: bool = False) -> None:
        tool = "iptables-legacy-restore" if legacy else "iptables-restore"
        self.router.run([tool], input_text=text)

    def load_nft(self, text: str) -> None:
        self.router.run(["nft", "-f", "-"], input_text=text)

    def probe(
        self,
        probes: Sequence[tuple[str, str, str, int]],
        timeout: float = 1.0,
        *,
        published: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Connect (TCP) or exchange a datagram (UDP) for each (src, dst, proto, port).

        ``published`` maps a public address to the host address behind it (destination
        NAT on the router): a probe to the public address is listened for there."""
        listeners: list[subprocess.Popen[str]] = []
        behind = published or {}
        try:
            by_side: dict[str, set[tuple[str, str, int]]] = {}
            for _, dst, proto, port in probes:
                real = behind.get(dst, dst)
                side = self.side_of(real)
                by_side.setdefault(side.ns.name, set()).add((real, proto, port))
            for name, specs in by_side.items():
                ns = next(s.ns for s in self.sides.values() if s.ns.name == name)
                process = ns.popen(
                    [sys.executable, "-c", LISTENER, json.dumps(sorted(specs))],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                listeners.append(process)
                assert process.stdout is not None
                ready = process.stdout.readline()
                assert ready.strip() == "ready", process.stderr.read() if process.stderr else ""
            results: list[str] = [""] * len(probes)
            by_client: dict[str, list[int]] = {}
            for index, (src, _, _, _) in enumerate(probes):
                by_client.setdefault(self.side_of(src).ns.name, []).append(index)
            for name, indexes in by_client.items():
                ns = next(s.ns for s in self.sides.values() if s.ns.name == name)
                batch = [probes[i] for i in indexes]
                done = ns.run(
                    [sys.executable, "-c", PROBER, json.dumps(batch), str(timeout)], timeout=60
                )
                for index, outcome in zip(indexes, json.loads(done.stdout), strict=True):
                    results[index] = outcome
            return results
        finally:
            for process in listeners:
                process.kill()
                process.wait()


@contextmanager
def router_lab(sides: dict[str, tuple[str, str, list[str]]]) -> Iterator[Lab]:
    """Namespaces joined by a router.

    ``sides`` maps a router interface name to (router address/len, gateway address,
    host addresses/len): each side is one namespace behind that interface.
    """
    with NamespaceSet() as spaces:
        router = spaces.add("r", forwarding=True)
        lab = Lab(spaces, router)
        for index, (ifname, (router_cidr, gateway, hosts)) in enumerate(sides.items()):
            ns = spaces.add(f"s{index}")
            spaces.link(router, ifname, ns, "eth0")
            router.ip("addr", "add", router_cidr, "dev", ifname)
            for host in hosts:
                ns.ip("addr", "add", host, "dev", "eth0")
            family = "-6" if ":" in gateway else "-4"
            ns.ip(family, "route", "add", "default", "via", gateway)
            lab.sides[ifname] = Side(ns, [h.split("/")[0] for h in hosts])
        yield lab
