"""verify and listen across real network namespaces, with nftables deciding.

    src (198.18.1.2, .3) ── fw (198.18.1.1 | 198.18.2.1) ── dst (198.18.2.10, .11)

The destination's nftables drops some ports, rejects others with a TCP reset, with
ICMP admin-prohibited or with ICMP port-unreachable; the firewall in the middle rejects
one port itself. Every classification is checked against that ground truth. All traffic
stays inside the namespaces, which are deleted at the end (also on failure).
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import dns.rcode
import pytest
import trustme

from flowmatrix.api import load_plan
from flowmatrix.model import Plan
from flowmatrix.netns import Namespace, NamespaceSet, leftover_namespaces
from flowmatrix.probe import ProbeOptions, ProbeResult, Selection, VerifyReport, verify
from flowmatrix.probe.dns_check import ResolverSpec, same_namespace_resolution
from flowmatrix.probe.listen import ListenSession, build_listen_setup
from flowmatrix.probe.netns_thread import run_in_netns
from probe.conftest import QUIET_FEATURES
from probe.responders import dns_handler, ntp_handler, radius_handler, tls_server, udp_server
from probe.running import Running

pytestmark = pytest.mark.kernel

SECRET = "kernel-radius"
DST, DST2 = "198.18.2.10", "198.18.2.11"
DST6 = "2001:db8:2::10"
FW = "198.18.1.1"

#: name -> (protocol, port, service, tls, expected state)
EXPECTED: dict[str, tuple[str, int, str | None, bool, str]] = {
    "open": ("tcp", 7001, None, False, "open"),
    "closed": ("tcp", 7002, None, False, "closed"),
    "dropped": ("tcp", 7003, None, False, "filtered"),
    "reset": ("tcp", 7004, None, False, "closed"),
    "prohibited": ("tcp", 7005, None, False, "unreachable"),
    "on-path": ("tcp", 7006, None, False, "unreachable"),
    "port-unreach": ("tcp", 7007, None, False, "unreachable"),
    "tls": ("tcp", 7443, "https", True, "open"),
    "dns": ("udp", 5300, "dns", False, "open"),
    "ntp": ("udp", 1230, "ntp", False, "open"),
    "radius": ("udp", 18120, "radius", False, "open"),
    "syslog": ("udp", 5140, "syslog", False, "open|filtered"),
    "udp-prohibited": ("udp", 5141, "dns", False, "unreachable"),
    "udp-closed": ("udp", 5142, "dns", False, "closed"),
    "udp-dropped": ("udp", 5143, "dns", False, "filtered"),
}

DST_RULES = """
table inet fmtest {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 7003 drop
    tcp dport 7004 reject with tcp reset
    tcp dport 7005 reject with icmpx type admin-prohibited
    tcp dport 7007 reject with icmpx type port-unreachable
    udp dport 5141 reject with icmpx type admin-prohibited
    udp dport 5143 drop
    tcp dport 389 ip saddr != 198.18.1.2 drop
    tcp dport 8443 ip saddr != 198.18.1.3 drop
  }
}
"""
FW_RULES = """
table inet fmtest {
  chain forward {
    type filter hook forward priority 0; policy accept;
    tcp dport 7006 reject with icmpx type admin-prohibited
  }
}
"""


def site_text() -> str:
    lines = [
        "version: 1",
        "name: kernel lab",
        "zones:",
        "  - {name: clients, cidrs: [198.18.1.0/24, '2001:db8:1::/64']}",
        "  - {name: servers, cidrs: [198.18.2.0/24, '2001:db8:2::/64']}",
        "firewalls:",
        "  - {name: fw, zones: [clients, servers]}",
        "hosts:",
        "  - {name: xms1, role: xenmobile, addresses: [198.18.1.2, '2001:db8:1::2']}",
        "  - name: nsg1",
        "    role: netscaler-gateway",
        "    netscaler: {nsip: 198.18.1.2, snip: [198.18.1.3], vip: [198.18.1.4]}",
        f"  - {{name: srv, role: sql-server, addresses: [{DST}, '{DST6}'], fqdn: srv.lab.test}}",
        f"  - {{name: dc1, role: ldap-server, addresses: [{DST}]}}",
        f"  - {{name: xms9, role: xenmobile, addresses: [{DST2}]}}",
        "features:",
        *(f"  {k}: {str(v).lower()}" for k, v in QUIET_FEATURES.items()),
        "flows:",
    ]
    for name, (protocol, port, service, tls, _) in EXPECTED.items():
        extra = (f", service: {service}" if service else "") + (", tls: true" if tls else "")
        lines.append(
            f"  - {{name: {name}, source: xms1, destination: srv, protocols: [{protocol}], "
            f"ports: [{port}]{extra}}}"
        )
    return "\n".join(lines) + "\n"


@dataclass
class KernelLab:
    src: Namespace
    dst: Namespace
    plan: Plan
    ca_file: str

    def verify(self, selection: Selection, options: ProbeOptions) -> VerifyReport:
        """Verify from the source namespace; names go to the lab's DNS server only."""
        options = replace(options, resolver=ResolverSpec(DST, 5300))
        return run_in_netns(self.src.name, lambda: verify(self.plan, selection, options))


