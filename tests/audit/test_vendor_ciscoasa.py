"""A hand-written Cisco ASA running-config (data/vendor/edge.ciscoasa.cfg) audited against
the lab site; each expected verdict is justified by the rule of docs/audit.md, "Cisco
ASA", it exercises (A1...A7)."""

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

CFG = DATA / "edge.ciscoasa.cfg"


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit_file(CFG)


def test_interfaces_by_nameif_and_address(report: AuditReport) -> None:
    assert report.dialect == "ciscoasa"
    assert "site zone dmz is Cisco ASA interface dmz: same name" in report.notes
    assert any("zone lan is Cisco ASA interface inside: its address" in n for n in report.notes)
    assert any(
        "zone internet is Cisco ASA interface outside: the default route" in n for n in report.notes
    )


def test_service_group_name_alias_and_nested_network_group(report: AuditReport) -> None:
    # A4: dns-both is a service object-group (udp and tcp domain), dmz-servers nests
    # xm-hosts, 'host dns-server' is a 'name' alias; A2: the dmz's inbound ACL decides
    for flow_id in ("XM-APP-02.1", "XM-APP-02.2", "XM-APP-02.3", "XM-APP-02.4"):
        result = flow(report, flow_id)
        assert result.status == "allowed" and deciders(result) == {"dmz_access_in line 1"}


def test_acls_name_real_addresses_under_static_nat(report: AuditReport) -> None:
    # A6: object NAT publishes the gateway at 203.0.113.10; the ACL names its real
    # address (object gw-vip): the flow is allowed, and the note names the translation
    gateway = flow(report, "XM-APP-08.1")
    assert gateway.status == "allowed"
    assert deciders(gateway, 4) == {"outside_access_in line 2"}
    assert deciders(gateway, 6) == {"outside_access_in line 4"}  # A4: any6
    (v4,) = [p for p in gateway.parts if p.family == 4]
    assert v4.destinations == "192.168.50.10"
    assert any("object NAT of gw-vip" in n and "real address" in n for n in gateway.notes)
    # A1: line 3 repeats line 2: shadowed
    assert dead(report)["outside_access_in line 3"] == ("outside_access_in line 2",)


def test_port_group_and_time_range(report: AuditReport) -> None:
    # A4: the port object-group xms-ports (https, 8443); A5: the IPv6 8443 entry has a
    # time-range: that part depends on the time
    assert flow(report, "XM-APP-10.1").status == "allowed"
    enrolment = flow(report, "XM-APP-24.2")
    assert enrolment.status == "depends"
    assert deciders(enrolment, 4) == {"outside_access_in line 5"}
    assert "time-range office-hours" in conditions(enrolment)


def test_deny_before_permit_and_the_line_number_fix(report: AuditReport) -> None:
    # A1: line 2 (deny the DMZ to the LAN) comes before the syslog permit (line 3)
    syslog = flow(report, "XM-APP-14.1")
    assert syslog.status == "blocked" and deciders(syslog) == {"dmz_access_in line 2"}
    (fix,) = syslog.fixes
    assert fix.verified
    assert fix.command == (
        "access-list dmz_access_in line 2 extended permit udp host 192.168.50.20 "
        "host 192.168.10.8 eq 514"
    )
    assert dead(report)["dmz_access_in line 3"] == ("dmz_access_in line 2",)


def test_security_levels_without_an_inbound_acl(report: AuditReport) -> None:
    # A3: inside (100) has no inbound ACL and there is no global ACL: traffic to the dmz
    # (50) passes; the implicit permit is as wide as it is, and the report says so
    console = flow(report, "XM-APP-25.1")
    assert console.status == "allowed" and deciders(console) == {"security level of inside"}
    wide = {w.rule.name: w.reasons for w in report.wide_rules}
    assert "any protocol (needed: tcp)" in wide["security level of inside"]


def test_inactive_entry_and_fqdn_objects(report: AuditReport) -> None:
    # A1: line 8 is inactive; A4: object network fqdn serves the FCM names, and FCM is any
    # Internet address: the verdict depends on DNS, each outcome named
    assert any(":83: dmz_access_in line 8 is inactive" in n for n in report.notes)
    fcm = flow(report, "XM-ADD-02.1")
    assert fcm.status == "depends" and not fcm.is_finding
    assert FCM_BY_DNS in conditions(fcm)
    assert outcomes(fcm, 4) >= {
        ("allowed", "dmz_access_in line 6"),
        ("blocked", "implicit deny of access-list dmz_access_in"),
    }
    assert not report.problems


def _cfg(old: str, new: str) -> str:
    text = CFG.read_text("utf-8")
    assert old in text
    return text.replace(old, new, 1)


def test_a_global_acl_ends_the_security_level_permits(tmp_path: Path) -> None:
    # A2: the interface ACL comes first, then the global ACL; A3: with a global ACL the
    # security levels no longer permit anything
    text = _cfg(
        "access-group outside_access_in in interface outside\n",
        "access-list GLOBAL extended deny ip any any\n"
        "access-group outside_access_in in interface outside\n"
        "access-group GLOBAL global\n",
    )
    report = audit_text(tmp_path, "global.cfg", text)
    assert deciders(flow(report, "XM-APP-25.1")) == {"GLOBAL line 1"}
    assert flow(report, "XM-APP-02.1").status == "allowed"  # dmz_access_in first


def test_lower_to_higher_needs_an_acl(tmp_path: Path) -> None:
    # A3: without its ACL, the dmz (50) reaches the outside (0) but not the inside (100)
    report = audit_text(
        tmp_path, "nodmzacl.cfg", _cfg("access-group dmz_access_in in interface dmz\n", "")
    )
    assert deciders(flow(report, "XM-APP-02.1")) == {"security levels of dmz"}
    assert deciders(flow(report, "XM-ADD-01.1")) == {"security level of dmz"}
    fix = flow(report, "XM-APP-02.1").fixes[0]
    assert "access-group dmz_access_in in interface dmz" in fix.command and fix.note


def test_same_security_inter_interface(tmp_path: Path) -> None:
    # A3: two interfaces of level 50: denied, unless same-security-traffic inter-interface
    text = _cfg(" nameif inside\n security-level 100\n", " nameif inside\n security-level 50\n")
    text = text.replace("access-group dmz_access_in in interface dmz\n", "")
    equal = audit_text(tmp_path, "equal.cfg", text)
    assert flow(equal, "XM-APP-02.1").status == "blocked"
    permitted = audit_text(
        tmp_path,
        "equal2.cfg",
        text.replace(
            "same-security-traffic permit intra-interface",
            "same-security-traffic permit inter-interface",
        ),
    )
    assert flow(permitted, "XM-APP-02.1").status == "allowed"
