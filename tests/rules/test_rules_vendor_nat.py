"""NAT in the vendor outputs: what FortiGate, PAN-OS, Cisco ASA and Juniper SRX get for the
hospital's edge firewall (a published gateway, a fixed source address, a masquerade),
and the audit reading each output back with one translation per NAT written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import flowmatrix
from flowmatrix.api import load_plan
from flowmatrix.audit import ranges
from flowmatrix.audit.device import Translation
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.vendor import Vendor, read_vendor
from flowmatrix.model import Plan
from flowmatrix.rules import RulesOutput, Scope, generate

HOSPITAL = Path(flowmatrix.__file__).parent / "examples" / "hospital.yaml"
VENDORS: tuple[Vendor, ...] = ("fortigate", "paloalto", "ciscoasa", "srx")
NAT_BLOCK = """    nat:                         # the Internet sees the public addresses only
      destination:
        - public: 203.0.113.40   # the gateway's public address -> the NetScaler VIP
          to: adc1
          ports: [443, 8443]
      source:
        - from: servers          # XenMobile's pushes (APNs, FCM) leave as one address
          as: 203.0.113.41
        - from: wifi             # the Wi-Fi devices leave as the firewall's own address
          as: masquerade
"""


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(str(HOSPITAL))


@pytest.fixture(scope="module")
def edge(plan: Plan) -> dict[str, RulesOutput]:
    return {vendor: generate(plan, Scope("firewall", "edge"), vendor) for vendor in VENDORS}


def _variant(tmp_path: Path, *edits: tuple[str, str]) -> Plan:
    """The hospital site with ``edits`` (old, new) made, each exactly once."""
    text = HOSPITAL.read_text("utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "site.yaml"
    path.write_text(text, "utf-8")
    return load_plan(str(path))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _entry(text: str, section: str, name: str) -> list[str]:
    """The lines of ``edit NAME`` ... ``next`` in FortiOS ``config SECTION``, stripped."""
    lines = _lines(text)
    start = lines.index(f"config {section}")
    at = next(i for i in range(start, len(lines)) if lines[i] in (f"edit {name}", "end"))
    assert lines[at] == f"edit {name}", f"no {name} in {section}"
    return lines[at : lines.index("next", at) + 1]


def _policy(text: str, name: str) -> list[str]:
    lines = _lines(text)
    at = lines.index(f'set name "{name}"')
    return lines[at : lines.index("next", at) + 1]


def _block(text: str, head: str) -> list[str]:
    """A brace block of Junos' form, from its head line to its closing brace, stripped."""
    lines = _lines(text)
    at = lines.index(f"{head} {{")
    depth = 0
    for end in range(at, len(lines)):
        depth += lines[end].endswith("{") - (lines[end] == "}")
        if depth == 0:
            return lines[at : end + 1]
    raise AssertionError(f"{head} is not closed")


def test_outputs_have_no_error(edge: dict[str, RulesOutput]) -> None:
    for vendor, out in edge.items():
        assert not out.errors, (vendor, out.errors)
        assert not [f for f in out.warnings if "NAT" in f.message], (vendor, out.warnings)


def test_fortigate_vips_pool_and_policies(edge: dict[str, RulesOutput]) -> None:
    text = edge["fortigate"].text
    for port in (443, 8443):
        vip = _entry(text, "firewall vip", f"vip-adc1-tcp-{port}")
        assert [line for line in vip if not line.startswith("set comment ")] == [
            f"edit vip-adc1-tcp-{port}",
            "set extip 203.0.113.40",
            'set mappedip "172.30.10.10"',
            'set extintf "eth0"',
            "set portforward enable",
            "set protocol tcp",
            f"set extport {port}",
            f"set mappedport {port}",
            "next",
        ]
    assert _entry(text, "firewall ippool", "pool-203-0-113-41") == [
        "edit pool-203-0-113-41",
        "set type overload",
        "set startip 203.0.113.41",
        "set endip 203.0.113.41",
        "next",
    ]
    # inbound: the destination is the VIP of the flow's port (how FortiOS matches DNAT)
    assert 'set dstaddr "vip-adc1-tcp-443"' in _policy(text, "xm-app-07-1")
    assert 'set dstaddr "vip-adc1-tcp-8443"' in _policy(text, "xm-app-24-4")
    # outbound: the servers leave from the pool, the Wi-Fi from the interface's address
    pooled = ["set nat enable", "set ippool enable", 'set poolname "pool-203-0-113-41"', "next"]
    assert _policy(text, "xm-add-01-1")[-4:] == pooled
    assert _policy(text, "xm-add-02-1")[-4:] == pooled
    masquerade = _policy(text, "xm-add-03-1")
    assert masquerade[-2:] == ["set nat enable", "next"] and "set ippool enable" not in masquerade
    assert "set nat enable" not in _policy(text, "xm-app-07-1")
    # the objects are defined before the policies name them; no placeholder is left
    assert text.index("config firewall vip") < text.index("config firewall policy")
    assert text.index("config firewall ippool") < text.index("config firewall policy")
    assert "240.0.0." not in text and "172.30.10.10 255.255.255.255" not in text


