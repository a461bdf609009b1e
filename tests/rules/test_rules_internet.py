"""'Any address' of the Internet zone is every address in no other zone of the site.

Without an interface map, a rule for "Internet -> XenMobile:443" with no source match
would also let the LAN in; with the other zones excluded it does not. Checked on
selection, on every target's text, and with real packets through a namespace router.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from tests.rules.netprobe import connect

from flowmatrix.api import load_plan
from flowmatrix.model import Plan
from flowmatrix.netns import Namespace, NamespaceSet
from flowmatrix.probe.netns_thread import run_in_netns
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.select import select
from flowmatrix.rules.text import label
from flowmatrix.rules.validate import validate

SITE = str(Path(__file__).parent / "data" / "internet-only.yaml")
FW = Scope("firewall", "fw")
#: zone -> (IPv4 address, IPv6 address) of the zone's namespace; the router is .1 / ::1.
ADDRESSES = {
    "internet": ("203.0.113.5", "2001:db8:ffff::5"),
    "lan": ("10.61.0.5", "fd00:61::5"),
    "servers": ("10.62.0.11", "fd00:62::11"),
}
#: Long enough for an answer across a veth, short enough for a dropped SYN.
TIMEOUT = 0.4


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(SITE)


def test_internet_any_excludes_the_other_zones(plan: Plan) -> None:
    specs = {s.flow.id: s for s in select(plan, FW).specs}
    enrol = specs["XM-APP-10.1"]
    assert enrol.source.any and not enrol.source.has_addresses
    assert [str(n) for n in enrol.source.not_v4] == ["10.61.0.0/24", "10.62.0.0/24"]
    assert [str(n) for n in enrol.source.not_v6] == ["fd00:61::/64", "fd00:62::/64"]
    relay = specs["XM-DEV-03.1"]
    assert relay.destination.any and relay.destination.not_v4 == enrol.source.not_v4
    assert relay.families == (4, 6)


def test_nftables_matches_outside_the_other_zones(plan: Plan) -> None:
    text = generate(plan, FW, "nftables").text
    assert "\tset zone_not_internet_v4 {" in text
    assert "elements = { 10.61.0.0/24, 10.62.0.0/24 }" in text
    assert "elements = { fd00:61::/64, fd00:62::/64 }" in text
    assert "ip saddr != @zone_not_internet_v4 ip daddr @xenmobile_servers_v4 tcp dport 443" in text
    assert (
        "ip6 saddr != @zone_not_internet_v6 ip6 daddr @xenmobile_servers_v6 tcp dport 443" in text
    )
    assert "ip saddr @xenmobile_servers_v4 ip daddr != @zone_not_internet_v4 tcp dport" in text


def test_iptables_jumps_to_a_chain_that_returns_for_the_other_zones(plan: Plan) -> None:
    lines = generate(plan, FW, "iptables").text.splitlines()
    assert ":FLOWMATRIX-FW-INET-SRC - [0:0]" in lines
    enrol = next(x for x in lines if '--comment "XM-APP-10.1' in x)
    assert enrol.startswith("-A FLOWMATRIX-FW -d 10.62.0.11/32 -p tcp -m tcp --dport 443 ")
    assert enrol.endswith(" -j FLOWMATRIX-FW-INET-SRC")
    chain = [x for x in lines if x.startswith("-A FLOWMATRIX-FW-INET-SRC ")]
    assert chain == [
        "-A FLOWMATRIX-FW-INET-SRC -s 10.61.0.0/24 -j RETURN",
        "-A FLOWMATRIX-FW-INET-SRC -s 10.62.0.0/24 -j RETURN",
        "-A FLOWMATRIX-FW-INET-SRC -j ACCEPT",
    ]
    relay = next(x for x in lines if '--comment "XM-DEV-03.1' in x)
    assert relay.endswith(" -j FLOWMATRIX-FW-INET-DST")
    six = generate(plan, FW, "ip6tables").text
    assert "-A FLOWMATRIX-FW-INET-SRC -s fd00:61::/64 -j RETURN" in six


def _without_ipv6_zones(plan: Plan) -> Plan:
    """``plan`` on a site whose zones have no IPv6 networks (its hosts keep theirs)."""
    zones = tuple(
        replace(z, cidrs=tuple(c for c in z.cidrs if ":" not in c)) for z in plan.site.zones
    )
    return replace(plan, site=replace(plan.site, zones=zones))


def test_a_family_without_other_zones_needs_no_exclusion(plan: Plan) -> None:
    v4_only = _without_ipv6_zones(plan)
    text = generate(v4_only, FW, "nftables").text
    assert "zone_not_internet_v6" not in text
    assert "\t\tip6 daddr @xenmobile_servers_v6 tcp dport 443 ct state new accept" in text
    six = generate(v4_only, FW, "ip6tables").text
    assert "INET-SRC" not in six
    assert any(x.endswith(" -j ACCEPT") and "fd00:62::11/128" in x for x in six.splitlines())


def test_two_any_ends_are_matched_per_family(plan: Plan) -> None:
    flow = plan.flow("XM-APP-10.1")
    both_any = replace(plan, flows=(replace(flow, destination=flow.source),))
    spec = select(both_any, FW).specs[0]
    assert spec.families == (4, 6) and not spec.family_free
    text = generate(_without_ipv6_zones(both_any), FW, "nftables").text
    assert "\t\tip saddr != @zone_not_internet_v4 ip daddr != @zone_not_internet_v4 tcp" in text
    # no IPv6 network to exclude: the rule still matches IPv6 only
    assert "\t\tmeta nfproto ipv6 tcp dport 443 ct state new accept" in text
    assert not generate(_without_ipv6_zones(both_any), FW, "nftables").errors


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("srx", "0.0.0.0/5;"),
        ("fortigate", 'set exclude-member "ZONE_NOT_INTERNET"'),
        ("gce", '"0.0.0.0/5"'),
        ("k8s", "- 10.61.0.0/24"),
    ],
)
def test_aerleon_targets_exclude_the_other_zones(plan: Plan, target: str, kept: str) -> None:
    out = generate(plan, FW, target)
    assert not out.errors
    assert kept in out.text
    assert not [f for f in out.findings if "written as any address" in f.message]


# --- first-match ACLs: a deny term for the other zones, then the permit -------------------

ACL_TARGETS = ["cisco", "arista", "ciscoasa"]
_ACL_ENTRY = re.compile(r"\b(permit|deny) (tcp|udp) (.+)$")
_PORT_NAMES = {"www": 80, "https": 443}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AclEntry:
    action: str
    protocol: str
    source: Network | None
    destination: Network | None
    port: int | None
    version: int
    """The ACL's family: an ASA IPv6 ACL's name ends in -v6 (flowmatrix's naming)."""


def _acl_address(words: list[str], wildcard: bool) -> Network | None:
    """Consume one address of a Cisco-like entry from ``words``: None for 'any'; an
    address and a mask (a wildcard on Cisco IOS, a netmask on the ASA) or a prefix."""
    first = words.pop(0)
    if first in ("any", "any4", "any6"):
        return None
    if first == "host":
        return ipaddress.ip_network(words.pop(0))
    if "/" in first:
        return ipaddress.ip_network(first)
    mask = ipaddress.ip_address(words.pop(0))
    if wildcard:
        mask = ipaddress.ip_address(int(mask) ^ 0xFFFFFFFF)
    return ipaddress.ip_network(f"{first}/{mask}")


def _acl_entries(text: str, target: str) -> list[AclEntry]:
    entries = []
    wildcard = target == "cisco"
    version = 4
    for line in text.splitlines():
        if line.startswith(("ip access-list", "ipv6 access-list", "access-list ")):
            version = 6 if line.startswith("ipv6") or line.split()[1].endswith("-v6") else 4
        match = _ACL_ENTRY.search(line)
        if match is None or " remark " in f" {line} ":
            continue
        words = match.group(3).split()
        source, destination = _acl_address(words, wildcard), _acl_address(words, wildcard)
        port = None
        if words[:1] == ["eq"]:
            port = _PORT_NAMES.get(words[1]) or int(words[1])
        entries.append(AclEntry(match.group(1), match.group(2), source, destination, port, version))
    return entries


def _verdict(entries: list[AclEntry], source: str, destination: str, port: int) -> str:
    """First match of a TCP packet in ``entries`` (the other family's ACLs skipped)."""
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
    for entry in entries:
        if (
            entry.version != src.version
            or entry.protocol != "tcp"
            or entry.port not in (None, port)
        ):
            continue
        if any(
            net is not None and (net.version != addr.version or addr not in net)
            for net, addr in ((entry.source, src), (entry.destination, dst))
        ):
            continue
        return entry.action
    return "deny"


#: (source, destination, port) -> first-match verdict, on the three-zone site.
ACL_PROBES = {
    ("203.0.113.5", "10.62.0.11", 443): "permit",  # the Internet enrols
    ("10.61.0.5", "10.62.0.11", 443): "deny",  # the LAN does not
    ("10.62.0.11", "203.0.113.5", 443): "permit",  # XenMobile to the SMS relay
    ("10.62.0.11", "10.61.0.5", 443): "deny",  # not to the LAN
    ("2001:db8:ffff::5", "fd00:62::11", 443): "permit",
    ("fd00:61::5", "fd00:62::11", 443): "deny",
    ("fd00:62::11", "2001:db8:ffff::5", 443): "permit",
    ("fd00:62::11", "fd00:61::5", 443): "deny",
}


@pytest.mark.parametrize("target", ACL_TARGETS)
def test_acls_deny_the_other_zones_right_before_the_permit(plan: Plan, target: str) -> None:
    out = generate(plan, FW, target)
    assert not out.errors
    # the SMS relay is any Internet address by the site's choice: said, and nothing else
    assert [f.flow for f in out.findings if f.severity == "info"] == ["XM-DEV-03.1"]
    entries = _acl_entries(out.text, target)
    assert {probe: _verdict(entries, *probe) for probe in ACL_PROBES} == ACL_PROBES
    # compact: one deny per other zone's network and destination, 'any' in the permit
    assert "0.0.0.0/5" not in out.text and "7.255.255.255" not in out.text
    lines = out.text.splitlines()
    deny = next(i for i, x in enumerate(lines) if x.endswith("remark xm-app-10-1-v4-not-internal"))
    permit = next(i for i, x in enumerate(lines) if x.endswith("remark xm-app-10-1-v4"))
    assert deny < permit
    assert lines[deny + 1].endswith(
        "remark excludes the site's internal zones from the Internet-only flow"
    ) or lines[deny + 1].endswith("Internet-only flow XM-APP-10.1")
    assert all(" permit " not in f" {x} " for x in lines[deny:permit])


@pytest.mark.parametrize("target", ACL_TARGETS)
def test_a_missing_or_misplaced_deny_term_is_an_error(plan: Plan, target: str) -> None:
    from flowmatrix.rules.coverage import check_vendor
    from flowmatrix.rules.vendors import VENDOR_TARGETS, build_policy, run_aerleon

    vendor = VENDOR_TARGETS[target]
    policy = build_policy(select(plan, FW), vendor)
    text, _ = run_aerleon(policy, target)
    assert check_vendor(text, vendor, policy.terms) == []
    blocks = text.split("\n\n\n")
    at = next(i for i, b in enumerate(blocks) if "remark xm-app-10-1-v4-not-internal" in b)
    # the deny term gone: the LAN would be let in
    missing = "\n\n\n".join(blocks[:at] + blocks[at + 1 :])
    errors = check_vendor(missing, vendor, policy.terms)
    assert [
        (e.flow, "deny term xm-app-10-1-v4-not-internal missing" in e.message) for e in errors
    ] == [("XM-APP-10.1", True)]
    # after its permit term: too late for first match
    swapped = [*blocks[:at], blocks[at + 1], blocks[at], *blocks[at + 2 :]]
    errors = check_vendor("\n\n\n".join(swapped), vendor, policy.terms)
    assert [(e.flow, "not right before its permit term" in e.message) for e in errors] == [
        ("XM-APP-10.1", True)
    ]
    # its entries turned into permits: no longer a deny term
    permitting = "\n\n\n".join(
        [*blocks[:at], blocks[at].replace(" deny ", " permit "), *blocks[at + 1 :]]
    )
    assert [e.flow for e in check_vendor(permitting, vendor, policy.terms)] == ["XM-APP-10.1"]


@pytest.mark.parametrize("target", ACL_TARGETS)
def test_acls_exclude_the_other_zones_on_both_ends(plan: Plan, target: str) -> None:
    """Both ends the Internet's 'any': one deny term per end, then the permit, after the
    pairs with one Internet end (whose permits the second deny would otherwise take)."""
    flow = plan.flow("XM-APP-10.1")
    both_any = replace(plan, flows=(replace(flow, destination=flow.source), flow))
    out = generate(both_any, FW, target)
    assert not out.errors
    entries = _acl_entries(out.text, target)
    probes = {
        ("203.0.113.5", "198.51.100.7", 443): "permit",
        ("10.61.0.5", "198.51.100.7", 443): "deny",
        ("203.0.113.5", "10.61.0.5", 443): "deny",
        ("203.0.113.5", "10.62.0.11", 443): "permit",  # the enrolment, written after
        ("10.61.0.5", "10.62.0.11", 443): "deny",
        ("2001:db8:ffff::5", "2001:db8:1::7", 443): "permit",
        ("fd00:61::5", "2001:db8:1::7", 443): "deny",
        ("2001:db8:ffff::5", "fd00:61::5", 443): "deny",
        ("2001:db8:ffff::5", "fd00:62::11", 443): "permit",
    }
    assert {probe: _verdict(entries, *probe) for probe in probes} == probes
    names = [x.split(" remark ")[1] for x in out.text.splitlines() if " remark xm-" in x]
    v6 = names[names.index("xm-app-10-1-v6-xm-app-10-1-not-internal") :]
    assert v6 == [
        "xm-app-10-1-v6-xm-app-10-1-not-internal",
        "xm-app-10-1-v6-xm-app-10-1",
        "xm-app-10-1-v6-not-internal-src",
        "xm-app-10-1-v6-not-internal-dst",
        "xm-app-10-1-v6",
    ]
    if target == "ciscoasa":  # an ASA's 'any' is both families: the permit says which
        assert "access-list fw-v6 extended permit tcp ::/0 ::/0 eq https" in out.text


def _plan_with_lan_admin(tmp_path: Path) -> Plan:
    """The three-zone site plus a LAN host that a site flow lets reach XenMobile on 443,
    the port only the Internet may use otherwise: the site flow comes after the
    Internet-only flows in the plan."""
    text = Path(SITE).read_text(encoding="utf-8")
    text = text.replace(
        "\nfeatures:",
        "  - name: admin\n    role: admin-browser\n"
        '    addresses: [10.61.0.5, "fd00:61::5"]\n\nfeatures:',
    )
    text += (
        "\nflows:\n  - name: admin-https\n    source: admin\n    destination: xms\n"
        "    protocols: [tcp]\n    ports: [443]\n    description: the LAN's administrator\n"
    )
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return load_plan(str(path))


@pytest.mark.parametrize("target", ACL_TARGETS)
def test_an_internal_flow_to_the_same_port_is_not_denied(tmp_path: Path, target: str) -> None:
    """A deny term written in plan order would come before the LAN's own permit and take
    its packets: the deny + permit pairs come after every other term of the ACL."""
    plan = _plan_with_lan_admin(tmp_path)
    ids = [f.id for f in plan.flows]
    admin = next(f.id for f in plan.flows if f.source.role == "admin-browser")
    assert ids.index("XM-APP-10.1") < ids.index(admin)
    out = generate(plan, FW, target)
    assert not out.errors
    entries = _acl_entries(out.text, target)
    for family, other_lan in ((0, "10.61.0.6"), (1, "fd00:61::6")):
        admin_ip = ADDRESSES["lan"][family]
        internet, xms = ADDRESSES["internet"][family], ADDRESSES["servers"][family]
        assert _verdict(entries, admin_ip, xms, 443) == "permit"
        assert _verdict(entries, other_lan, xms, 443) == "deny"
        assert _verdict(entries, internet, xms, 443) == "permit"
    lines = out.text.splitlines()
    admin_term = next(i for i, x in enumerate(lines) if x.endswith(f"remark {label(admin, 40)}-v4"))
    deny = next(i for i, x in enumerate(lines) if x.endswith("remark xm-app-10-1-v4-not-internal"))
    assert admin_term < deny


def test_an_end_outside_the_other_zones_keeps_the_complement(plan: Plan) -> None:
    """The enrolment's destination given an IPv4 address in no other zone (a public
    address, say): a deny term for the other zones would not cover the destination, so
    the deny of one pair could take packets that another pair permits. That term keeps
    aerleon's complement (plain permits, exact in any order) and a finding says so; its
    IPv6 term keeps the pair."""
    from flowmatrix.rules.coverage import check_vendor
    from flowmatrix.rules.vendors import VENDOR_TARGETS, render

    selection = select(plan, FW)
    public = (ipaddress.IPv4Network("198.51.100.11/32"),)
    specs = tuple(
        replace(s, destination=replace(s.destination, v4=public))
        if s.flow.id == "XM-APP-10.1"
        else s
        for s in selection.specs
    )
    vendor = VENDOR_TARGETS["cisco"]
    text, policy, notes = render(replace(selection, specs=specs), vendor)
    assert check_vendor(text, vendor, policy.terms) == []
    assert " permit tcp 0.0.0.0 7.255.255.255 host 198.51.100.11 eq 443" in text
    assert "remark xm-app-10-1-v4-not-internal" not in text
    assert "remark xm-app-10-1-v6-not-internal" in text
    assert "remark xm-dev-03-1-v4-not-internal" in text
    complement = [f for f in notes if "keep the complement" in f.message]
    assert len(complement) == 1 and complement[0].severity == "info"
    assert complement[0].message.startswith("1 flows ")


def test_kubernetes_splits_only_the_terms_it_excludes_in(plan: Plan) -> None:
    """aerleon cannot exclude IPv4 and IPv6 networks in one ipBlock list: a term whose
    written end excludes networks gets one policy per family; an Internet destination is
    not written in an ingress policy, so the SMS relay flow stays one policy."""
    from ruamel.yaml import YAML

    document = YAML(typ="safe").load(generate(plan, FW, "k8s").text)
    names = [item["metadata"]["name"] for item in document["items"]]
    assert "xm-app-10-1-v4" in names and "xm-app-10-1-v6" in names
    assert "xm-dev-03-1" in names and "xm-dev-03-1-v4" not in names
    v6 = next(i for i in document["items"] if i["metadata"]["name"] == "xm-app-10-1-v6")
    block = v6["spec"]["ingress"][0]["from"][0]["ipBlock"]
    assert block == {"cidr": "::/0", "except": ["fd00:61::/64", "fd00:62::/64"]}


@pytest.mark.parametrize("target", ["paloalto", "windows_advfirewall"])
def test_targets_without_exclusions_say_so(plan: Plan, target: str) -> None:
    scope = Scope("host", "xms") if target == "windows_advfirewall" else FW
    out = generate(plan, scope, target)
    assert not out.errors
    notes = [f for f in out.findings if "written as any address" in f.message]
    assert len(notes) == 1 and notes[0].severity == "info"


# --- real packets --------------------------------------------------------------------------


@dataclass
class Router:
    """Namespaces ``internet``, ``lan`` and ``servers``, each joined to the ``fw`` router
    by a veth (fw: e-internet, e-lan, e-servers), with listeners on 80 and 443."""

    made: NamespaceSet
    zones: dict[str, Namespace] = field(default_factory=dict)
    fw: Namespace | None = None
    sockets: list[socket.socket] = field(default_factory=list)

    def build(self) -> None:
        self.fw = self.made.add("fw", forwarding=True)
        for index, (zone, (v4, v6)) in enumerate(ADDRESSES.items()):
            ns = self.made.add(f"z{index}")
            self.zones[zone] = ns
            link = f"e-{zone}"
            self.made.link(self.fw, link, ns, "eth0")
            net4 = ipaddress.ip_interface(f"{v4}/24").network
            net6 = ipaddress.ip_interface(f"{v6}/64").network
            gateway4, gateway6 = str(net4.network_address + 1), str(net6.network_address + 1)
            self.fw.ip("addr", "add", f"{gateway4}/24", "dev", link)
            self.fw.ip("addr", "add", f"{gateway6}/64", "dev", link, "nodad")
            ns.ip("addr", "add", f"{v4}/24", "dev", "eth0")
            ns.ip("addr", "add", f"{v6}/64", "dev", "eth0", "nodad")
            ns.ip("route", "add", "default", "via", gateway4)
            ns.ip("-6", "route", "add", "default", "via", gateway6)
            for port in (80, 443):
                self.sockets.extend(run_in_netns(ns.name, lambda p=port: _listeners(p)))

    def load(self, target: str, text: str) -> None:
        assert self.fw is not None
        tool = {"nftables": ["nft", "-f", "-"], "iptables": ["iptables-restore"]}
        tool["ip6tables"] = ["ip6tables-restore"]
        self.fw.run(tool[target], input_text=text)

    def reach(self, *probes: tuple[str, str, int]) -> list[str]:
        """'open' or 'dropped' for each (source zone, destination zone, port) probe, over
        IPv4 then IPv6: all of them at once, so the dropped ones wait one timeout."""
        jobs = [
            (self.zones[src].name, ADDRESSES[dst][family], port)
            for family in (0, 1)
            for src, dst, port in probes
        ]
        with ThreadPoolExecutor(len(jobs)) as pool:
            return list(
                pool.map(lambda job: run_in_netns(job[0], lambda: connect(*job[1:], TIMEOUT)), jobs)
            )

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


def _listeners(port: int) -> list[socket.socket]:
    found = []
    for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        sock = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(16)
        found.append(sock)
    return found


@pytest.fixture
def router() -> Iterator[Router]:
    with NamespaceSet() as made:
        built = Router(made)
        try:
            built.build()
            yield built
        finally:
            built.close()


#: (source zone, destination zone, port) -> expected, for both families.
PROBES = {
    ("internet", "servers", 443): "open",  # planned: enrolment from the Internet
    ("lan", "servers", 443): "dropped",  # only the Internet may enrol
    ("servers", "internet", 443): "open",  # planned: XenMobile to the SMS relay
    ("servers", "lan", 443): "dropped",  # the relay is on the Internet, not in the LAN
}


def _expected() -> list[str]:
    return list(PROBES.values()) * 2


@pytest.mark.kernel
def test_nftables_drops_an_internal_zone_and_lets_the_internet_in(
    plan: Plan, router: Router
) -> None:
    text = generate(plan, FW, "nftables").text
    assert validate("nftables", text) is None
    router.load("nftables", text)
    assert router.reach(*PROBES) == _expected()
    # without the exclusion, the LAN would get in: the probe sees the difference
    loose = text.replace("saddr != @zone_not_internet_v4 ", "saddr 0.0.0.0/0 ").replace(
        "saddr != @zone_not_internet_v6 ", "saddr ::/0 "
    )
    router.load("nftables", loose)
    assert router.reach(("lan", "servers", 443)) == ["open", "open"]


@pytest.mark.kernel
def test_iptables_drops_an_internal_zone_and_lets_the_internet_in(
    plan: Plan, router: Router
) -> None:
    v4 = generate(plan, FW, "iptables").text
    v6 = generate(plan, FW, "ip6tables").text
    assert validate("iptables", v4) is None and validate("ip6tables", v6) is None
    router.load("iptables", v4)
    router.load("ip6tables", v6)
    assert router.reach(*PROBES) == _expected()
    # loading again replaces the table, exclusion chains included
    router.load("iptables", v4)
    assert router.reach(("lan", "servers", 443)) == ["dropped", "dropped"]
    router.load("iptables", v4.replace("-j FLOWMATRIX-FW-INET-SRC", "-j ACCEPT"))
    assert router.reach(("lan", "servers", 443))[0] == "open"
