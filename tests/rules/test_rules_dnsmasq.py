"""The name sets' refresh, for real: dnsmasq on the firewall fills them as clients resolve.

Three namespaces: ``srv`` (XenMobile, the client), ``fw`` (the router: the generated
rules, and dnsmasq with the generated ``nftset=`` / ``ipset=`` lines, forwarding to the
Internet's DNS), ``inet`` (a second dnsmasq answering for the relay's name with
``address=``, and listeners on two addresses, only one of which the name resolves to).
Before the client resolves, the set is empty and the flow is blocked; after, the answer
is in the set and a TCP connection to it passes; the other address stays blocked.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dns.resolver
import pytest
from tests.rules.netprobe import connect

from flowmatrix.api import load_plan
from flowmatrix.model import Plan
from flowmatrix.netns import Namespace, NamespaceSet
from flowmatrix.probe.netns_thread import run_in_netns
from flowmatrix.rules import Scope, generate

SITE = """\
version: 1
name: Name sets refreshed by dnsmasq
zones:
  - name: internet
    internet: true
  - name: servers
    cidrs: [10.63.0.0/24, "fd00:63::/64"]
firewalls:
  - name: fw
    zones: [internet, servers]
    interfaces: {internet: e-inet, servers: e-srv}
hosts:
  - name: xms
    role: xenmobile
    addresses: [10.63.0.11, "fd00:63::11"]
  - name: relay
    role: sms-relay
    fqdn: relay.example.net
    zone: internet
features:
  clustering: false
  remote-sql: false
  ldap: false
  xenapp: false
  storefront: false
  intranet-vpn: false
  apns: false
  fcm: false
  admin-console: false
  callback-url: false
  sms-relay: true