def test_paloalto_nat_rules_and_pre_nat_security_rules(edge: dict[str, RulesOutput]) -> None:
    text = edge["paloalto"].text
    root = ET.fromstring(text)
    vsys = root.find("devices/entry/vsys/entry")
    assert vsys is not None
    rules = {e.get("name"): e for e in vsys.iterfind("rulebase/nat/rules/entry")}
    assert list(rules) == ["nat-adc1-tcp", "snat-servers", "snat-wifi"]

    def members(entry: ET.Element, path: str) -> list[str]:
        return [m.text or "" for m in entry.iterfind(f"{path}/member")]

    dnat = rules["nat-adc1-tcp"]
    assert members(dnat, "from") == members(dnat, "to") == ["internet"]
    assert members(dnat, "source") == ["any"]
    assert members(dnat, "destination") == ["203.0.113.40"]
    assert dnat.findtext("service") == "service-nat-adc1-tcp"
    assert dnat.findtext("destination-translation/translated-address") == "172.30.10.10"
    service = vsys.find("service/entry[@name='service-nat-adc1-tcp']")
    assert service is not None and service.findtext("protocol/tcp/port") == "443,8443"
    servers, wifi = rules["snat-servers"], rules["snat-wifi"]
    for entry, source in ((servers, "10.31.8.0/23"), (wifi, "10.60.0.0/16")):
        assert (members(entry, "from"), members(entry, "to")) == (["dmz"], ["internet"])
        assert members(entry, "source") == [source]
        assert members(entry, "destination") == ["any"] and entry.findtext("service") == "any"
    pat = "source-translation/dynamic-ip-and-port"
    assert members(servers, f"{pat}/translated-address") == ["203.0.113.41"]
    assert wifi.findtext(f"{pat}/interface-address/interface") == "eth0"
    # security rules match the pre-NAT destination (the public address), post-NAT zone
    inbound = vsys.find("rulebase/security/rules/entry[@name='xm-app-07-1']")
    assert inbound is not None and members(inbound, "to") == ["dmz"]
    (group,) = members(inbound, "destination")
    (address,) = [
        m.text for m in vsys.iterfind(f"address-group/entry[@name='{group}']/static/member")
    ]
    assert vsys.findtext(f"address/entry[@name='{address}']/ip-netmask") == "203.0.113.40/32"
    assert "172.30.10.10/32" not in text
    # written in aerleon's layout: two spaces a level, the NAT rules beside the security rules
    assert (
        '            <nat>\n              <rules>\n                <entry name="nat-adc1-tcp">'
        in text
    )


def test_ciscoasa_object_nat(edge: dict[str, RulesOutput]) -> None:
    text = edge["ciscoasa"].text
    nat = text[text.index("object network nat-adc1-tcp-443") :]
    assert nat.splitlines() == [
        "object network nat-adc1-tcp-443",
        " host 172.30.10.10",
        " nat (eth1,eth0) static 203.0.113.40 service tcp 443 443",
        "",
        "object network nat-adc1-tcp-8443",
        " host 172.30.10.10",
        " nat (eth1,eth0) static 203.0.113.40 service tcp 8443 8443",
        "",
        "object network snat-servers",
        " subnet 10.31.8.0 255.255.254.0",
        " nat (eth1,eth0) dynamic 203.0.113.41",
        "",
        "object network snat-wifi",
        " subnet 10.60.0.0 255.255.0.0",
        " nat (eth1,eth0) dynamic interface",
    ]
    # access lists stay on the real address (ASA 8.3+)
    assert "access-list edge extended permit tcp any host 172.30.10.10 eq https" in text


