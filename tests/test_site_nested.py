"""Nested zones (site format 2): an address belongs to the most specific zone holding it,
and the plan, the rules, the audit and the lab work on each zone's own addresses."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.clean import assert_audits_clean, audit_generated
from flowmatrix.api import load_plan
from flowmatrix.audit.scope import zone_addresses
from flowmatrix.site import Zone
from flowmatrix.topology import ZoneIndex, zone_networks

NESTED = """\
version: 2
name: nested
zones:
  - {name: internet, internet: true}
  - {name: dmz, cidrs: [172.16.10.0/24]}
  - name: campus                      # the rest of the hospital network
    cidrs: [10.0.0.0/8]
  - name: servers                     # inside campus
    cidrs: [10.31.8.0/23]
  - name: wifi                        # inside campus too
    cidrs: [10.60.0.0/16]
firewalls:
  - {name: fw-front, zones: [internet, dmz]}
  - name: core
    zones: [dmz, campus, servers, wifi]
    interfaces: {dmz: eth0, campus: eth1, servers: eth2, wifi: eth3}
hosts:
  - name: nsg1
    roles: [netscaler-gateway]
    netscaler: {nsip: 172.16.10.5, vip: [172.16.10.10], snip: [172.16.10.20]}
  - name: xms1
    roles: [xenmobile]
    addresses: [10.31.8.11]
  - name: dc1
    roles: [ldap-server, dns-server]
    addresses: [10.99.0.10]           # outside servers: in campus, not the Internet
  - name: admins
    roles: [admin-browser]
    addresses: [10.20.5.0/27]
  - name: phones
    roles: [devices-lan]
    addresses: [10.60.0.0/16]
