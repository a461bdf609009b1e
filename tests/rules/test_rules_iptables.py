"""iptables-restore output: the whole filter table, stateful, one file per family."""

from __future__ import annotations

import pytest

from flowmatrix.model import Plan
from flowmatrix.netns import Namespace
from flowmatrix.portset import PortSet
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.iptables import chain_name
from flowmatrix.rules.validate import validate


def accept_rules(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("-A FLOWMATRIX-")]


def test_forward_policy_drop_and_own_chain(default_plan: Plan) -> None:
    text = generate(default_plan, Scope("firewall", "fw-back"), "iptables").text
    lines = text.splitlines()
    start = lines.index("*filter")
    assert lines[start + 1 : start + 10] == [
        ":INPUT ACCEPT [0:0]",
        ":FORWARD DROP [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":FLOWMATRIX-FW-BACK - [0:0]",
        ":FLOWMATRIX-FW-BACK-INET-SRC - [0:0]",
        ":FLOWMATRIX-FW-BACK-INET-DST - [0:0]",
        "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A FORWARD -m conntrack --ctstate INVALID -j DROP",
        "-A FORWARD -j FLOWMATRIX-FW-BACK",
    ]
    assert lines[-1] == "COMMIT"
    rule = next(x for x in accept_rules(text) if "XM-APP-25.1" in x)
    assert rule.startswith(
        "-A FLOWMATRIX-FW-BACK -i eth2 -o eth1 -s 10.10.50.0/24 "
        "-d 10.10.20.11/32,10.10.20.12/32 -p tcp -m tcp --dport 4443 "
        '-m conntrack --ctstate NEW -m comment --comment "XM-APP-25.1: '
    )
    assert rule.endswith('" -j ACCEPT')


def test_host_policy_drops_everything_else(default_plan: Plan) -> None:
    text = generate(default_plan, Scope("host", "xms1"), "ip6tables").text
    assert ":INPUT DROP [0:0]" in text and ":OUTPUT DROP [0:0]" in text
    assert "-A INPUT -i lo -j ACCEPT" in text
    assert "--icmpv6-type neighbour-solicitation -j ACCEPT" in text


def test_families_go_to_their_own_file(dual_plan: Plan) -> None:
    v4 = generate(dual_plan, Scope("firewall", "core-fw"), "iptables")
    v6 = generate(dual_plan, Scope("firewall", "core-fw"), "ip6tables")
    assert all(
        ":" not in r.split(" -s ")[-1].split(" ")[0] for r in accept_rules(v4.text) if " -s " in r
    )
    assert any("fd00:" in r for r in accept_rules(v6.text))
    assert not v4.errors and not v6.errors
    # flows with IPv4 only are named in the IPv6 file's header and as a note
    assert any(f.severity == "info" for f in v6.findings)


def test_multiport_is_split_at_fifteen_entries(default_plan: Plan) -> None:
    from dataclasses import replace

    flow = default_plan.flow("XM-APP-16.1")
    many = replace(flow, ports=PortSet.of(range(1000, 1040, 2)))
    plan = replace(default_plan, flows=(many,))
    rules = accept_rules(generate(plan, Scope("firewall", "fw-back"), "iptables").text)
    assert len(rules) == 2
    assert rules[0].count(",") == 14 and "--dports 1000," in rules[0]


def test_long_names_are_cut_for_iptables() -> None:
    name = chain_name("a-very-long-firewall-name-for-a-chain")
    assert len(name) <= 28 and name.startswith("FLOWMATRIX-A-VERY")
    assert chain_name("xms1", "-OUT") == "FLOWMATRIX-XMS1-OUT"


@pytest.mark.kernel
@pytest.mark.parametrize("target", ["iptables", "ip6tables"])
def test_restore_test_accepts_every_scope(dual_plan: Plan, target: str) -> None:
    scopes = [Scope("firewall", f.name) for f in dual_plan.site.firewalls]
    scopes += [Scope("host", h.name) for h in dual_plan.site.hosts[:4]]
    for scope in scopes:
        out = generate(dual_plan, scope, target)
        # the name sets the rules match must exist first: the ipset file creates them
        assert validate(target, out.text, out.side_files["ipset"]) is None, scope


@pytest.mark.kernel
def test_loading_twice_gives_the_same_table(default_plan: Plan, namespace: Namespace) -> None:
    text = generate(default_plan, Scope("firewall", "fw-back"), "iptables").text
    namespace.run(["iptables-restore"], input_text=text)
    first = namespace.run(["iptables-save", "-t", "filter"]).stdout
    namespace.run(["iptables-restore"], input_text=text)
    second = namespace.run(["iptables-save", "-t", "filter"]).stdout

    def body(dump: str) -> list[str]:
        return [x for x in dump.splitlines() if not x.startswith("#")]

    assert body(first) == body(second)
    assert body(first).count("-A FORWARD -j FLOWMATRIX-FW-BACK") == 1
