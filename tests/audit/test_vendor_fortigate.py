"""A hand-written FortiGate configuration (data/vendor/edge.fortigate.conf) audited
against the lab site: each expected verdict is justified by the rule of docs/audit.md,
"FortiGate (FortiOS)", it exercises (F1...F9)."""

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
from flowmatrix.errors import UserError

CONF = DATA / "edge.fortigate.conf"


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit_file(CONF)


def test_zones_are_bound_from_the_configuration(report: AuditReport) -> None:
    # the site names no interface: a zone of the same name, the interface addresses,
    # the default route decide (docs: "Binding the site's zones")
    assert report.dialect == "fortigate"
    assert "site zone lan is FortiGate interface port3 (zone LAN): same name" in report.notes
    assert any("zone dmz is FortiGate interface port2: its address" in n for n in report.notes)
    assert any(
        "zone internet is FortiGate interface port1: the default route" in n for n in report.notes
    )


def test_nested_groups_and_a_zone_allow_dns(report: AuditReport) -> None:
    # F3 + F5: dmz-servers holds gw-snip and the nested group xm-hosts; F7: dstintf LAN is
    # the zone holding port3; the predefined DNS service is TCP and UDP 53
    for flow_id in ("XM-APP-02.1", "XM-APP-02.2", "XM-APP-02.3", "XM-APP-02.4"):
        result = flow(report, flow_id)
        assert result.status == "allowed" and deciders(result) == {"policy 30"}


def test_a_published_vip_and_ipv6(report: AuditReport) -> None:
    # F6: policy 10's destination is the VIP vip-gw: it matches the connections the VIP
    # translates to 192.168.50.10; F3: policy 11 is an IPv6 policy (srcaddr6/dstaddr6)
    gateway = flow(report, "XM-APP-08.1")
    assert gateway.status == "allowed"
    assert deciders(gateway, 4) == {"policy 10"} and deciders(gateway, 6) == {"policy 11"}
    assert any("destination NAT by VIP vip-gw" in n and "203.0.113.10" in n for n in gateway.notes)


def test_a_deny_by_geography_before_the_allow_depends(report: AuditReport) -> None:
    # F1: policy 20 (deny, geography RU) comes before policy 12 in the table although its
    # id is higher; F5: geography is not evaluated: the IPv4 part depends on it, never a
    # guess; the IPv6 part is allowed by policy 13
    xms = flow(report, "XM-APP-10.1")
    assert xms.status == "depends" and not xms.is_finding
    assert deciders(xms, 4) == {"policy 20", "policy 12"} and deciders(xms, 6) == {"policy 13"}
    assert "geography RU (address 'geo-ru')" in conditions(xms)


def test_a_schedule_makes_the_verdict_depend(report: AuditReport) -> None:
    # F3: policy 14 (IPv6, 8443) has the schedule business-hours: depends on the time
    enrolment = flow(report, "XM-APP-24.2")
    assert enrolment.status == "depends"
    assert "schedule 'business-hours' (policy 14)" in conditions(enrolment)
    assert {u.condition for u in report.unevaluated} >= {
        "geography RU",
        "schedule 'business-hours'",
    }


def test_a_deny_before_the_allow_blocks_and_the_fix_goes_before_it(report: AuditReport) -> None:
    # F1: policy 40 (deny dmz-net to lan-net) precedes policy 41 (syslog): blocked by 40,
    # and 41 is shadowed; the fix is a new policy moved before 40 (edit 0 takes id 71)
    syslog = flow(report, "XM-APP-14.1")
    assert syslog.status == "blocked" and syslog.is_finding
    assert deciders(syslog) == {"policy 40"}
    (fix,) = syslog.fixes
    assert fix.verified and fix.placement == "before policy 40 (deny)"
    assert "config firewall policy\n    edit 0\n" in fix.command
    assert 'set srcintf "port2"' in fix.command and 'set dstintf "LAN"' in fix.command
    assert fix.command.endswith("config firewall policy\n    move 71 before 40\nend")
    assert dead(report)["policy 41"] == ("policy 40",)


def test_a_disabled_policy_leaves_the_implicit_deny(report: AuditReport) -> None:
    # F4: policy 50 (admin console) has status disable; F2: the implicit deny decides;
    # the fix goes at the end of the table (no move)
    console = flow(report, "XM-APP-25.1")
    assert console.status == "blocked" and deciders(console) == {"implicit deny"}
    assert any(":283: policy 50 is disabled" in n for n in report.notes)
    (fix,) = console.fixes
    assert fix.verified and "move" not in fix.command
    assert fix.placement.startswith("at the end of the policy table")


