"""A hand-written PAN-OS configuration in ``set`` form (data/vendor/edge.paloalto.set)
audited against the lab site; the same rules in XML are read the same way. Each
expected verdict is justified by the rule of docs/audit.md, "PAN-OS", it exercises."""

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

SET = DATA / "edge.paloalto.set"


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit_file(SET)


def test_zones_by_name_and_by_address(report: AuditReport) -> None:
    assert report.dialect == "paloalto"
    assert "site zone dmz is PAN-OS interface ethernet1/2 (zone dmz): same name" in report.notes
    assert any("zone lan is PAN-OS interface ethernet1/3 (zone trust)" in n for n in report.notes)
    assert any(
        "zone internet is PAN-OS interface ethernet1/1 (zone untrust)" in n for n in report.notes
    )


def test_nested_static_groups_and_a_service_group(report: AuditReport) -> None:
    # P4: dmz-servers holds gw-snip and the nested group xm-hosts; P5: the service group
    # dns holds udp and tcp 53
    for flow_id in ("XM-APP-02.1", "XM-APP-02.2", "XM-APP-02.3", "XM-APP-02.4"):
        result = flow(report, flow_id)
        assert result.status == "allowed" and deciders(result) == {"rule 'dns'"}


def test_rules_see_the_pre_nat_address_and_the_post_nat_zone(report: AuditReport) -> None:
    # P7: publish-gw translates 203.0.113.10 to the gateway's VIP; the security rule
    # allow-gw names the published address and the zone dmz (where the server is)
    gateway = flow(report, "XM-APP-08.1")
    assert gateway.status == "allowed" and deciders(gateway) == {"rule 'allow-gw'"}
    (v4,) = [p for p in gateway.parts if p.family == 4]
    assert v4.destinations == "203.0.113.10" and v4.oif == "ethernet1/2"
    assert any("NAT rule 'publish-gw'" in n and "published address" in n for n in gateway.notes)


def test_a_rule_on_the_private_address_misses_translated_traffic(report: AuditReport) -> None:
    # P7: deny-private-xms names the real address of XenMobile: the translated
    # connections do not match it; P5: allow-xms names the application ssl: depends on
    # App-ID (interzone-default when it is not ssl, P2)
    xms = flow(report, "XM-APP-10.1")
    assert "rule 'deny-private-xms'" not in deciders(xms)
    assert xms.status == "depends"
    assert deciders(xms) == {"rule 'allow-xms'", "interzone-default"}
    assert "App-ID ssl (rule 'allow-xms')" in conditions(xms)


def test_a_deny_before_the_allow_and_the_move(report: AuditReport) -> None:
    # P1: dmz-to-trust-closed precedes syslog: blocked; the fix is a rule moved before it
    syslog = flow(report, "XM-APP-14.1")
    assert syslog.status == "blocked" and deciders(syslog) == {"rule 'dmz-to-trust-closed'"}
    (fix,) = syslog.fixes
    assert fix.verified
    lines = fix.command.splitlines()
    assert lines[0] == "set service flowmatrix-udp-514 protocol udp port 514"
    assert lines[1].startswith("set rulebase security rules flowmatrix-udp514-")
    assert " from dmz to trust source [ 192.168.50.20 ] destination [ 192.168.10.8 ] " in lines[1]
    assert lines[2].endswith('before "dmz-to-trust-closed"')
    assert dead(report)["rule 'syslog'"] == ("rule 'dmz-to-trust-closed'",)


def test_a_disabled_rule_leaves_the_interzone_default(report: AuditReport) -> None:
    # P6 + P2: admin-console is disabled: interzone-default denies; the fix needs no move
    console = flow(report, "XM-APP-25.1")
    assert console.status == "blocked" and deciders(console) == {"interzone-default"}
    assert any("rule 'admin-console' is disabled" in n for n in report.notes)
    assert console.fixes[0].verified and "move" not in console.fixes[0].command


def test_moved_rule_and_fqdn(report: AuditReport) -> None:
    # P1: 'move ... apple-again after apple' keeps apple-again after apple: shadowed;
    # P4: the fqdn objects serve the FCM names; FCM is any Internet address: depends on DNS
    assert dead(report)["rule 'apple-again'"] == ("rule 'apple'",)
    fcm = flow(report, "XM-ADD-02.1")
    assert fcm.status == "depends" and conditions(fcm) == {FCM_BY_DNS}
    assert outcomes(fcm, 6) == {("allowed", "rule 'push'"), ("blocked", "interzone-default")}
    assert not report.wide_rules and not report.problems


