"""Groups inside groups, for the four vendors: a group reached twice through the groups
of one hierarchy (a diamond: A holds B and C, both hold D) is legal and reads D's members
each time, with nothing listed; a group that holds itself, directly or through others
(a cycle, which no device accepts), is listed at the line that names it again, with the
names of the cycle, and the group is read as far as it goes (no endless reading)."""

from __future__ import annotations

import ipaddress

import pytest

from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.vendor import read_vendor

H1, H4 = "10.0.0.1", "10.0.0.4"


def _read(vendor: str, text: str) -> Ruleset:
    return read_vendor(vendor, text, "f.cfg", context=None, prefer=None)  # type: ignore[arg-type]


def _hosts(ruleset: Ruleset, name: str) -> set[str]:
    """The IPv4 hosts the sources of the rules named ``name`` take."""
    out: set[str] = set()
    for rule in ruleset.rules:
        if rule.origin.name == name and rule.match.family == 4 and rule.match.src:
            for low, high in rule.match.src:
                out.update(
                    str(ipaddress.IPv4Address(n)) for n in range(low, min(high, low + 9) + 1)
                )
    return out


def _problems(ruleset: Ruleset) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in ruleset.problems]


def _line(text: str, needle: str, after: str = "") -> int:
    """The number of the first line holding ``needle`` after the line holding ``after``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


# -- Cisco ASA ----------------------------------------------------------------------------

ASA = """ASA Version 9.16(2)
interface GigabitEthernet1/1
 nameif inside
 security-level 100
 ip address 10.0.0.254 255.255.255.0
object-group network A
 network-object host 10.0.0.1
 group-object B
 group-object C
object-group network B
 group-object D
object-group network C
 group-object D
object-group network D
 network-object host 10.0.0.4
{extra}
object-group network E
 network-object object-group B
 network-object object-group C
object-group service SA tcp
 port-object eq 80
 group-object SB
 group-object SC
object-group service SB tcp
 group-object SD
object-group service SC tcp
 group-object SD
object-group service SD tcp
 port-object eq 443
{services}
object-group protocol P
 protocol-object udp
{protocols}
access-list X extended permit ip object-group {use} any
access-list X extended permit tcp object-group {use} any object-group SA
access-list X extended permit object-group P object-group {use} any
access-group X global
"""


def _asa(extra: str = "", use: str = "A", services: str = "", protocols: str = "") -> str:
    return ASA.format(extra=extra, use=use, services=services, protocols=protocols)


def test_asa_diamonds_read_the_group_below_each_time() -> None:
    text = _asa()
    ruleset = _read("ciscoasa", text)
    assert _problems(ruleset) == []
    assert _hosts(ruleset, "X line 1") == {H1, H4}
    (web,) = [r for r in ruleset.rules if r.origin.name == "X line 2"]
    assert web.match.dport == ((80, 80), (443, 443))
    for use, hosts in (("E", {H4}), ("C", {H4})):
        ruleset = _read("ciscoasa", _asa(use=use))
        assert _problems(ruleset) == [] and _hosts(ruleset, "X line 1") == hosts


#: A member added to D, the group it is read from, and the cycles it makes: (the group
#: whose member closes the cycle, that member, the cycle).
ASA_CYCLES = [
    (" group-object D", "A", [("D", " group-object D", "D -> D")]),
    (" group-object A", "A", [("D", " group-object A", "A -> B -> D -> A")]),
    (
        " network-object object-group C",
        "A",
        [("C", " group-object D", "D -> C -> D")],
    ),
    (
        " network-object object-group A",
        "D",
        [
            ("B", " group-object D", "D -> A -> B -> D"),
            ("C", " group-object D", "D -> A -> C -> D"),
        ],
    ),
]


@pytest.mark.parametrize(("extra", "use", "cycles"), ASA_CYCLES)
def test_asa_network_group_cycles_are_listed_where_named(
    extra: str, use: str, cycles: list[tuple[str, str, str]]
) -> None:
    text = _asa(extra=extra, use=use)
    ruleset = _read("ciscoasa", text)
    assert _problems(ruleset) == [
        (
            _line(text, member, after=f"object-group network {group}"),
            f"object-group {cycle.split(' -> ')[0]!r} contains itself: {cycle}",
        )
        for group, member, cycle in cycles
    ]
    assert _hosts(ruleset, "X line 1") == {H1, H4}


def test_asa_service_and_protocol_group_cycles_are_listed() -> None:
    text = _asa(services=" group-object SA", protocols=" group-object P")
    ruleset = _read("ciscoasa", text)
    assert _problems(ruleset) == [
        (
            _line(text, "group-object SA", after="service SD"),
            "object-group 'SA' contains itself: SA -> SB -> SD -> SA",
        ),
        (
            _line(text, "group-object P", after="protocol P"),
            "object-group 'P' contains itself: P -> P",
        ),
    ]
    (web,) = [r for r in ruleset.rules if r.origin.name == "X line 2"]
    assert web.match.dport == ((80, 80), (443, 443))
    (udp,) = [r for r in ruleset.rules if r.origin.name == "X line 3" and r.match.family == 4]
    assert udp.match.protos == frozenset({17})


# -- FortiGate ----------------------------------------------------------------------------

FORTIGATE = """config system interface
    edit "port1"
        set ip 10.0.0.254 255.255.255.0
    next
