"""A hand-written Juniper SRX configuration (data/vendor/edge.srx.conf, hierarchical)
audited against the lab site, and the same policies in ``display set`` form; each
expected verdict is justified by the rule of docs/audit.md, "Juniper SRX", it exercises."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.vendor_lab import (
    DATA,
    FCM_BY_DNS,
    audit_file,
    audit_text,
    conditions,
    dead,
    deciders,
    flow,
    outcomes,
)
from flowmatrix.audit.result import AuditReport

CONF = DATA / "edge.srx.conf"


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit_file(CONF)


def test_zones_are_bound(report: AuditReport) -> None:
    assert report.dialect == "srx"
    assert "site zone dmz is Juniper SRX interface ge-0/0/1.0 (zone dmz): same name" in report.notes
    assert any(
        "zone lan is Juniper SRX interface ge-0/0/2.0 (zone trust)" in n for n in report.notes
    )
    assert any("ge-0/0/0.0 (zone untrust): the default route" in n for n in report.notes)


def test_nested_address_sets_and_predefined_applications(report: AuditReport) -> None:
    # S4: dmz-servers nests xm-hosts; S5: junos-dns-udp and junos-dns-tcp
    for flow_id in ("XM-APP-02.1", "XM-APP-02.2", "XM-APP-02.3", "XM-APP-02.4"):
        result = flow(report, flow_id)
        assert result.status == "allowed" and deciders(result) == {"policy dns"}


def test_static_nat_then_the_translated_address(report: AuditReport) -> None:
    # S6: static NAT publishes the gateway; the policy names its real address
    gateway = flow(report, "XM-APP-08.1")
    assert gateway.status == "allowed" and deciders(gateway) == {"policy published-gw"}
    assert any("static NAT rule from-internet/gw" in n for n in gateway.notes)
    assert dead(report)["policy published-gw-again"] == ("policy published-gw",)


def test_global_policy_after_the_zone_pair(report: AuditReport) -> None:
    # S1: no policy of untrust -> dmz takes 8443: the global policy does; S3: it has a
    # scheduler, so the verdict depends on the time (else the default policy denies)
    enrolment = flow(report, "XM-APP-24.2")
    assert enrolment.status == "depends"
    assert deciders(enrolment) == {"policy xms-8443", "default-policy deny-all"}
    assert "scheduler 'business-hours' (policy xms-8443)" in conditions(enrolment)
    assert flow(report, "XM-APP-10.1").status == "allowed"


def test_deny_before_permit_and_insert(report: AuditReport) -> None:
    # S1: dmz-to-trust-closed precedes syslog in the context dmz -> trust
    syslog = flow(report, "XM-APP-14.1")
    assert syslog.status == "blocked" and deciders(syslog) == {"policy dmz-to-trust-closed"}
    (fix,) = syslog.fixes
    assert fix.verified
    lines = fix.command.splitlines()
    assert (
        "set applications application flowmatrix-udp-514 protocol udp destination-port 514" in lines
    )
    assert lines[-1].startswith("insert security policies from-zone dmz to-zone trust policy ")
    assert lines[-1].endswith(" before policy dmz-to-trust-closed")
    assert dead(report)["policy syslog"] == ("policy dmz-to-trust-closed",)


def test_inactive_policy_and_the_default_policy(report: AuditReport) -> None:
    # S7: admin-console is inactive; S2: the default policy denies; the fix goes at the
    # end of the zone pair trust -> dmz
    console = flow(report, "XM-APP-25.1")
    assert console.status == "blocked" and deciders(console) == {"default-policy deny-all"}
    assert any("policy admin-console is deactivated" in n for n in report.notes)
    (fix,) = console.fixes
    assert fix.verified and "from-zone trust to-zone dmz policy" in fix.command
    assert "insert" not in fix.command


def test_dns_name_addresses(report: AuditReport) -> None:
    # S4: dns-name addresses serve the FCM names; FCM is any Internet address: depends on DNS
    fcm = flow(report, "XM-ADD-02.1")
    assert fcm.status == "depends" and conditions(fcm) == {FCM_BY_DNS}
    assert outcomes(fcm, 6) == {("allowed", "policy push"), ("blocked", "default-policy deny-all")}
    assert not report.wide_rules and not report.problems


def test_permit_all_default(tmp_path: Path) -> None:
    # S2: default-policy permit-all lets what no policy takes through
    text = CONF.read_text("utf-8").replace("deny-all;", "permit-all;")
    report = audit_text(tmp_path, "permit.conf", text)
    console = flow(report, "XM-APP-25.1")
    assert console.status == "allowed" and deciders(console) == {"default-policy permit-all"}


SET = """set version 21.4R3.15
set system root-authentication encrypted-password "$6$Redacted$TopSecretSetHash"
set interfaces ge-0/0/1 unit 0 family inet address 192.168.50.1/24
set interfaces ge-0/0/2 unit 0 family inet address 192.168.10.1/24
set security zones security-zone dmz interfaces ge-0/0/1.0
set security zones security-zone trust interfaces ge-0/0/2.0
set security address-book global address dns-server 192.168.10.5/32
set security address-book global address snip 192.168.50.3/32
set security policies from-zone dmz to-zone trust policy dns match source-address snip destination-address dns-server application junos-dns-udp
set security policies from-zone dmz to-zone trust policy dns then permit
set security policies from-zone dmz to-zone trust policy dns2 match source-address snip
set security policies from-zone dmz to-zone trust policy dns2 match destination-address dns-server
set security policies from-zone dmz to-zone trust policy dns2 match application junos-dns-tcp
set security policies from-zone dmz to-zone trust policy dns2 then permit
deactivate security policies from-zone dmz to-zone trust policy dns2
"""


def test_display_set_form(tmp_path: Path) -> None:
    # the set form, several leaves on one line included; S7: deactivate
    report = audit_text(tmp_path, "srx.set", SET)
    assert report.dialect == "srx"
    assert deciders(flow(report, "XM-APP-02.1")) == {"policy dns"}
    tcp = flow(report, "XM-APP-02.3")
    assert tcp.status == "blocked" and deciders(tcp) == {"default-policy deny-all"}
    assert any("policy dns2 is deactivated" in n for n in report.notes)