def test_srx_nat(edge: dict[str, RulesOutput]) -> None:
    text = edge["srx"].text

    def rule(name: str, port: int) -> list[str]:
        return [
            f"rule {name} {{",
            "match {",
            "destination-address 203.0.113.40/32;",
            f"destination-port {port};",
            "protocol tcp;",
            "}",
            "then {",
            "destination-nat {",
            "pool {",
            "pool-adc1;",
            "}",
            "}",
            "}",
            "}",
        ]

    def source(name: str, network: str, then: list[str]) -> list[str]:
        return [
            f"rule {name} {{",
            "match {",
            f"source-address {network};",
            "}",
            "then {",
            "source-nat {",
            *then,
            "}",
            "}",
            "}",
        ]

    assert _block(text, "nat") == [
        "nat {",
        "destination {",
        "pool pool-adc1 {",
        "address 172.30.10.10/32;",
        "}",
        "rule-set from-internet {",
        "from zone internet;",
        *rule("adc1-tcp-443", 443),
        *rule("adc1-tcp-8443", 8443),
        "}",
        "}",
        "source {",
        "pool pool-203-0-113-41 {",
        "address {",
        "203.0.113.41/32;",
        "}",
        "}",
        "rule-set to-internet {",
        "from zone dmz;",
        "to zone internet;",
        *source("snat-servers", "10.31.8.0/23", ["pool {", "pool-203-0-113-41;", "}"]),
        *source("snat-wifi", "10.60.0.0/16", ["interface;"]),
        "}",
        "}",
        "}",
    ]
    # in aerleon's security block, beside the policies (which keep the real address)
    assert _block(text, "security")[-len(_block(text, "nat")) - 1 : -1] == _block(text, "nat")
    assert "address NETSCALER_GATEWAY_DMZ_VIP_V4_0 172.30.10.10/32;" in _lines(text)


def _described(ivs: ranges.Ivs | None, family: int) -> str | None:
    return None if ivs is None else ranges.describe_addresses(ivs, family)


def _summary(t: Translation) -> tuple[str, str | None, str | None, str | None]:
    """(kind, what it matches: the destination of a DNAT with its ports, the source of a
    SNAT; what it translates to)."""
    family = t.match.family or 4
    if t.kind == "destination":
        ports = ranges.describe_ports(t.match.dport) if t.match.dport else None
        return (t.kind, _described(t.match.dst, family), ports, _described(t.to_addresses, family))
    return (t.kind, _described(t.match.src, family), None, _described(t.to_addresses, family))


SERVERS, WIFI, PUBLIC, VIP = "10.31.8.0/23", "10.60.0.0/16", "203.0.113.40", "172.30.10.10"
SOURCE_NAT = {("source", SERVERS, None, "203.0.113.41"), ("source", WIFI, None, None)}
DNAT_BY_PORT = {("destination", PUBLIC, port, VIP) for port in ("443", "8443")}
READ_BACK: dict[str, set[tuple[str, str | None, str | None, str | None]]] = {
    # the policies' own sources leave from their pool / interface
    "fortigate": DNAT_BY_PORT
    | {
        ("source", "10.31.8.11, 10.31.8.12", None, "203.0.113.41"),
        ("source", WIFI, None, None),
    },
    "paloalto": {("destination", PUBLIC, "443,8443", VIP)} | SOURCE_NAT,
    # a static object NAT also translates the host's own connections
    "ciscoasa": DNAT_BY_PORT | SOURCE_NAT | {("source", VIP, None, PUBLIC)},
    "srx": DNAT_BY_PORT | SOURCE_NAT,
}


@pytest.mark.parametrize("vendor", VENDORS)
def test_audit_reads_every_nat_back(
    tmp_path: Path, plan: Plan, edge: dict[str, RulesOutput], vendor: Vendor
) -> None:
    path = tmp_path / f"edge.{vendor}"
    path.write_text(edge[vendor].text, "utf-8")
    ruleset = read_vendor(vendor, edge[vendor].text, str(path), context=None, prefer=None)
    assert ruleset.device is not None and not ruleset.problems
    translations = ruleset.device.translations
    assert {_summary(t) for t in translations} == READ_BACK[vendor]
    report = audit(None, ruleset=path, firewall="edge", plan=plan)
    assert not report.problems
    flows = {f.id: f for f in plan.flows}
    dnat_names = {t.name for t in translations if t.kind == "destination"}
    published = 0
    for result in report.flows:
        flow = flows[result.flow_id]
        assert result.status == ("allowed" if flow.requested else "blocked"), result.flow_id
        if any(n.kind == "destination" for n in flow.nat):
            published += 1  # it came through one of the translations written
            assert any(name in note for name in dnat_names for note in result.notes), result
    assert published == 6
    assert [w.rule.where for w in report.wide_rules] == []


def _without_nat(tmp_path: Path) -> Plan:
    return _variant(tmp_path, (NAT_BLOCK, ""))


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_firewall_without_nat_is_written_as_before(
    tmp_path: Path, plan: Plan, edge: dict[str, RulesOutput], vendor: Vendor
) -> None:
    bare = _without_nat(tmp_path)
    assert not bare.nat_of("edge")
    core = Scope("firewall", "core")
    assert generate(bare, core, vendor).text == generate(plan, core, vendor).text
    before = generate(bare, Scope("firewall", "edge"), vendor).text
    after = edge[vendor].text
    assert before != after
    if vendor == "ciscoasa":  # the object NAT follows the access lists, unchanged
        assert after.startswith(before.rstrip("\n") + "\n\nobject network ")
    if vendor == "srx":  # the nat block is all that is added
        added = len(_block(after, "nat"))
        lines = after.splitlines()
        at = lines.index("    nat {")
        assert "\n".join(lines[:at] + lines[at + added :]) + "\n" == before