def test_intrazone_default_and_rule_types(tmp_path: Path) -> None:
    # P2: traffic within a zone meets intrazone-default (allow); P3: an interzone rule
    # does not take it, a universal one does
    text = SET.read_text("utf-8") + (
        # the LAN interface moves to the dmz zone
        "delete zone trust network layer3 ethernet1/3\nset zone dmz network layer3 ethernet1/3\n"
    )
    report = audit_text(tmp_path, "intra.set", text)
    syslog = flow(report, "XM-APP-14.1")
    assert syslog.status == "allowed" and deciders(syslog) == {"intrazone-default"}
    denied = audit_text(
        tmp_path,
        "intra2.set",
        text + "set rulebase security rules no-intra from dmz to dmz source any destination any "
        "application any service any action deny rule-type intrazone\n"
        + "move rulebase security rules no-intra top\n",
    )
    assert deciders(flow(denied, "XM-APP-14.1")) == {"rule 'no-intra'"}
    inter = audit_text(
        tmp_path,
        "intra3.set",
        text + "set rulebase security rules no-inter from dmz to dmz source any destination any "
        "application any service any action deny rule-type interzone\n"
        + "move rulebase security rules no-inter top\n",
    )
    assert deciders(flow(inter, "XM-APP-14.1")) == {"intrazone-default"}


def test_default_rule_override(tmp_path: Path) -> None:
    # P2: interzone-default overridden to allow
    text = SET.read_text("utf-8") + (
        "set rulebase default-security-rules rules interzone-default action allow\n"
    )
    report = audit_text(tmp_path, "override.set", text)
    console = flow(report, "XM-APP-25.1")
    assert console.status == "allowed" and deciders(console) == {"interzone-default"}


XML = """<?xml version="1.0"?>
<config version="10.1.0">
  <devices>
    <entry name="localhost.localdomain">
      <network>
        <interface><ethernet>
          <entry name="ethernet1/2"><layer3><ip><entry name="192.168.50.1/24"/></ip></layer3></entry>
          <entry name="ethernet1/3"><layer3><ip><entry name="192.168.10.1/24"/></ip></layer3></entry>
        </ethernet></interface>
      </network>
      <vsys>
        <entry name="vsys1">
          <zone>
            <entry name="dmz"><network><layer3><member>ethernet1/2</member></layer3></network></entry>
            <entry name="trust"><network><layer3><member>ethernet1/3</member></layer3></network></entry>
          </zone>
          <address>
            <entry name="dns-server"><ip-netmask>192.168.10.5</ip-netmask></entry>
            <entry name="dmz-net"><ip-netmask>192.168.50.0/24</ip-netmask></entry>
          </address>
          <rulebase><security><rules>
            <entry name="dns-not-from-dmz">
              <from><member>dmz</member></from><to><member>trust</member></to>
              <source><member>dmz-net</member></source>
              <destination><member>dns-server</member></destination>
              <negate-source>yes</negate-source>
              <service><member>any</member></service><application><member>any</member></application>
              <action>allow</action>
            </entry>
            <entry name="dns">
              <from><member>dmz</member></from><to><member>trust</member></to>
              <source><member>any</member></source>
              <destination><member>dns-server</member></destination>
              <service><member>any</member></service><application><member>any</member></application>
              <action>deny</action>
            </entry>
          </rules></security></rulebase>
          <mgt-config><users><entry name="admin"><phash>$1$Redacted0TopSecretXmlHash</phash></entry></users></mgt-config>
        </entry>
      </vsys>
    </entry>
  </devices>
</config>
"""


def test_xml_with_negated_source(tmp_path: Path) -> None:
    # P4: negate-source: the first rule takes every source but the DMZ, so the DMZ's DNS
    # queries meet the deny that follows
    report = audit_text(tmp_path, "running-config.xml", XML)
    assert report.dialect == "paloalto"
    dns = flow(report, "XM-APP-02.1")
    assert dns.status == "blocked" and deciders(dns) == {"rule 'dns'"}
    line = XML.splitlines().index('            <entry name="dns">') + 1
    assert dns.parts[0].fates[0].decided_by.line == line  # type: ignore[union-attr]
