"""Address translations in the Linux outputs: the nat chains of the nftables table and
the nat table of the iptables-restore files, for the hospital example's edge and a
dual-stack site; and the kernel loading them."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from flowmatrix.api import load_plan
from flowmatrix.model import Plan
from flowmatrix.netns import Namespace
from flowmatrix.portset import PortSet
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.text import clean_text
from flowmatrix.rules.validate import validate
from rules.nat_sites import HOSPITAL, dual_stack_nat_site

EDGE = Scope("firewall", "edge")


@pytest.fixture(scope="module")
def hospital() -> Plan:
    return load_plan(HOSPITAL)


@pytest.fixture(scope="module")
def dual(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return load_plan(str(dual_stack_nat_site(tmp_path_factory.mktemp("nat"))))


@pytest.fixture(scope="module")
def dual_without_interfaces(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    folder = tmp_path_factory.mktemp("nat-no-if")
    return load_plan(str(dual_stack_nat_site(folder, interfaces=False)))


def _text(plan: Plan, kind: str, subject: str) -> str:
    """The comment naming the plan's translation of ``subject``."""
    nat = next(n for n in plan.nat if n.kind == kind and n.subject == subject)
    return clean_text(nat.describe())


def _chain(text: str, name: str) -> list[str]:
    """The lines of nft chain ``name``, without their indentation."""
    lines = text.splitlines()
    start = lines.index(f"\tchain {name} {{")
    end = lines.index("\t}", start)
    return [line.strip() for line in lines[start + 1 : end]]


def _nat_table(text: str) -> list[str]:
    """The lines of the ``*nat`` table of an iptables-restore file."""
    lines = text.splitlines()
    start = lines.index("*nat")
    return lines[start : lines.index("COMMIT", start) + 1]


def test_nftables_publishes_the_gateway_and_translates_the_zones(hospital: Plan) -> None:
    text = generate(hospital, EDGE, "nftables").text
    published = _text(hospital, "destination", "adc1")
    assert _chain(text, "prerouting") == [
        "type nat hook prerouting priority dstnat; policy accept;",
        'iifname "eth0" ip daddr 203.0.113.40 meta l4proto { tcp, udp } th dport { 443, 8443 } '
        f'dnat ip to 172.30.10.10 comment "{published}"',
    ]
    servers, wifi = _text(hospital, "source", "servers"), _text(hospital, "source", "wifi")
    assert _chain(text, "postrouting") == [
        "type nat hook postrouting priority srcnat; policy accept;",
        f'oifname "eth0" ip saddr 10.31.8.0/23 snat ip to 203.0.113.41 comment "{servers}"',
        f'oifname "eth0" ip saddr 10.60.0.0/16 masquerade comment "{wifi}"',
    ]
    assert re.search(r"^# \d+ flows, \d+ rules, 3 address translations\. Load", text, re.M)
    # the forward filter runs after the destination NAT and before the source NAT
    forward = _chain(text, "forward")
    assert any("ip daddr @netscaler_gateway_dmz_vip_v4 tcp dport 443" in x for x in forward)
    assert any("ip saddr @devices_lan_wifi_v4" in x for x in forward)
    assert text.count("table inet flowmatrix_edge {") == 2  # one table: filter and nat