def test_a_target_without_nat_says_so(plan: Plan) -> None:
    out = generate(plan, Scope("firewall", "edge"), "cisco")
    assert [f.message for f in out.warnings if "NAT" in f.message] == [
        "NAT (cisco): the firewall's 3 address translations are not written: this target has "
        "filters only (NAT is written for nftables, iptables, ip6tables, ciscoasa, srx, paloalto, fortigate)"
    ]


def test_what_a_platform_cannot_express_is_a_finding(tmp_path: Path) -> None:
    # PAN-OS names the interface whose address it translates to: none given, none written
    site = _variant(tmp_path, ("    interfaces: {internet: eth0, dmz: eth1}\n", ""))
    wifi = next(n for n in site.nat if n.subject == "wifi")
    out = generate(site, Scope("firewall", "edge"), "paloalto")
    assert [f.message for f in out.errors] == [
        f"NAT (paloalto): {wifi.describe()}: PAN-OS translates to an interface's address by "
        "naming it: not written (hint: give the firewall interfaces: {internet: NAME})"
    ]
    assert "snat-wifi" not in out.text and "snat-servers" in out.text


def test_many_ports_on_asa_publish_the_address(tmp_path: Path) -> None:
    site = _variant(tmp_path, ("ports: [443, 8443]", "ports: [443, 8443, 5000-5100]"))
    out = generate(site, Scope("firewall", "edge"), "ciscoasa")
    (warning,) = [f for f in out.warnings if "NAT" in f.message]
    assert "every port of 203.0.113.40 is published" in warning.message
    assert (
        "object network nat-adc1\n host 172.30.10.10\n nat (eth1,eth0) static 203.0.113.40\n"
        in out.text
    )
    assert " service tcp" not in out.text
    # the other platforms publish the range as such
    srx = generate(site, Scope("firewall", "edge"), "srx").text
    assert "destination-port 5000 to 5100;" in _lines(srx)
    fortigate = generate(site, Scope("firewall", "edge"), "fortigate").text
    assert "set extport 5000-5100" in _entry(fortigate, "firewall vip", "vip-adc1-tcp-5000-5100")


def test_a_public_address_of_another_family_is_an_error(tmp_path: Path) -> None:
    site = _variant(tmp_path, ("- public: 203.0.113.40 ", '- public: "2001:db8:40::40" '))
    for vendor in VENDORS:
        out = generate(site, Scope("firewall", "edge"), vendor)
        assert [f.message for f in out.errors if "NAT" in f.message] == [
            f"NAT ({vendor}): {site.nat[0].describe()}: a public address of another family "
            "than the host's is not written (no NAT64 / NAT46 here)"
        ], vendor
        assert "2001:db8:40::40" not in out.text


def test_fortigate_says_when_a_policy_translates_more_than_the_site(tmp_path: Path) -> None:
    # the site translates xms1 only; the FortiGate policy carries xms1 and xms2
    site = _variant(tmp_path, ("- from: servers ", "- from: xms1 "))
    out = generate(site, Scope("firewall", "edge"), "fortigate")
    assert sorted((f.flow, f.message) for f in out.warnings if "NAT" in f.message) == [
        (
            flow,
            f"NAT (fortigate): policy {name} translates every source it permits, xms2 too: "
            "the site translates xms1 only",
        )
        for flow, name in (("XM-ADD-01.1", "xm-add-01-1"), ("XM-ADD-02.1", "xm-add-02-1"))
    ]


@pytest.mark.parametrize("vendor", ["fortigate", "ciscoasa", "srx"])
def test_without_interfaces_the_nat_names_the_zones(tmp_path: Path, vendor: Vendor) -> None:
    # the ASA's nameifs are then the zones' names, which the audit binds by name
    site = _variant(tmp_path, ("    interfaces: {internet: eth0, dmz: eth1}\n", ""))
    out = generate(site, Scope("firewall", "edge"), vendor)
    assert not out.errors, out.errors
    if vendor == "ciscoasa":
        assert " nat (dmz,internet) static 203.0.113.40 service tcp 443 443" in out.text
        assert " nat (dmz,internet) dynamic interface" in out.text
    if vendor == "fortigate":
        assert 'set extintf "any"' in _entry(out.text, "firewall vip", "vip-adc1-tcp-443")
    path = tmp_path / f"edge.{vendor}"
    path.write_text(out.text, "utf-8")
    report = audit(None, ruleset=path, firewall="edge", plan=site)
    assert not report.problems
    flows = {f.id: f for f in site.flows}
    for result in report.flows:
        assert result.status == ("allowed" if flows[result.flow_id].requested else "blocked"), (
            result
        )
