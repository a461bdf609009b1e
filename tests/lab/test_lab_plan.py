"""The lab's address plan and cases, without a kernel."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from flowmatrix.api import example_names, load_plan
from flowmatrix.lab.addressing import build_address_plan
from flowmatrix.lab.cases import Allowed, build_cases
from flowmatrix.lab.topology import interface_names
from flowmatrix.model import Plan

EDGE = str(Path(__file__).parent / "data" / "edge-cases.yaml")


@pytest.fixture(scope="module")
def default_plan() -> Plan:
    return load_plan(None)


def test_representatives(default_plan: Plan) -> None:
    addresses = build_address_plan(default_plan)
    assert addresses.representative["10.10.20.11"] == "10.10.20.11"
    assert addresses.representative["10.10.50.0/24"] == "10.10.50.1"
    assert addresses.representative["17.0.0.0/8"] == "17.0.0.1"
    internet = addresses.any_address("internet", 4)
    assert internet is not None and ipaddress.ip_address(internet) in ipaddress.ip_network(
        "203.0.113.0/24"
    )
    assert "17.0.0.1" in addresses.by_zone["internet"]
    assert set(addresses.by_zone["servers"]) >= {"10.10.20.11", "10.10.20.12", "10.10.20.42"}


def test_strangers_belong_to_nobody(default_plan: Plan) -> None:
    addresses = build_address_plan(default_plan)
    stranger = addresses.stranger("servers", 4)
    assert stranger == "10.10.20.254"
    hosts = {a for h in default_plan.site.hosts for a in h.all_addresses()}
    assert stranger not in hosts


def test_transit_avoids_the_site() -> None:
    plan = load_plan(EDGE)
    addresses = build_address_plan(plan)
    addresses.plan_transit()
    site = [ipaddress.ip_network(c) for z in plan.site.zones for c in z.cidrs]
    for transit in addresses.transit.values():
        for net in (transit.v4, transit.v6):
            assert net is not None
            assert not any(net.version == s.version and net.overlaps(s) for s in site)  # type: ignore[arg-type]
    assert addresses.ipv6


def test_linux_refuses_vendor_interface_names() -> None:
    plan = load_plan(EDGE)
    edge = next(f for f in plan.site.firewalls if f.name == "pa-edge")
    assert interface_names(edge) == {"internet": "fm0", "dmz": "fm1"}
    default = load_plan(None).site.firewalls[1]
    assert interface_names(default) == {
        "dmz": "eth0",
        "servers": "eth1",
        "admin": "eth2",
        "lan-wifi": "eth3",
    }


@pytest.mark.parametrize("example", example_names())
def test_cases_cover_the_plan_and_unplanned_ones_are_not_allowed(example: str) -> None:
    plan = load_plan(None if example == "default" else f"example:{example}")
    addresses = build_address_plan(plan)
    cases, skipped = build_cases(plan, addresses)
    planned = {c.flow for c in cases if c.planned}
    crossing = {f.id for f in plan.flows if f.firewalls}
    assert planned | {s.flow for s in skipped} >= crossing
    allowed = Allowed(plan)
    unplanned = [c for c in cases if not c.planned]
    assert unplanned
    for case in unplanned:
        assert not allowed(
            case.source_address, case.destination_address, case.protocol, case.port
        ), case
        assert case.firewalls
    assert len({c.id for c in unplanned}) == len(unplanned)
    assert {c.variant for c in unplanned} == {"other-port", "reversed", "other-source"}
    for case in cases:
        assert case.source_address in addresses.by_zone[case.source_zone]
        assert case.destination_address in addresses.by_zone[case.destination_zone]


def test_allowed_treats_any_as_every_address(default_plan: Plan) -> None:
    allowed = Allowed(default_plan)
    assert allowed("198.51.100.7", "172.16.10.10", "tcp", 443)
    assert not allowed("198.51.100.7", "172.16.10.10", "tcp", 444)
    assert allowed("10.10.99.1", "10.10.20.12", "tcp", 8443)
    assert not allowed("10.10.20.254", "10.10.20.41", "tcp", 389)