def _sysctl_quiet(ns: Namespace, key: str, value: str) -> None:
    ns.run(["sysctl", "-q", "-w", f"{key}={value}"], check=False)


@pytest.fixture(scope="module")
def kernel_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelLab]:
    folder = tmp_path_factory.mktemp("kernel")
    site = folder / "site.yaml"
    site.write_text(site_text())
    ca = trustme.CA()
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    nss = NamespaceSet()
    with nss, ExitStack() as stack:
        src, fw, dst = nss.add("src"), nss.add("fw", forwarding=True), nss.add("dst")
        nss.link(src, "eth0", fw, "eth0")
        nss.link(fw, "eth1", dst, "eth0")
        for address in ("198.18.1.2/24", "198.18.1.3/24", "198.18.1.4/24"):
            src.ip("addr", "add", address, "dev", "eth0")
        src.ip("addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad")
        fw.ip("addr", "add", f"{FW}/24", "dev", "eth0")
        fw.ip("addr", "add", "2001:db8:1::1/64", "dev", "eth0", "nodad")
        fw.ip("addr", "add", "198.18.2.1/24", "dev", "eth1")
        fw.ip("addr", "add", "2001:db8:2::1/64", "dev", "eth1", "nodad")
        dst.ip("addr", "add", f"{DST}/24", "dev", "eth0")
        dst.ip("addr", "add", f"{DST2}/24", "dev", "eth0")
        dst.ip("addr", "add", f"{DST6}/64", "dev", "eth0", "nodad")
        src.ip("route", "add", "default", "via", FW)
        src.ip("-6", "route", "add", "default", "via", "2001:db8:1::1")
        dst.ip("route", "add", "default", "via", "198.18.2.1")
        dst.ip("-6", "route", "add", "default", "via", "2001:db8:2::1")
        for ns in (fw, dst):  # the classification is under test, not ICMP rate limits
            _sysctl_quiet(ns, "net.ipv4.icmp_ratelimit", "0")
            _sysctl_quiet(ns, "net.ipv6.icmp.ratelimit", "0")
        dst.run(["nft", "-f", "-"], input_text=DST_RULES)
        fw.run(["nft", "-f", "-"], input_text=FW_RULES)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("srv.lab.test").configure_cert(context)

        def serve() -> None:
            for address in (DST, DST6):
                listener = stack.enter_context(
                    socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
                )
                listener.bind((address, 7001))
                listener.listen(16)
            for address, port in ((DST, 389), (DST2, 8443)):
                listener = stack.enter_context(socket.socket())
                listener.bind((address, port))
                listener.listen(16)
            records = {"srv.lab.test": DST}
            stack.enter_context(udp_server(dns_handler(dns.rcode.REFUSED, records), DST, 5300))
            stack.enter_context(udp_server(ntp_handler(), DST, 1230))
            stack.enter_context(udp_server(radius_handler(SECRET.encode()), DST, 18120))
            stack.enter_context(udp_server(lambda _: None, DST, 5140))
            stack.enter_context(udp_server(dns_handler(), DST, 5141))
            stack.enter_context(udp_server(dns_handler(), DST, 5143))
            port = stack.enter_context(tls_server(context, DST))
            assert port  # the TLS server takes a free port: fix it in the plan below
            lab_ports["tls"] = port

        lab_ports: dict[str, int] = {}
        run_in_netns(dst.name, serve)
        site.write_text(site_text().replace("ports: [7443]", f"ports: [{lab_ports['tls']}]"))
        yield KernelLab(src, dst, load_plan(str(site)), str(ca_file))
    assert leftover_namespaces(nss.prefix) == []


def _by_flow(report: VerifyReport) -> dict[str, list[ProbeResult]]:
    found: dict[str, list[ProbeResult]] = {}
    for result in report.results:
        found.setdefault(result.requirement.removeprefix("SITE-"), []).append(result)
    return found


def test_every_classification_is_right(kernel_lab: KernelLab) -> None:
    options = ProbeOptions(
        timeout=0.6, retries=1, radius_secret=SECRET.encode(), ca_file=kernel_lab.ca_file
    )
    # auto: the source namespace's addresses match xms1 in the plan
    names = tuple(f"SITE-{name}" for name in EXPECTED)
    report = kernel_lab.verify(Selection(source="auto", flows=names), options)
    results = _by_flow(report)
    for name, (_, _, _, _, expected) in EXPECTED.items():
        v4 = [r for r in results[name] if r.address == DST]
        assert len(v4) == 1, name
        assert v4[0].state == expected, (name, v4[0].state, v4[0].reason)
        assert v4[0].source_address == "198.18.1.2", name
    reasons = {name: results[name][0].reason for name in EXPECTED}
    assert "from the destination itself: a firewall refuses the flow" in reasons["prohibited"]
    assert "administratively prohibited (3/13)" in reasons["prohibited"]
    assert f"from {FW} (a device on the path)" in reasons["on-path"]
    assert "port unreachable (3/3)" in reasons["port-unreach"]
    assert "not proof" in reasons["reset"]
    assert "two-ended" in reasons["syslog"]
    assert "ICMP destination unreachable: port unreachable" in reasons["udp-closed"]
    assert "administratively prohibited" in reasons["udp-prohibited"]
    assert "DNS server answers every query" in reasons["udp-dropped"]
    tls = results["tls"][0]
    assert tls.tls is not None and tls.tls.trusted and tls.tls.name_matches
    assert tls.findings == ()


