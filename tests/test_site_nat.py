"""Address translations in the site (``nat:``, format 2): the plan carries both addresses
of each translated end, and every consumer takes the one its place on the way sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.export import plan_to_dict
from flowmatrix.fleet.planfile import flow_to_dict as fleet_flow
from flowmatrix.model import Plan
from flowmatrix.probe.listen import _from_source
from flowmatrix.probe.targets import ProbeTarget, Selection, build_targets
from flowmatrix.rules import Scope, generate

HOSPITAL = "example:hospital"
PUBLIC = "203.0.113.40"
VIP = "172.30.10.10"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(HOSPITAL)


def test_published_flows_carry_the_public_and_the_private_address(plan: Plan) -> None:
    published = [f for f in plan.flows if any(n.kind == "destination" for n in f.nat)]
    assert {f.requirement for f in published} >= {"XM-APP-07", "XM-APP-24", "XM-DEV-11"}
    for flow in published:
        assert flow.destination.addresses == (VIP,)  # the host's own address stays
        assert flow.sent().addresses == (PUBLIC,)  # what the Internet sends to
        assert flow.seen_by("edge")[1].addresses == (VIP,)  # after edge's DNAT
        assert set(flow.ports) <= {443, 8443}


def test_only_flows_entering_from_the_outside_are_translated(plan: Plan) -> None:
    for flow in plan.flows:
        inbound = flow.source.zone == "internet" and VIP in flow.destination.addresses
        assert any(n.kind == "destination" for n in flow.nat) == inbound, flow.id


def test_source_nat_is_seen_after_its_firewall(plan: Plan) -> None:
    apns = plan.flow("XM-ADD-01.1")  # XenMobile -> APNs, through core then edge
    assert apns.firewalls == ("core", "edge")
    assert [n.describe() for n in apns.nat] == ["edge SNAT servers -> 203.0.113.41"]
    assert apns.seen_by("edge")[0].addresses == ("10.31.8.11", "10.31.8.12")  # before SNAT
    assert apns.received().addresses == ("203.0.113.41",)
    fcm = plan.flow("XM-ADD-03.1")  # Wi-Fi devices, masqueraded
    assert fcm.received().any_address and "masqueraded by edge" in (fcm.received().any_reason or "")


def test_verify_probes_the_public_address_from_the_outside(plan: Plan) -> None:
    targets = build_targets(plan, Selection(flows=("XM-APP-24.4",)))
    probes = [t for t in targets.entries if isinstance(t, ProbeTarget)]
    assert probes and {t.address for t in probes} == {PUBLIC}
    # from inside the NAT (the NetScaler's own flows to XenMobile), the real address
    inside = build_targets(plan, Selection(flows=("XM-APP-24.1",)))
    addresses = {t.address for t in inside.entries if isinstance(t, ProbeTarget)}
    assert addresses and PUBLIC not in addresses


def test_listen_takes_the_translated_source_as_planned(plan: Plan) -> None:
    apns = plan.flow("XM-ADD-01.1")
    assert _from_source(apns, "203.0.113.41")
    assert not _from_source(apns, "10.31.8.11")  # the APNs side never sees it


def test_host_rules_use_the_address_on_the_wire(plan: Plan) -> None:
    out = generate(plan, Scope("host", "xms1"), "nftables")
    assert "10.31.8.11" in out.text
    adc = generate(plan, Scope("host", "adc1"), "nftables")
    assert PUBLIC not in adc.text  # the NetScaler receives on its VIP, after the edge's DNAT


def test_plan_json_and_fleet_plan_file_say_both(plan: Plan) -> None:
    document = json.loads(json.dumps(plan_to_dict(plan)))
    assert [n["kind"] for n in document["nat"]] == ["destination", "source", "source"]
    flow = next(f for f in document["flows"] if f["id"] == "XM-APP-24.4")
    assert flow["destination"]["addresses"] == [VIP] and flow["sent_to"] == [PUBLIC]
    assert flow["nat"][0]["public"] == PUBLIC and flow["nat"][0]["private"] == [VIP]
    shipped = fleet_flow(plan.flow("XM-APP-24.4"))
    assert shipped["destination"]["hosts"][0]["addresses"] == [PUBLIC]


def test_unpublished_ports_are_a_plan_warning(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    published = (Path(__file__).parent / "data" / "nat-site.yaml").read_text(encoding="utf-8")
    # the flow asks for a port its published address does not carry
    wider = published.replace(
        "destination: web, ports: [443]}", "destination: web, ports: [443, 8443]}"
    )
    assert wider != published
    site.write_text(wider, encoding="utf-8")
    found = load_plan(str(site))
    assert any(
        "ports 8443 of the flow to 198.18.2.20 are not published by edge DNAT" in w
        for w in found.warnings
    ), found.warnings
    assert found.flow("SITE-https.1").sent().addresses == ("198.51.100.40",)


def test_explain_lists_each_translation_with_its_flows(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("plan", HOSPITAL, "--explain", "-f", "csv", "-o", str(tmp_path / "plan.csv"))
    assert result.code == 0
    assert (
        "nat edge DNAT 203.0.113.40 port 443,8443 -> 172.30.10.10 (adc1): XM-APP-07.1"
        in result.stderr
    )
    assert "nat edge SNAT wifi -> masquerade: XM-ADD-03.1" in result.stderr
    header = (tmp_path / "plan.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "nat" in header.split(",")