end
config firewall address
    edit "h1"
        set subnet 10.0.0.1 255.255.255.255
    next
    edit "h4"
        set subnet 10.0.0.4 255.255.255.255
    next
end
config firewall addrgrp
    edit "A"
        set member "h1" "B" "C"
    next
    edit "B"
        set member "D"
    next
    edit "C"
        set member "D"
    next
    edit "D"
        set member "h4"{extra}
    next
end
config firewall service group
    edit "SA"
        set member "HTTP" "SB" "SC"
    next
    edit "SB"
        set member "SD"
    next
    edit "SC"
        set member "SD"
    next
    edit "SD"
        set member "HTTPS"{services}
    next
end
config firewall policy
    edit 1
        set srcintf "port1"
        set dstintf "port1"
        set srcaddr "A"
        set dstaddr "all"
        set action accept
        set schedule "always"
        set service "SA"
    next
end
"""


def test_fortigate_diamonds_and_cycles() -> None:
    ruleset = _read("fortigate", FORTIGATE.format(extra="", services=""))
    assert _problems(ruleset) == []
    assert _hosts(ruleset, "policy 1") == {H1, H4}
    ports = {iv for r in ruleset.rules if r.origin.name == "policy 1" for iv in r.match.dport or ()}
    assert ports == {(80, 80), (443, 443)}
    text = FORTIGATE.format(extra=' "A"', services=' "SB"')
    ruleset = _read("fortigate", text)
    assert _problems(ruleset) == [
        (_line(text, 'set member "h4" "A"'), "address group 'A' contains itself: A -> B -> D -> A"),
        (
            _line(text, 'set member "HTTPS" "SB"'),
            "service group 'SB' contains itself: SB -> SD -> SB",
        ),
    ]
    assert _hosts(ruleset, "policy 1") == {H1, H4}


# -- PAN-OS -------------------------------------------------------------------------------

PANOS = """set network interface ethernet ethernet1/1 layer3 ip 10.0.0.254/24
set zone trust network layer3 ethernet1/1
set address h1 ip-netmask 10.0.0.1
set address h4 ip-netmask 10.0.0.4
set address-group A static [ h1 B C ]
set address-group B static D
set address-group C static D
set address-group D static [ h4{extra} ]
set service web protocol tcp port 80
set service tls protocol tcp port 443
set service-group SA members [ web SB SC ]
set service-group SB members SD
set service-group SC members SD
set service-group SD members [ tls{services} ]
set rulebase security rules r from trust to trust source A destination any service SA application any action allow
"""


def test_panos_diamonds_and_cycles() -> None:
    ruleset = _read("paloalto", PANOS.format(extra="", services=""))
    assert _problems(ruleset) == []
    assert _hosts(ruleset, "rule 'r'") == {H1, H4}
    text = PANOS.format(extra=" A", services=" SA")
    ruleset = _read("paloalto", text)
    assert _problems(ruleset) == [
        (_line(text, "static [ h4 A ]"), "address group 'A' contains itself: A -> B -> D -> A"),
        (
            _line(text, "members [ tls SA ]"),
            "service group 'SA' contains itself: SA -> SB -> SD -> SA",
        ),
    ]
    assert _hosts(ruleset, "rule 'r'") == {H1, H4}


# -- Juniper SRX --------------------------------------------------------------------------

SRX = """set interfaces ge-0/0/0 unit 0 family inet address 10.0.0.254/24
set security zones security-zone trust interfaces ge-0/0/0.0
set security address-book global address h1 10.0.0.1/32
set security address-book global address h4 10.0.0.4/32
set security address-book global address-set A address h1
set security address-book global address-set A address-set B
set security address-book global address-set A address-set C
set security address-book global address-set B address-set D
set security address-book global address-set C address-set D
set security address-book global address-set D address h4
{extra}
set applications application-set SA application junos-http
set applications application-set SA application-set SB
set applications application-set SA application-set SC
set applications application-set SB application-set SD
set applications application-set SC application-set SD
set applications application-set SD application junos-https
{services}
set security policies from-zone trust to-zone trust policy p match source-address A
set security policies from-zone trust to-zone trust policy p match destination-address any
set security policies from-zone trust to-zone trust policy p match application SA
set security policies from-zone trust to-zone trust policy p then permit
"""
SRX_A = "set security address-book global address-set D address-set A"
SRX_SA = "set applications application-set SD application-set SA"


def test_srx_diamonds_and_cycles() -> None:
    ruleset = _read("srx", SRX.format(extra="", services=""))
    assert _problems(ruleset) == []
    assert _hosts(ruleset, "policy p") == {H1, H4}
    text = SRX.format(extra=SRX_A, services=SRX_SA)
    ruleset = _read("srx", text)
    assert _problems(ruleset) == [
        (_line(text, SRX_A), "address-set 'A' contains itself: A -> B -> D -> A"),
        (_line(text, SRX_SA), "application-set 'SA' contains itself: SA -> SB -> SD -> SA"),
    ]
    assert _hosts(ruleset, "policy p") == {H1, H4}
