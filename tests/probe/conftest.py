"""A loopback lab: real responders on 127.0.0.x and a site file that points at them."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import dns.rcode
import pytest
import trustme

from flowmatrix.api import load_plan
from flowmatrix.model import Plan
from probe.responders import (
    dns_handler,
    free_port,
    ntp_handler,
    radius_handler,
    tls_server,
    udp_server,
)

RADIUS_SECRET = "lab-radius-secret"
#: Catalog features that would add flows to Internet services: all off in test sites.
QUIET_FEATURES = {
    "ios": False,
    "apns": False,
    "android": False,
    "fcm": False,
    "app-stores": False,
    "sms-relay": False,
    "ads": False,
    "windows-phone": False,
}


@dataclass
class Lab:
    site: Path
    ports: dict[str, int]
    ca_file: Path
    dns_port: int
    """Port of the lab DNS server on 127.0.0.5: svc.lab.test is 127.0.0.2 and localhost is
    127.0.0.33 (not the 127.0.0.3 the site gives 'web')."""

    def plan(self) -> Plan:
        return load_plan(str(self.site))


def lab_site(ports: dict[str, int]) -> str:
    """A site on loopback whose site-specific flows use ``ports``."""
    flows = [
        ("tcp-open", "svc", "tcp", ports["tcp_open"], None, False),
        ("tcp-closed", "svc", "tcp", ports["tcp_closed"], None, False),
        ("dns", "dns1", "udp", ports["dns"], "dns", False),
        ("ntp", "ntp1", "udp", ports["ntp"], "ntp", False),
        ("radius", "radius1", "udp", ports["radius"], "radius", False),
        ("syslog", "logs", "udp", ports["syslog"], "syslog", False),
        ("tls", "web", "tcp", ports["tls"], "https", True),
        ("named", "named", "tcp", ports["tcp_open"], None, False),
        ("to-network", "lan", "tcp", 443, None, False),
    ]
    lines = [
        "version: 1",
        "name: loopback lab",
        "zones:",
        "  - name: lab",
        "    cidrs: [127.0.0.0/17]",
        "  - name: lab-clients",
        "    cidrs: [127.0.128.0/17]",
        "firewalls:",
        "  - name: fw-lab",
        "    zones: [lab, lab-clients]",
        "hosts:",
        "  - {name: xms1, role: xenmobile, addresses: [127.0.0.1]}",
        "  - {name: svc, role: sql-server, addresses: [127.0.0.2]}",
        "  - {name: web, role: intranet-web, addresses: [127.0.0.3], fqdn: localhost}",
        "  - {name: logs, role: syslog-server, addresses: [127.0.0.4]}",
        "  - {name: dns1, role: dns-server, addresses: [127.0.0.5]}",
        "  - {name: ntp1, role: ntp-server, addresses: [127.0.0.6]}",
        "  - {name: radius1, role: radius-server, addresses: [127.0.0.7]}",
        "  - {name: named, role: smtp-server, fqdn: svc.lab.test, zone: lab}",
        "  - {name: lan, role: devices-lan, addresses: [127.0.128.0/24]}",
        "features:",
        *(f"  {k}: {str(v).lower()}" for k, v in QUIET_FEATURES.items()),
        "flows:",
    ]
    for name, destination, protocol, port, service, tls in flows:
        entry = (
            f"  - {{name: {name}, source: xms1, destination: {destination}, "
            f"protocols: [{protocol}], ports: [{port}]"
        )
        if service:
            entry += f", service: {service}"
        if tls:
            entry += ", tls: true"
        lines.append(entry + "}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    folder = tmp_path_factory.mktemp("lab")
    ca = trustme.CA()
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    with ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.2", 0))
        listener.listen(16)
        ports = {
            "tcp_open": listener.getsockname()[1],
            "tcp_closed": free_port(address="127.0.0.2"),
        }
        ports["syslog"] = stack.enter_context(udp_server(lambda _: None, "127.0.0.4"))
        records = {"svc.lab.test": "127.0.0.2", "localhost": "127.0.0.33"}
        ports["dns"] = stack.enter_context(
            udp_server(dns_handler(dns.rcode.REFUSED, records), "127.0.0.5")
        )
        ports["ntp"] = stack.enter_context(udp_server(ntp_handler(), "127.0.0.6"))
        ports["radius"] = stack.enter_context(
            udp_server(radius_handler(RADIUS_SECRET.encode()), "127.0.0.7")
        )
        ports["tls"] = stack.enter_context(tls_server(context, "127.0.0.3"))
        site = folder / "site.yaml"
        site.write_text(lab_site(ports))
        yield Lab(site, ports, ca_file, ports["dns"])
