"""The lab with address translations (site ``nat:``): a published address is probed from
the Internet at its public address and must reach the host's listener; the translated
sources are what the destinations see; the reverse, an unpublished port and a public
address no translation names stay blocked; broken translations fail the run. The lab
loads nftables rules (its firewalls run nftables); the iptables output is loaded by
tests/rules/test_rules_nat.py."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.lab import LabOptions, LabReport, run_lab
from flowmatrix.lab.addressing import build_address_plan
from flowmatrix.lab.cases import build_cases
from flowmatrix.lab.debris import PREFIX
from flowmatrix.lab.namespaces import interface_names
from flowmatrix.lab.session import CaseResult
from flowmatrix.model import Plan
from flowmatrix.netns import leftover_namespaces
from flowmatrix.rules import Scope, generate
from lab.servers import require_servers
from rules.nat_sites import HOSPITAL, dual_stack_nat_site

#: The namespaces of the runs of this process (other runs may go on at the same time).
OWN = f"{PREFIX}{os.getpid()}-"
PUBLIC = "203.0.113.40"
VIP = "172.30.10.10"


@pytest.fixture(scope="module")
def hospital() -> Plan:
    return load_plan(HOSPITAL)


@pytest.fixture(scope="module")
def hospital_report(hospital: Plan) -> LabReport:
    """One run for the tests that read it (all marked kernel: skipped before it runs)."""
    report = run_lab(hospital, LabOptions(timeout=0.5, unplanned_per_flow=6))
    assert leftover_namespaces(OWN) == []
    return report


def _edge_rules(plan: Plan) -> str:
    edge = next(f for f in plan.site.firewalls if f.name == "edge")
    return generate(
        plan, Scope("firewall", "edge"), "nftables", interfaces=interface_names(edge)
    ).text


def _edge_on_internet(plan: Plan, family: int) -> str:
    """edge's own (transit) address on the Internet: what its masquerade leaves as."""
    addresses = build_address_plan(plan)
    addresses.plan_transit()
    index = [f.name for f in plan.site.firewalls].index("edge")
    return addresses.transit["internet"].firewall_address(family, index)


def _results(report: LabReport, flow: str, variant: str = "planned") -> list[CaseResult]:
    return [r for r in report.results if r.case.flow == flow and r.case.variant == variant]


def test_the_cases_send_to_the_public_address(hospital: Plan) -> None:
    addresses = build_address_plan(hospital)
    cases, _ = build_cases(hospital, addresses, 6)
    published = [c for c in cases if c.sent_to == PUBLIC and c.planned]
    flows = {
        f.id for f in hospital.flows if f.requested and any(n.kind == "destination" for n in f.nat)
    }
    assert flows and {c.flow for c in published} == flows
    assert {(c.source_zone, c.destination_address) for c in published} == {("internet", VIP)}
    # the public addresses are on no bridge: the Internet zone routes them to edge
    placed = {a for found in addresses.by_zone.values() for a in found}
    assert PUBLIC not in placed and "203.0.113.41" not in placed
    assert addresses.routed[PUBLIC] == ("edge", "internet")
    assert addresses.routed["203.0.113.41"] == ("edge", "internet")
    decoys = [c for c in cases if c.variant == "other-public"]
    assert decoys and all(c.sent_to not in {n.public for n in hospital.nat} for c in decoys)
    assert all(addresses.routed[str(c.sent_to)] == ("edge", "internet") for c in decoys)


def test_a_site_without_translations_probes_as_before() -> None:
    plan = load_plan(None)
    addresses = build_address_plan(plan)
    cases, _ = build_cases(plan, addresses, 6)
    assert not addresses.routed
    assert all(c.sent_to is None and c.seen_from is None for c in cases)
    assert not any(c.variant == "other-public" for c in cases)


@pytest.mark.kernel
def test_the_public_address_reaches_the_gateway(hospital_report: LabReport) -> None:
    assert not hospital_report.failed, [r for r in hospital_report.results if not r.ok]
    enrol = _results(hospital_report, "XM-APP-07.1")
    assert [(r.case.source_zone, r.case.sent_to, r.case.destination_address) for r in enrol] == [
        ("internet", PUBLIC, VIP)
    ]
    assert enrol[0].verdict == "pass" and enrol[0].state == "open"
    assert "two-ended" in enrol[0].reason  # the VIP's listener answered the marker
    assert all(r.verdict == "pass" for r in hospital_report.planned)