"""


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    path = tmp_path / "nested.yaml"
    path.write_text(NESTED, "utf-8")
    return path


def _index(zones: tuple[Zone, ...]) -> ZoneIndex:
    entries = [(ipaddress.ip_network(c), z.name) for z in zones for c in z.cidrs]
    entries.sort(key=lambda item: (item[0].version, -item[0].prefixlen))
    return ZoneIndex(tuple(entries), None)


@st.composite
def _nested_zones(draw: Any) -> tuple[Zone, ...]:
    """Zones of one network each, inside 10.0.0.0/8, nesting as they fall."""
    networks: set[ipaddress.IPv4Network] = set()
    for _ in range(draw(st.integers(1, 7))):
        length = draw(st.integers(8, 28))
        start = draw(st.integers(0, (1 << 24) - 1))
        networks.add(
            ipaddress.ip_network((0x0A000000 + start, 32), strict=False).supernet(32 - length)
        )  # type: ignore[arg-type]
    return tuple(Zone(name=f"z{i}", cidrs=(str(n),)) for i, n in enumerate(sorted(networks)))


@settings(max_examples=200, deadline=None)
@given(_nested_zones(), st.lists(st.integers(0, (1 << 24) - 1), min_size=1, max_size=30))
def test_own_networks_hold_exactly_the_addresses_of_the_most_specific_zone(
    zones: tuple[Zone, ...], offsets: list[int]
) -> None:
    own = zone_networks(zones)
    index = _index(zones)
    for offset in offsets:
        address = ipaddress.ip_network(0x0A000000 + offset)
        holders = [name for name, nets in own.items() if any(address.subnet_of(n) for n in nets)]  # type: ignore[arg-type]
        expected = index.zone_of(address)
        assert holders == ([expected] if expected is not None else []), (address, own)
    every = [n for nets in own.values() for n in nets]
    for i, a in enumerate(every):  # the zones' own networks never share an address
        assert not any(a.overlaps(b) for b in every[i + 1 :])
    declared = {ipaddress.ip_network(c) for z in zones for c in z.cidrs}
    covered = sum(n.num_addresses for n in ipaddress.collapse_addresses(every))  # type: ignore[type-var]
    assert covered == sum(n.num_addresses for n in ipaddress.collapse_addresses(declared))  # type: ignore[type-var]


def test_an_address_belongs_to_the_most_specific_zone(nested: Path) -> None:
    plan = load_plan(nested)
    assert not plan.warnings  # 10.99.0.10 is campus, not a private address on the Internet
    zones = {h.name: f.source.zone for f in plan.flows for h in f.source.hosts}
    zones |= {h.name: f.destination.zone for f in plan.flows for h in f.destination.hosts}
    assert zones["xms1"] == "servers"
    assert zones["dc1"] == "campus"
    assert zones["phones"] == "wifi"
    to_the_dc = [f for f in plan.flows if f.destination.role == "ldap-server"]
    assert to_the_dc and all(f.firewalls == ("core",) for f in to_the_dc)


def test_a_zone_s_addresses_leave_out_the_zones_nested_in_it(nested: Path) -> None:
    plan = load_plan(nested)
    campus = zone_addresses(plan.site, "campus")[4]
    servers = zone_addresses(plan.site, "servers")[4]

    def holds(ivs: Any, address: str) -> bool:
        value = int(ipaddress.ip_address(address))
        return any(low <= value <= high for low, high in ivs)

    assert holds(campus, "10.99.0.10") and not holds(campus, "10.31.8.11")
    assert holds(servers, "10.31.8.11") and not holds(servers, "10.99.0.10")
    assert not holds(campus, "10.60.1.1")
    assert [str(n) for n in zone_networks(plan.site.zones)["servers"]] == ["10.31.8.0/23"]
    campus_networks = zone_networks(plan.site.zones)["campus"]  # the /8 around a /23 and a /16
    assert sum(n.num_addresses for n in campus_networks) == (1 << 24) - 512 - 65536


@pytest.mark.parametrize("target", ["nftables", "iptables"])
@pytest.mark.parametrize("firewall", ["fw-front", "core"])
def test_rules_of_a_nested_site_audit_clean(
    nested: Path, tmp_path: Path, firewall: str, target: str
) -> None:
    plan = load_plan(nested)
    assert_audits_clean(audit_generated(plan, firewall, target, tmp_path), plan, target)


def test_version_1_still_refuses_nested_zones(tmp_path: Path, run_cli: Any) -> None:
    site = tmp_path / "v1.yaml"
    v1 = re.sub(
        r"roles: \[([\w-]+)[^]]*\]", r"role: \1", NESTED.replace("version: 2", "version: 1")
    )
    site.write_text(v1, "utf-8")
    result = run_cli("plan", str(site))
    assert result.code == 2
    assert "zone 'servers' overlaps zone 'campus' (10.31.8.0/23 and 10.0.0.0/8)" in result.stderr
    assert "nested zones need 'version: 2'" in result.stderr


@pytest.mark.kernel
def test_the_lab_proves_flows_between_a_zone_and_the_zones_nested_in_it(
    nested: Path, run_cli: Any
) -> None:
    result = run_cli("lab", str(nested), "-f", "json", "--timeout", "0.5")
    assert result.code == 0, result
    document = json.loads(result.stdout)
    plan = load_plan(nested)
    across = {
        f.id
        for f in plan.flows
        if {f.source.zone, f.destination.zone} in ({"campus", "servers"}, {"campus", "dmz"})
    }
    proved = {r["flow"] for r in document["results"] if r["verdict"] == "pass"}
    assert across and across <= proved
    summary = document["summary"]
    assert summary["passed"] == summary["planned"] and summary["leaks"] == 0
    reversed_across = [  # the way back, from the outer zone into the nested one, stays shut
        r
        for r in document["results"]
        if r["variant"] == "reversed"
        and (r["source"]["zone"], r["destination"]["zone"]) == ("campus", "servers")
    ]
    assert reversed_across and all(r["verdict"] == "blocked" for r in reversed_across)


BOUND = """\
config system interface
    edit "port1"
        set ip 172.16.10.1 255.255.255.0
    next
    edit "port2"
        set ip 10.31.8.1 255.255.254.0
    next
    edit "port3"
        set ip 10.1.0.1 255.255.0.0
    next
    edit "port4"
        set ip 10.60.0.1 255.255.0.0
    next
end
config firewall policy
    edit 1
        set srcintf "port1"
        set dstintf "port2"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set schedule "always"
        set service "ALL"
    next
end
"""


def test_a_vendor_s_interfaces_bind_to_the_most_specific_zone(nested: Path, tmp_path: Path) -> None:
    # port2 (10.31.8.1/23) lies in campus's 10.0.0.0/8 too: it is the servers' interface,
    # and campus gets port3, the interface in its own addresses
    from flowmatrix.audit.from_files import audit

    unbound = nested.read_text("utf-8").replace(
        "    interfaces: {dmz: eth0, campus: eth1, servers: eth2, wifi: eth3}\n", ""
    )
    nested.write_text(unbound, "utf-8")
    config = tmp_path / "core.conf"
    config.write_text(BOUND, "utf-8")
    report = audit(nested, ruleset=config, firewall="core")
    bound = {n.split(" is FortiGate interface ")[0]: n for n in report.notes if " is Forti" in n}
    assert "port2" in bound["site zone servers"] and "port3" in bound["site zone campus"]
    assert "port4" in bound["site zone wifi"] and "port1" in bound["site zone dmz"]