def test_fqdn_objects_match_the_end_of_that_name(report: AuditReport) -> None:
    # F5 + docs "Address objects": push-services (fcm.googleapis.com, mtalk.google.com)
    # serves those names, IPv4 and IPv6 (push-services6); FCM is any Internet address:
    # the verdict depends on DNS, allowed by policy 70 or blocked by the implicit deny
    fcm = flow(report, "XM-ADD-02.1")
    assert fcm.status == "depends" and not fcm.is_finding
    assert conditions(fcm) == {FCM_BY_DNS}
    for family in (4, 6):
        assert outcomes(fcm, family) >= {("allowed", "policy 70"), ("blocked", "implicit deny")}
    assert not [w for w in report.wide_rules if w.rule.name == "policy 70"]


def test_obsolete_flows_and_shadowed_copies(report: AuditReport) -> None:
    apns = flow(report, "XM-DEV-08.1")
    assert apns.status == "allowed" and not apns.required
    assert dead(report)["policy 61"] == ("policy 60",)
    assert not report.wide_rules and not report.problems
    assert len(report.findings) == 2


def _edited(old: str, new: str) -> str:
    text = CONF.read_text("utf-8")
    assert old in text
    return text.replace(old, new, 1)


FIRST_POLICY = "config firewall policy\n    edit 10\n"


def test_an_ordinary_address_does_not_match_vip_traffic(tmp_path: Path) -> None:
    # F6: a deny naming the real address of XenMobile does not take the connections the
    # VIP translates; with match-vip enable it does
    deny = (
        'config firewall policy\n    edit 5\n        set srcintf "port1"\n'
        '        set dstintf "port2"\n        set action deny\n        set srcaddr "all"\n'
        '        set dstaddr "xms"\n        set schedule "always"\n        set service "ALL"\n'
    )
    plain = audit_text(tmp_path, "a.conf", _edited(FIRST_POLICY, deny + "    next\n    edit 10\n"))
    assert "policy 5" not in deciders(flow(plain, "XM-APP-10.1"), 4)
    matched = audit_text(
        tmp_path,
        "b.conf",
        _edited(FIRST_POLICY, deny + "        set match-vip enable\n    next\n    edit 10\n"),
    )
    xms = flow(matched, "XM-APP-10.1")
    assert deciders(xms, 4) == {"policy 5"} and xms.status == "partial"


def test_negated_source(tmp_path: Path) -> None:
    # F3: srcaddr-negate enable takes the complement: the DMZ servers are inside
    # "internal", so policy 30 no longer takes them and policy 40 denies DNS
    text = _edited(
        '        set srcaddr "dmz-servers"\n',
        '        set srcaddr "internal"\n        set srcaddr-negate enable\n',
    )
    report = audit_text(tmp_path, "neg.conf", text)
    dns = flow(report, "XM-APP-02.1")
    assert dns.status == "blocked" and deciders(dns) == {"policy 40"}


def test_move_changes_the_order(tmp_path: Path) -> None:
    # F1: 'move 41 before 40' puts the syslog allow first
    text = CONF.read_text("utf-8") + "config firewall policy\n    move 41 before 40\nend\n"
    report = audit_text(tmp_path, "move.conf", text)
    assert flow(report, "XM-APP-14.1").status == "allowed"


VDOMS = """config vdom
edit root
next
edit dmz
next
end
config global
config system interface
    edit "port1"
        set vdom "root"
        set ip 192.168.50.1 255.255.255.0
    next
    edit "port2"
        set vdom "dmz"
        set ip 192.168.10.1 255.255.255.0
    next
end
end
config vdom
edit root
config firewall policy
    edit 1
        set srcintf "any"
        set dstintf "any"
        set srcaddr "all"
        set dstaddr "all"
        set service "ALL"
        set action accept
        set schedule "always"
    next
end
next
edit dmz
config firewall policy
end
next
end
"""


def test_each_vdom_is_its_own_firewall(tmp_path: Path) -> None:
    # F9: a file with two VDOMs needs --context; each is audited on its own
    with pytest.raises(UserError, match="VDOMs root, dmz") as caught:
        audit_text(tmp_path, "vdoms.conf", VDOMS)
    assert "--context" in str(caught.value)
    root = audit_text(tmp_path, "vdoms.conf", VDOMS, context="root")
    assert flow(root, "XM-APP-02.1").status == "allowed"
    other = audit_text(tmp_path, "vdoms.conf", VDOMS, context="dmz")
    assert flow(other, "XM-APP-02.1").status == "blocked"
    assert any("VDOM dmz audited" in n for n in other.notes)