def test_iptables_writes_the_nat_table_of_each_family(hospital: Plan) -> None:
    published = _text(hospital, "destination", "adc1")
    servers, wifi = _text(hospital, "source", "servers"), _text(hospital, "source", "wifi")
    declared = [":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    declared.append(":POSTROUTING ACCEPT [0:0]")
    v4 = generate(hospital, EDGE, "iptables").text
    assert _nat_table(v4) == [
        "*nat",
        *declared,
        *(
            f"-A PREROUTING -i eth0 -d 203.0.113.40/32 -p {proto} -m multiport --dports 443,8443 "
            f'-m comment --comment "{published}" -j DNAT --to-destination 172.30.10.10'
            for proto in ("tcp", "udp")
        ),
        f'-A POSTROUTING -o eth0 -s 10.31.8.0/23 -m comment --comment "{servers}" '
        "-j SNAT --to-source 203.0.113.41",
        f'-A POSTROUTING -o eth0 -s 10.60.0.0/16 -m comment --comment "{wifi}" -j MASQUERADE',
        "COMMIT",
    ]
    assert v4.index("*filter") < v4.index("*nat")
    assert "# it replaces the filter and nat tables in one commit" in v4
    assert re.search(r"^# \d+ flows, \d+ rules, 3 address translations\. Load", v4, re.M)
    # no IPv6 translation: the IPv6 nat table is written empty, so a reload clears it
    v6 = generate(hospital, EDGE, "ip6tables").text
    assert _nat_table(v6) == ["*nat", *declared, "COMMIT"]
    assert re.search(r"^# \d+ flows, \d+ rules, 0 address translations\. Load", v6, re.M)


def test_dual_stack_translations_in_both_families(dual: Plan) -> None:
    text = generate(dual, EDGE, "nftables").text
    vip4 = next(n for n in dual.nat if n.public == "198.51.100.10").describe()
    vip6 = next(n for n in dual.nat if n.public == "2001:db8:20::10").describe()
    nsip = next(n for n in dual.nat if n.public == "198.51.100.5").describe()
    ports = "meta l4proto { tcp, udp } th dport { 443, 8443 }"
    assert _chain(text, "prerouting")[1:] == [
        f'iifname "wan0" ip daddr 198.51.100.10 {ports} dnat ip to 172.20.1.10 comment '
        f'"{clean_text(vip4)}"',
        f'iifname "wan0" ip6 daddr 2001:db8:20::10 {ports} dnat ip6 to fd00:20:1::10 comment '
        f'"{clean_text(vip6)}"',
        # published on every port: every packet to the address
        f'iifname "wan0" ip daddr 198.51.100.5 dnat ip to 172.20.1.5 comment "{clean_text(nsip)}"',
    ]
    xms1, core = _text(dual, "source", "xms1"), _text(dual, "source", "core")
    # the site lists the zone first; the host's translation is the more specific: first
    assert _chain(text, "postrouting")[1:] == [
        f'oifname "wan0" ip saddr 10.20.1.11 snat ip to 198.51.100.11 comment "{xms1}"',
        f'oifname "wan0" ip saddr 10.20.0.0/16 masquerade comment "{core}"',
        f'oifname "wan0" ip6 saddr fd00:20:2::/64 masquerade comment "{core}"',
    ]
    v6 = _nat_table(generate(dual, EDGE, "ip6tables").text)
    assert v6[5:-1] == [
        *(
            f"-A PREROUTING -i wan0 -d 2001:db8:20::10/128 -p {proto} -m multiport --dports "
            f'443,8443 -m comment --comment "{clean_text(vip6)}" -j DNAT --to-destination '
            "fd00:20:1::10"
            for proto in ("tcp", "udp")
        ),
        f'-A POSTROUTING -o wan0 -s fd00:20:2::/64 -m comment --comment "{core}" -j MASQUERADE',
    ]
    v4 = _nat_table(generate(dual, EDGE, "iptables").text)
    assert (
        f'-A PREROUTING -i wan0 -d 198.51.100.5/32 -m comment --comment "{clean_text(nsip)}" '
        "-j DNAT --to-destination 172.20.1.5"
    ) in v4
    sources = [x for x in v4 if x.startswith("-A POSTROUTING")]
    assert [x.split(" -m comment")[0] for x in sources] == [
        "-A POSTROUTING -o wan0 -s 10.20.1.11/32",
        "-A POSTROUTING -o wan0 -s 10.20.0.0/16",
    ]
    assert sources[0].endswith("-j SNAT --to-source 198.51.100.11")


def test_one_published_port_is_one_match(hospital: Plan) -> None:
    one = tuple(
        replace(n, ports=PortSet.of((443,))) if n.kind == "destination" else n for n in hospital.nat
    )
    plan = replace(hospital, nat=one)
    prerouting = _chain(generate(plan, EDGE, "nftables").text, "prerouting")
    assert "ip daddr 203.0.113.40 meta l4proto { tcp, udp } th dport 443 dnat" in prerouting[1]
    rules = [x for x in _nat_table(generate(plan, EDGE, "iptables").text) if "DNAT" in x]
    assert [x.split(" -m comment")[0] for x in rules] == [
        "-A PREROUTING -i eth0 -d 203.0.113.40/32 -p tcp -m tcp --dport 443",
        "-A PREROUTING -i eth0 -d 203.0.113.40/32 -p udp -m udp --dport 443",
    ]


def test_without_the_outside_interface_addresses_alone_match(
    dual_without_interfaces: Plan,
) -> None:
    out = generate(dual_without_interfaces, EDGE, "nftables")
    note = (
        "# no interface on the outside (internet) in the site: these translations match "
        "addresses only, on every interface"
    )
    for chain in ("prerouting", "postrouting"):
        lines = _chain(out.text, chain)
        assert lines[1] == note
        assert not any("ifname" in x for x in lines)
    assert _chain(out.text, "prerouting")[2].startswith("ip daddr 198.51.100.10 meta l4proto")
    assert [str(f) for f in out.warnings if "no interface of edge" in f.message] == [
        "warning: no interface of edge on its outside zone internet: the nftables and "
        "iptables address translations match addresses only, on every interface (hint: "
        "give interfaces: {internet: NAME})"
    ]
    table = _nat_table(generate(dual_without_interfaces, EDGE, "iptables").text)
    assert note in table
    assert not any(" -i " in x or " -o " in x for x in table)


def test_a_translation_no_rule_can_express_is_said_so(hospital: Plan) -> None:
    """A source translation to an IPv4 address of a host with IPv6 addresses only."""
    broken = tuple(
        replace(n, private=("fd00:31::11",)) if n.subject == "servers" else n for n in hospital.nat
    )
    plan = replace(hospital, nat=broken)
    text = generate(plan, EDGE, "nftables").text
    line = f"# {_text(plan, 'source', 'servers')}: not rendered: servers has no IPv4 address"
    assert f"{line} to match" in text.splitlines()
    assert re.search(r"^# \d+ flows, \d+ rules, 2 address translations\. Load", text, re.M)
    assert "203.0.113.41" not in "\n".join(_chain(text, "postrouting"))
    assert f"{line} to match" in generate(plan, EDGE, "iptables").text.splitlines()


def test_a_site_without_translations_has_no_nat(hospital: Plan) -> None:
    plan = load_plan(None)
    for scope in (Scope("firewall", "fw-back"), Scope("host", "xms1")):
        text = generate(plan, scope, "nftables").text
        assert "type nat" not in text and "address translations" not in text
        assert re.search(r"^# \d+ flows, \d+ rules\. Load with 'nft -f FILE'", text, re.M)
        ipt = generate(plan, scope, "iptables").text
        assert "*nat" not in ipt and "# table in one commit;" in ipt
    # a host of a site with translations: its own policy, no nat
    host = generate(hospital, Scope("host", "adc1"), "nftables").text
    assert "type nat" not in host
    assert "*nat" not in generate(hospital, Scope("host", "adc1"), "iptables").text


@pytest.mark.kernel
def test_nft_accepts_the_translations(
    hospital: Plan, dual: Plan, dual_without_interfaces: Plan
) -> None:
    for plan in (hospital, dual, dual_without_interfaces):
        text = generate(plan, EDGE, "nftables").text
        assert "type nat hook prerouting" in text and "type nat hook postrouting" in text
        assert validate("nftables", text) is None


@pytest.mark.kernel
@pytest.mark.parametrize("target", ["iptables", "ip6tables"])
def test_restore_test_accepts_the_translations(
    hospital: Plan, dual: Plan, dual_without_interfaces: Plan, target: str
) -> None:
    for plan in (hospital, dual, dual_without_interfaces):
        out = generate(plan, EDGE, target)
        assert "\n*nat\n" in out.text
        assert validate(target, out.text, out.side_files["ipset"]) is None


@pytest.mark.kernel
def test_nft_loads_the_nat_chains(dual: Plan, namespace: Namespace) -> None:
    text = generate(dual, EDGE, "nftables").text
    namespace.run(["nft", "-f", "-"], input_text=text)
    first = namespace.run(["nft", "list", "ruleset"]).stdout
    namespace.run(["nft", "-f", "-"], input_text=text)
    assert namespace.run(["nft", "list", "ruleset"]).stdout == first
    listed = namespace.run(["nft", "list", "chain", "inet", "flowmatrix_edge", "postrouting"])
    assert "type nat hook postrouting priority srcnat; policy accept;" in listed.stdout
    assert 'ip6 saddr fd00:20:2::/64 masquerade comment "' in listed.stdout
    prerouting = namespace.run(["nft", "list", "chain", "inet", "flowmatrix_edge", "prerouting"])
    assert "dnat ip6 to fd00:20:1::10" in prerouting.stdout


@pytest.mark.kernel
@pytest.mark.parametrize(("target", "tool"), [("iptables", "iptables"), ("ip6tables", "ip6tables")])
def test_restore_loads_the_nat_table(
    dual: Plan, namespace: Namespace, target: str, tool: str
) -> None:
    out = generate(dual, EDGE, target)
    text = out.text
    namespace.run(["ipset", "restore", "-exist"], input_text=out.side_files["ipset"])
    namespace.run([f"{tool}-restore"], input_text=text)
    first = namespace.run([f"{tool}-save", "-t", "nat"]).stdout
    namespace.run([f"{tool}-restore"], input_text=text)
    second = namespace.run([f"{tool}-save", "-t", "nat"]).stdout

    def body(dump: str) -> list[str]:
        return [x for x in dump.splitlines() if not x.startswith("#")]

    assert body(first) == body(second)
    saved = body(first)
    if target == "iptables":
        expected = "-A PREROUTING -d 198.51.100.10/32 -i wan0 -p tcp -m multiport --dports 443,8443"
        assert any(x.startswith(expected) and x.endswith("172.20.1.10") for x in saved), saved
        assert any(x.startswith("-A POSTROUTING -s 10.20.1.11/32 -o wan0") for x in saved)
    else:
        assert any(x.endswith("-j DNAT --to-destination fd00:20:1::10") for x in saved), saved
        assert any("-s fd00:20:2::/64 -o wan0" in x and "MASQUERADE" in x for x in saved)