"""
NAME = "relay.example.net"
#: The Internet's DNS server, the relay's address (what the name resolves to), another one.
UPSTREAM, RELAY, OTHER = "203.0.113.53", "203.0.113.25", "203.0.113.26"
RELAY6, OTHER6 = "2001:db8:113::25", "2001:db8:113::26"
FW_SRV, FW_SRV6 = "10.63.0.1", "fd00:63::1"


@dataclass
class Lab:
    made: NamespaceSet
    folder: Path
    ns: dict[str, Namespace] = field(default_factory=dict)
    processes: list[subprocess.Popen[str]] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)

    def build(self) -> None:
        fw = self.ns["fw"] = self.made.add("fw", forwarding=True)
        srv = self.ns["srv"] = self.made.add("srv")
        inet = self.ns["inet"] = self.made.add("inet")
        self.made.link(fw, "e-srv", srv, "eth0")
        self.made.link(fw, "e-inet", inet, "eth0")
        fw.ip("addr", "add", f"{FW_SRV}/24", "dev", "e-srv")
        fw.ip("addr", "add", f"{FW_SRV6}/64", "dev", "e-srv", "nodad")
        fw.ip("addr", "add", "203.0.113.1/24", "dev", "e-inet")
        fw.ip("addr", "add", "2001:db8:113::1/64", "dev", "e-inet", "nodad")
        srv.ip("addr", "add", "10.63.0.11/24", "dev", "eth0")
        srv.ip("addr", "add", "fd00:63::11/64", "dev", "eth0", "nodad")
        srv.ip("route", "add", "default", "via", FW_SRV)
        srv.ip("-6", "route", "add", "default", "via", FW_SRV6)
        for address in (UPSTREAM, RELAY, OTHER):
            inet.ip("addr", "add", f"{address}/24", "dev", "eth0")
        for address in (RELAY6, OTHER6):
            inet.ip("addr", "add", f"{address}/64", "dev", "eth0", "nodad")
        inet.ip("route", "add", "default", "via", "203.0.113.1")
        inet.ip("-6", "route", "add", "default", "via", "2001:db8:113::1")
        for address in (RELAY, OTHER, RELAY6, OTHER6):
            self.sockets.append(run_in_netns(inet.name, lambda a=address: _listen(a, 443)))
        self.dnsmasq(
            "inet",
            f"--listen-address={UPSTREAM}",
            f"--address=/{NAME}/{RELAY}",
            f"--address=/{NAME}/{RELAY6}",
        )

    def dnsmasq(self, where: str, *options: str) -> None:
        """dnsmasq in the foreground in namespace ``where``, stopped at the end."""
        program = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        command = [
            program, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", "--bind-interfaces", "--user=root", "--log-facility=-",
            f"--pid-file={self.folder / f'{where}.pid'}", *options,
        ]  # fmt: skip
        process = self.ns[where].popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.processes.append(process)
        time.sleep(0.3)
        assert process.poll() is None, process.communicate()[0]

    def resolve(self, kind: str) -> list[str]:
        """The client's question to the firewall's dnsmasq."""

        def ask() -> list[str]:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [FW_SRV]
            resolver.lifetime = 3
            return sorted(r.to_text() for r in resolver.resolve(NAME, kind))

        return run_in_netns(self.ns["srv"].name, ask)

    def reach(self, address: str) -> str:
        return run_in_netns(self.ns["srv"].name, lambda: connect(address, 443))

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for sock in self.sockets:
            sock.close()


def _listen(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(16)
    return sock


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    return load_plan(str(site))


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    if shutil.which("dnsmasq") is None and not Path("/usr/sbin/dnsmasq").exists():
        pytest.fail("dnsmasq is not installed (scripts/test installs dnsmasq-base)")
    with NamespaceSet() as made:
        built = Lab(made, tmp_path)
        try:
            built.build()
            yield built
        finally:
            built.close()


@pytest.mark.kernel
def test_dnsmasq_fills_the_nftables_name_sets(plan: Plan, lab: Lab) -> None:
    out = generate(plan, Scope("firewall", "fw"), "nftables")
    assert not out.errors, out.errors
    snippet = lab.folder / "nftset.conf"
    snippet.write_text(out.side_files["dnsmasq"], encoding="utf-8")
    fw = lab.ns["fw"]
    fw.run(["nft", "-f", "-"], input_text=out.text)
    lab.dnsmasq(
        "fw", f"--listen-address={FW_SRV}", f"--server={UPSTREAM}", f"--conf-file={snippet}"
    )

    def listed() -> list[str]:
        return [
            fw.run(
                ["nft", "list", "set", "inet", "flowmatrix_fw", f"fqdn_relay_example_net_v{f}"]
            ).stdout
            for f in (4, 6)
        ]

    # before the client resolves: the set is empty, the flow blocked
    assert RELAY not in listed()[0]
    assert lab.reach(RELAY) == "dropped" and lab.reach(RELAY6) == "dropped"
    assert lab.resolve("A") == [RELAY] and lab.resolve("AAAA") == [RELAY6]
    # the answers reached the sets: the flow passes, and only to what was resolved
    assert lab.reach(RELAY) == "open" and lab.reach(RELAY6) == "open"
    assert lab.reach(OTHER) == "dropped" and lab.reach(OTHER6) == "dropped"
    v4, v6 = listed()
    assert RELAY in v4 and OTHER not in v4 and RELAY6 in v6


@pytest.mark.kernel
def test_dnsmasq_fills_the_ipsets_of_the_iptables_rules(plan: Plan, lab: Lab) -> None:
    v4 = generate(plan, Scope("firewall", "fw"), "iptables")
    v6 = generate(plan, Scope("firewall", "fw"), "ip6tables")
    assert not v4.errors and not v6.errors
    assert v4.side_files["ipset"] == v6.side_files["ipset"]
    snippet = lab.folder / "ipset.conf"
    snippet.write_text(v4.side_files["dnsmasq"], encoding="utf-8")
    fw = lab.ns["fw"]
    fw.run(["ipset", "restore", "-exist"], input_text=v4.side_files["ipset"])
    fw.run(["iptables-restore"], input_text=v4.text)
    fw.run(["ip6tables-restore"], input_text=v6.text)
    lab.dnsmasq(
        "fw", f"--listen-address={FW_SRV}", f"--server={UPSTREAM}", f"--conf-file={snippet}"
    )
    assert lab.reach(RELAY) == "dropped" and lab.reach(RELAY6) == "dropped"
    assert lab.resolve("A") == [RELAY] and lab.resolve("AAAA") == [RELAY6]
    assert lab.reach(RELAY) == "open" and lab.reach(RELAY6) == "open"
    assert lab.reach(OTHER) == "dropped" and lab.reach(OTHER6) == "dropped"
    listed = [fw.run(["ipset", "list", f"fqdn_relay_example_net_v{f}"]).stdout for f in (4, 6)]
    assert RELAY in listed[0] and OTHER not in listed[0] and RELAY6 in listed[1]