def test_ipv6_classifications(kernel_lab: KernelLab) -> None:
    flows = ("SITE-open", "SITE-closed", "SITE-dropped", "SITE-prohibited", "SITE-on-path")
    report = kernel_lab.verify(Selection(source="xms1", flows=flows), ProbeOptions(timeout=0.6))
    v6 = {r.requirement: r for r in report.results if r.address == DST6}
    assert {k: r.state for k, r in v6.items()} == {
        "SITE-open": "open",
        "SITE-closed": "closed",
        "SITE-dropped": "filtered",
        "SITE-prohibited": "unreachable",
        "SITE-on-path": "unreachable",
    }
    assert "ICMPv6 destination unreachable: communication administratively prohibited" in (
        v6["SITE-prohibited"].reason
    )
    assert "(a device on the path)" in v6["SITE-on-path"].reason
    assert all(r.source_address == "2001:db8:1::2" for r in v6.values())


def test_netscaler_sources_nsip_for_ldap_snip_for_backend(kernel_lab: KernelLab) -> None:
    """The destination only accepts LDAP from the NSIP and 8443 from the SNIP."""
    report = kernel_lab.verify(
        Selection(source="netscaler-gateway", flows=("XM-APP-06", "XM-APP-24")),
        ProbeOptions(timeout=0.6, check_tls=False),
    )
    by_port = {(r.address, r.port): r for r in report.results if r.address in {DST, DST2}}
    ldap = by_port[(DST, 389)]
    backend = by_port[(DST2, 8443)]
    assert (ldap.state, ldap.source_address) == ("open", "198.18.1.2")
    assert (backend.state, backend.source_address) == ("open", "198.18.1.3")


def test_two_ended_syslog_and_radius_with_listen_in_the_destination(
    kernel_lab: KernelLab, tmp_path: Path
) -> None:
    # a second destination address stands in for servers that are not installed yet
    site = tmp_path / "site.yaml"
    site.write_text(
        "\n".join(
            [
                "version: 1",
                "name: two-ended",
                "zones:",
                "  - {name: clients, cidrs: [198.18.1.0/24]}",
                "  - {name: servers, cidrs: [198.18.2.0/24]}",
                "firewalls: [{name: fw, zones: [clients, servers]}]",
                "hosts:",
                "  - {name: xms1, role: xenmobile, addresses: [198.18.1.2]}",
                f"  - {{name: logs, role: syslog-server, addresses: [{DST2}]}}",
                "features:",
                *(f"  {k}: {str(v).lower()}" for k, v in QUIET_FEATURES.items()),
                "  syslog: true",
                "flows:",
                "  - {name: radius, source: xms1, destination: logs, protocols: [udp], "
                "ports: [1812], service: radius}",
                "  - {name: never, source: xms1, destination: logs, ports: [7999]}",
            ]
        )
        + "\n"
    )
    plan = load_plan(str(site))
    setup = run_in_netns(kernel_lab.dst.name, lambda: build_listen_setup(plan, "auto"))
    assert setup.addresses == (DST2,)
    with Running(ListenSession(setup), netns=kernel_lab.dst.name) as running:
        assert all(b.bound for b in running.bindings)  # 514 as root in the namespace
        plain = run_in_netns(
            kernel_lab.src.name,
            lambda: verify(
                plan, Selection(flows=("XM-APP-14", "SITE-radius")), ProbeOptions(timeout=0.6)
            ),
        )
        two = run_in_netns(
            kernel_lab.src.name,
            lambda: verify(
                plan, Selection(flows=("SITE-radius",)), ProbeOptions(timeout=0.6, two_ended=True)
            ),
        )
    states = {r.requirement: (r.state, r.two_ended) for r in plain.results}
    assert states == {"XM-APP-14": ("open", True), "SITE-radius": ("not_probed", False)}
    assert (two.results[0].state, two.results[0].two_ended) == ("open", True)
    assert running.report is not None
    arrived = {a.requirement: a for a in running.report.arrivals}
    assert arrived["XM-APP-14"].sources == ("198.18.1.2",)
    assert arrived["SITE-radius"].arrived
    assert not arrived["SITE-never"].arrived


def test_name_resolution_follows_the_thread_into_its_namespace(kernel_lab: KernelLab) -> None:
    def inode() -> int:
        return os.stat("/proc/thread-self/ns/net").st_ino

    def inside() -> tuple[int, int]:
        with same_namespace_resolution() as executor:
            assert executor is not None
            return inode(), executor.submit(inode).result()

    here, worker = run_in_netns(kernel_lab.src.name, inside)
    assert here == worker != inode()
    with same_namespace_resolution() as executor:  # the main thread: nothing to follow
        assert executor is None
