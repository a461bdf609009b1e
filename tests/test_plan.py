"""The plan: catalog x site resolved into concrete flows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowmatrix.api import example_names, load_plan
from flowmatrix.export import plan_to_dict
from flowmatrix.model import Flow, Plan


@pytest.fixture(scope="module")
def default_plan() -> Plan:
    return load_plan(None)


def flows_of(plan: Plan, requirement: str) -> list[Flow]:
    return [f for f in plan.flows if f.requirement == requirement]


def test_dns_is_planned_on_udp_and_tcp(default_plan: Plan) -> None:
    dns = flows_of(default_plan, "XM-APP-02")
    assert {f.protocol for f in dns} == {"udp", "tcp"}
    assert {f.source.role for f in dns} == {"netscaler-gateway", "xenmobile"}
    assert all(tuple(f.ports) == (53,) for f in dns)


def test_netscaler_address_depends_on_the_flow(default_plan: Plan) -> None:
    # Internet -> VIP, SNIP -> back-end servers, NSIP (no AAA address here) -> LDAP and NTP.
    vip = flows_of(default_plan, "XM-APP-08")[0]
    assert vip.source.any_address and vip.destination.addresses == ("172.16.10.10",)
    ica = flows_of(default_plan, "XM-APP-16")[0]
    assert ica.source.addresses == ("172.16.10.20",)
    ldap = [f for f in flows_of(default_plan, "XM-APP-06") if f.source.role == "netscaler-gateway"]
    assert ldap[0].source.addresses == ("172.16.10.5",)
    ntp = flows_of(default_plan, "XM-APP-05")[0]
    assert ntp.protocol == "udp" and ntp.source.addresses == ("172.16.10.5",)


def test_aaa_address_is_the_source_of_authentication() -> None:
    plan = load_plan("example:small-office")
    radius = flows_of(plan, "XM-APP-17")[0]
    assert radius.source.addresses == ("192.168.50.4",)
    assert radius.protocol == "udp" and tuple(radius.ports) == (1812,)
    ldaps = [f for f in flows_of(plan, "XM-APP-15") if f.source.role == "netscaler-gateway"]
    assert ldaps[0].source.addresses == ("192.168.50.4",) and ldaps[0].tls


def test_firewalls_crossed_in_order(default_plan: Plan) -> None:
    enrol = flows_of(default_plan, "XM-APP-10")[0]
    assert enrol.firewalls == ("fw-front", "fw-back")
    apns = flows_of(default_plan, "XM-DEV-08")[0]
    assert apns.firewalls == ("fw-back", "fw-front")
    assert apns.destination.addresses == ("17.0.0.0/8",)
    same_zone = flows_of(default_plan, "XM-DEV-07")[0]
    assert same_zone.firewalls == ()


def test_obsolete_requirements_are_kept_and_flagged(default_plan: Plan) -> None:
    for req in ("XM-DEV-08", "XM-DEV-09"):
        (flow,) = flows_of(default_plan, req)
        assert flow.status == "obsolete"
        assert any("api.push.apple.com" in note for note in flow.notes)


def test_features_turn_requirements_on_and_off(default_plan: Plan) -> None:
    assert flows_of(default_plan, "XM-APP-23")  # clustering on in the default site
    reasons = {s.requirement: s.reason for s in default_plan.skipped}
    assert reasons["XM-APP-17"] == "feature 'radius' is off"
    assert reasons["XM-DEV-10"] == "no host has source role 'ios-devices-wifi'"


def test_alternative_ports_use_default_or_choice(default_plan: Plan, tmp_path: Path) -> None:
    assert {tuple(f.ports) for f in flows_of(default_plan, "XM-APP-04")} == {(443,)}
    assert all(f.tls for f in flows_of(default_plan, "XM-APP-04"))
    site = (Path(__file__).parents[1] / "src/flowmatrix/examples/default.yaml").read_text()
    path = tmp_path / "site.yaml"
    path.write_text(site + "choices:\n  XM-APP-04: 8080\n")
    plan = load_plan(path)
    sta = flows_of(plan, "XM-APP-04")
    assert {tuple(f.ports) for f in sta} == {(8080,)}
    assert not any(f.tls or f.tls_ports for f in sta)


def test_site_flows_and_ids(tmp_path: Path) -> None:
    plan = load_plan("example:small-office")
    (extra,) = flows_of(plan, "SITE-monitoring")
    assert extra.id == "SITE-monitoring.1"
    assert extra.source.hosts[0].name == "admin-pc" and tuple(extra.ports) == (22,)
    ids = [f.id for f in plan.flows]
    assert len(ids) == len(set(ids))


def test_dual_stack_addresses() -> None:
    plan = load_plan("example:enterprise-dual-stack")
    gc = next(f for f in flows_of(plan, "XM-APP-20") if f.source.role == "xenmobile")
    assert "fd00:20:2::310" in gc.destination.addresses
    assert "10.20.3.10" in gc.destination.addresses


def test_internet_to_internet_flows_are_left_out(default_plan: Plan) -> None:
    assert not [f for f in default_plan.flows if f.source.zone == f.destination.zone == "internet"]


@pytest.mark.parametrize("name", example_names())
def test_examples_plan_cleanly(name: str) -> None:
    plan = load_plan(f"example:{name}")
    assert plan.flows
    assert plan.warnings == ()


def test_json_contract(default_plan: Plan) -> None:
    doc = json.loads(json.dumps(plan_to_dict(default_plan)))
    assert set(doc) >= {"site", "catalog", "flows", "skipped"}
    assert doc["catalog"] == "xenmobile-10"
    flow = doc["flows"][0]
    assert set(flow) >= {
        "id",
        "requirement",
        "source",
        "destination",
        "protocol",
        "ports",
        "firewalls",
        "description",
    }
    assert set(flow["source"]) >= {"role", "zone", "addresses"}
    assert set(flow["destination"]) >= {"role", "zone", "addresses", "fqdn"}
    assert isinstance(flow["ports"][0], int)


def test_plan_is_deterministic() -> None:
    first = plan_to_dict(load_plan(None))
    second = plan_to_dict(load_plan(None))
    assert first == second


def test_french_descriptions_are_verbatim() -> None:
    plan = load_plan(None, lang="fr")
    (ntp,) = flows_of(plan, "XM-APP-05")
    assert ntp.description == "Utilisé pour les services NTP (Network Time Protocol)."


def test_no_firewall_path_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(
        "version: 1\nname: islands\nzones:\n"
        "  - {name: a, cidrs: [10.1.0.0/16]}\n  - {name: b, cidrs: [10.2.0.0/16]}\n"
        "hosts:\n  - {name: x, role: xenmobile, addresses: [10.1.0.1]}\n"
        "  - {name: d, role: dns-server, addresses: [10.2.0.1]}\n"
    )
    plan = load_plan(path)
    dns = flows_of(plan, "XM-APP-02")
    assert dns and all(f.firewalls == () for f in dns)
    assert any("no firewall path from zone a to b" in w for w in plan.warnings)