@pytest.mark.kernel
def test_the_reverse_and_what_is_not_published_stay_blocked(hospital_report: LabReport) -> None:
    (reverse,) = _results(hospital_report, "XM-APP-07.1", "reversed")
    assert (reverse.case.source_address, reverse.case.destination_zone) == (VIP, "internet")
    (unpublished,) = _results(hospital_report, "XM-APP-07.1", "other-port")
    assert unpublished.case.sent_to == PUBLIC and unpublished.case.port not in (443, 8443)
    (elsewhere,) = _results(hospital_report, "XM-APP-07.1", "other-public")
    assert elsewhere.case.sent_to is not None and elsewhere.case.sent_to != PUBLIC
    assert ipaddress.ip_address(elsewhere.case.sent_to) in ipaddress.ip_network("203.0.113.0/24")
    for result in (reverse, unpublished, elsewhere):
        assert (result.verdict, result.ok) == ("blocked", True), result


@pytest.mark.kernel
def test_the_destination_sees_the_translated_source(
    hospital: Plan, hospital_report: LabReport
) -> None:
    (fcm,) = _results(hospital_report, "XM-ADD-02.1")
    assert (fcm.case.source_address, fcm.case.seen_from, fcm.verdict) == (
        "10.31.8.11",
        "203.0.113.41",
        "pass",
    )
    wifi = _results(hospital_report, "XM-ADD-03.1")
    masquerade = _edge_on_internet(hospital, 4)
    assert wifi and all(r.case.seen_from == masquerade for r in wifi)
    assert all(r.verdict == "pass" for r in wifi)
    # the core firewall translates nothing: a flow through it alone keeps its source
    assert [r.case.seen_from for r in _results(hospital_report, "XM-APP-13.1")] == [None]


def _without(word: str) -> Callable[[str], str]:
    return lambda text: "\n".join(x for x in text.splitlines() if f" {word} " not in x) + "\n"


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("fault", "broken", "expected"),
    [
        ("no dnat", _without("dnat"), "published flows blocked"),
        (
            "a dnat of the whole block",
            lambda t: t.replace(f"ip daddr {PUBLIC} ", "ip daddr 203.0.113.0/24 "),
            "other-public leaks",
        ),
        ("no snat", _without("snat"), "servers flows seen from their own address"),
        ("no masquerade", _without("masquerade"), "wifi flows seen from their own address"),
    ],
)
def test_broken_translations_fail_the_run(
    hospital: Plan, fault: str, broken: Callable[[str], str], expected: str
) -> None:
    text = _edge_rules(hospital)
    changed = broken(text)
    assert changed != text, fault
    report = run_lab(hospital, LabOptions(rulesets={"edge": changed}, timeout=0.3))
    assert leftover_namespaces(OWN) == []
    assert report.failed
    bad = [r for r in report.results if not r.ok]
    if expected == "published flows blocked":
        published = {
            f.id for f in hospital.flows if f.requested and any(n.public == PUBLIC for n in f.nat)
        }
        assert {(r.case.flow, r.case.variant, r.verdict) for r in bad} == {
            (flow, "planned", "blocked") for flow in published
        }
    elif expected == "other-public leaks":
        assert bad and {(r.case.variant, r.verdict) for r in bad} == {("other-public", "leak")}
    else:
        seen = "203.0.113.41" if "servers" in expected else _edge_on_internet(hospital, 4)
        assert bad and all(
            (r.case.variant, r.verdict, r.case.seen_from) == ("planned", "blocked", seen)
            for r in bad
        )
        assert all(f"not {seen}: the source NAT did not apply" in r.reason for r in bad)
        assert {"XM-ADD-02.1" if "servers" in expected else "XM-ADD-03.1"} <= {
            r.case.flow for r in bad
        }


@pytest.mark.kernel
def test_dual_stack_translations(tmp_path: Path) -> None:
    """IPv4 and IPv6 published addresses, a masquerade in both families behind another
    firewall, and a host's own translation before its zone's."""
    require_servers()  # the example's names and web proxy
    plan = load_plan(str(dual_stack_nat_site(tmp_path)))
    report = run_lab(plan, LabOptions(timeout=0.5, unplanned_per_flow=6))
    assert leftover_namespaces(OWN) == []
    assert not report.failed, [r for r in report.results if not r.ok]
    enrol = _results(report, "XM-APP-08.1")
    assert {(r.case.sent_to, r.case.destination_address, r.verdict) for r in enrol} == {
        ("198.51.100.10", "172.20.1.10", "pass"),
        ("2001:db8:20::10", "fd00:20:1::10", "pass"),
    }
    decoys = _results(report, "XM-APP-08.1", "other-public")
    assert {r.case.family for r in decoys} == {4, 6}
    assert all(r.verdict == "blocked" for r in decoys)
    push = _results(report, "XM-ADD-01.1")  # from xms1, through core-fw and edge
    assert [(r.case.source_address, r.case.seen_from) for r in push] == [
        ("10.20.1.11", "198.51.100.11")
    ]
    relay = {(r.case.family, r.case.seen_from) for r in _results(report, "XM-DEV-03.1")}
    assert relay == {(4, "198.51.100.11"), (6, _edge_on_internet(plan, 6))}
