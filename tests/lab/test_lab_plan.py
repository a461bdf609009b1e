"""The lab's address plan and cases, without a kernel."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from flowmatrix.api import example_names, example_text, load_plan
from flowmatrix.lab.addressing import build_address_plan
from flowmatrix.lab.cases import Allowed, build_cases
from flowmatrix.lab.namespaces import interface_names
from flowmatrix.model import Plan
from lab.scale_site import generate_site

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
    crossing = {f.id for f in plan.flows if f.firewalls and f.requested}
    assert planned | {s.flow for s in skipped} >= crossing
    refused = {c.flow for c in cases if c.variant == "not-requested"}
    assert refused | {s.flow for s in skipped} >= {f.id for f in plan.flows if not f.requested}
    allowed = Allowed(plan)
    unplanned = [c for c in cases if not c.planned]
    assert unplanned
    for case in unplanned:  # where the probe goes: a public address when NAT is on the way
        sent_to = case.sent_to or case.destination_address
        assert not allowed(case.source_address, sent_to, case.protocol, case.port), case
        assert case.firewalls
    derived = [c for c in unplanned if c.variant != "not-requested"]
    assert len({c.id for c in derived}) == len(derived)
    assert {c.variant for c in unplanned} >= {
        "internal-source",
        "other-port",
        "reversed",
        "other-source",
    }
    for case in cases:
        assert case.source_address in addresses.by_zone[case.source_zone]
        assert case.destination_address in addresses.by_zone[case.destination_zone]
    # every flow from the Internet is tried from an internal zone
    internet = {z.name for z in plan.site.zones if z.internet}
    from_internet = {
        c.flow
        for c in cases
        if c.planned
        and c.flow
        in {f.id for f in plan.flows if f.source.any_address and f.source.zone in internet}
    }
    internal = [c for c in unplanned if c.variant == "internal-source"]
    assert internal and all(c.source_zone not in internet for c in internal)
    assert {c.flow for c in internal} <= from_internet


def test_allowed_matches_any_as_the_rules_do(default_plan: Plan) -> None:
    allowed = Allowed(default_plan)
    # 'any' of the Internet zone: every address in no other zone of the site
    assert allowed("198.51.100.7", "172.16.10.10", "tcp", 443)
    assert not allowed("198.51.100.7", "172.16.10.10", "tcp", 444)
    assert not allowed("10.10.50.7", "172.16.10.10", "tcp", 443)
    assert not allowed("172.16.10.254", "10.10.20.11", "tcp", 443)
    assert allowed("10.10.99.1", "10.10.20.12", "tcp", 8443)
    assert not allowed("10.10.20.254", "10.10.20.41", "tcp", 389)


def test_internet_flows_are_tried_from_the_zone_they_cross(default_plan: Plan) -> None:
    cases, _ = build_cases(default_plan, build_address_plan(default_plan))
    enrol = [c for c in cases if c.flow == "XM-APP-10.1" and c.variant == "internal-source"]
    # Internet -> fw-front -> dmz -> fw-back -> xms: fw-back must refuse the dmz itself
    assert [(c.source_zone, c.destination_address, c.port, c.firewalls) for c in enrol] == [
        ("dmz", "10.10.20.11", 443, ("fw-back",))
    ]
    vip = next(c for c in cases if c.flow == "XM-APP-07.1" and c.variant == "internal-source")
    assert vip.source_zone not in ("internet", "dmz") and vip.destination_address == "172.16.10.10"


def test_flows_to_the_internet_are_tried_towards_an_internal_zone() -> None:
    plan = load_plan("example:enterprise-dual-stack")
    cases, _ = build_cases(plan, build_address_plan(plan))
    relay = [c for c in cases if c.variant == "internal-destination"]
    # the flows to the Internet's 'any': the proxy's own flows, and FCM (explicit any)
    assert {c.flow for c in relay} == {"XM-DEV-02.2", "XM-ADD-02.2", "XM-ADD-03.1"}
    assert {c.family for c in relay} == {4, 6}
    for case in relay:
        assert case.source_zone in ("core", "campus") and case.destination_zone == "dmz"
        assert case.firewalls == ("core-fw",)


def test_the_generated_scale_site_has_the_size_it_says() -> None:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        handle.write(generate_site())
        handle.flush()
        plan = load_plan(handle.name)
    assert len(plan.site.firewalls) == 10 and len(plan.site.zones) == 40
    addresses = build_address_plan(plan)
    cases, skipped = build_cases(plan, addresses, 0)
    assert len(cases) == 1000 and skipped == []
    assert {c.protocol for c in cases} == {"tcp", "udp"}


def _site_keeping(tmp_path: Path, keep: str) -> str:
    text = example_text("small-office")
    path = tmp_path / "site.yaml"
    path.write_text(text + f"\nkeep_obsolete: {keep}\n", "utf-8")
    return str(path)


def test_obsolete_flows_not_kept_are_probed_as_must_be_blocked() -> None:
    plan = load_plan("example:small-office")
    cases, skipped = build_cases(plan, build_address_plan(plan))
    apns = [c for c in cases if c.flow in ("XM-DEV-08.1", "XM-DEV-09.1")]
    assert apns and {c.variant for c in apns} == {"not-requested"}
    assert all(c.required and not c.planned for c in apns)
    # nothing is derived from a flow the site does not open, and it allows nothing
    assert not [c for c in cases if c.flow == "XM-DEV-08.1" and c.variant != "not-requested"]
    allowed = Allowed(plan)
    assert not any(allowed(c.source_address, c.destination_address, "tcp", c.port) for c in apns)
    assert not [s for s in skipped if s.failure]


def test_an_obsolete_flow_the_site_keeps_is_planned(tmp_path: Path) -> None:
    plan = load_plan(_site_keeping(tmp_path, "[XM-DEV-08]"))
    cases, _ = build_cases(plan, build_address_plan(plan))
    variants = {
        (c.flow, c.variant)
        for c in cases
        if c.flow in ("XM-DEV-08.1", "XM-DEV-09.1") and c.id == c.flow
    }
    assert variants == {("XM-DEV-08.1", "planned"), ("XM-DEV-09.1", "not-requested")}


def test_a_destination_known_by_name_is_probed_at_its_lab_address() -> None:
    plan = load_plan("example:enterprise-dual-stack")
    addresses = build_address_plan(plan)
    cases, skipped = build_cases(plan, addresses)
    relay = [c for c in cases if c.flow == "XM-DEV-03.1" and c.planned]
    assert relay and {c.name for c in relay} == {"rest.nexmo.com"}
    for case in relay:
        assert addresses.names[("rest.nexmo.com", case.family)] == case.destination_address
        assert case.destination_address in addresses.by_zone["internet"]
    assert "XM-DEV-03.1" not in {s.flow for s in skipped}
    # the sibling name is the first unplanned case, and nothing allows it
    other = [c for c in cases if c.flow == "XM-DEV-03.1" and c.variant == "other-name"]
    assert {c.name for c in other} == {"fmlab-not-planned.nexmo.com"}
    allowed = Allowed(plan, {k: v for k, v in addresses.names.items() if k[0] == "rest.nexmo.com"})
    assert all(allowed(c.source_address, c.destination_address, c.protocol, c.port) for c in relay)
    assert not any(
        allowed(c.source_address, c.destination_address, c.protocol, c.port) for c in other
    )


def test_flows_through_the_proxy_are_probed_through_it() -> None:
    plan = load_plan("example:enterprise-dual-stack")
    addresses = build_address_plan(plan)
    cases, skipped = build_cases(plan, addresses)
    through = [c for c in cases if c.via is not None and c.planned]
    legs = {f.id: f for f in plan.flows if f.proxy is not None and f.proxy.leg == "client"}
    assert {c.flow for c in through} == set(legs)
    for case in through:
        leg = legs[case.flow].proxy
        assert leg is not None
        assert case.via == ("10.20.7.80", leg.port)
        assert case.port in leg.ports
        assert case.name is not None
        # the lab's DNS server answers the name (one name below a wildcard)
        assert addresses.names[(case.name, 4)] == case.destination_address
        assert case.firewalls == ("core-fw", "edge")
    assert {c.name for c in through if c.flow == "XM-DEV-02.1"} == {
        "ax.itunes.apple.com",
        "fmlab-wildcard.mzstatic.com",
        "vpp.itunes.apple.com",
        "play.google.com",
    }
    assert not set(legs) & {s.flow for s in skipped}
    refused = [c for c in cases if c.via is not None and not c.planned]
    assert refused and {c.variant for c in refused} <= {"other-name", "other-port", "other-source"}
