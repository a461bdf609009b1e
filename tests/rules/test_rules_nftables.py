"""nftables output: shape, sets, families, comments; and the kernel's opinion of it."""

from __future__ import annotations

import re

import pytest

from flowmatrix.model import Plan
from flowmatrix.netns import Namespace
from flowmatrix.portset import PortSet
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.validate import validate

RULE = re.compile(r"^\t\t.* accept comment \"([^\"]*)\"$")


def rule_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if RULE.match(line)]


def test_table_is_replaced_in_one_transaction(default_plan: Plan) -> None:
    text = generate(default_plan, Scope("firewall", "fw-back"), "nftables").text
    lines = text.splitlines()
    assert lines[0] == "#!/usr/sbin/nft -f"
    first = lines.index("table inet flowmatrix_fw_back {}")
    assert lines[first + 1] == "delete table inet flowmatrix_fw_back"
    assert "table inet flowmatrix_fw_back {" in lines


def test_forward_chain_is_stateful_with_drop_policy(default_plan: Plan) -> None:
    text = generate(default_plan, Scope("firewall", "fw-back"), "nftables").text
    chain = text[text.index("\tchain forward {") :]
    head = chain.splitlines()[1:4]
    assert head == [
        "\t\ttype filter hook forward priority filter; policy drop;",
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
    ]
    assert all("ct state new accept" in line for line in rule_lines(text))


def ids_of(line: str) -> list[str]:
    match = RULE.match(line)
    assert match is not None
    return match.group(1).split(":")[0].split()


def test_one_rule_per_match_with_the_flow_ids_and_named_sets(default_plan: Plan) -> None:
    out = generate(default_plan, Scope("firewall", "fw-back"), "nftables")
    lines = rule_lines(out.text)
    ids = [i for line in lines for i in ids_of(line)]
    # obsolete flows are not requested: left out, as comments
    renderable = [f.id for f in default_plan.flows_through("fw-back") if f.requested]
    assert len(renderable) == len(default_plan.flows_through("fw-back")) - 2
    assert "# XM-DEV-08.1: left out: obsolete: not requested" in out.text
    assert sorted(ids) == sorted(renderable)
    assert out.rules == len(lines) < len(ids)
    # two requirements asking for the same packets share one rule, never a shadowed copy
    assert ["XM-APP-10.1", "XM-DEV-06.1"] in [ids_of(x) for x in lines]
    matches = [x.split(" comment ")[0] for x in lines]
    assert len(matches) == len(set(matches))
    line = next(x for x in lines if "XM-APP-16.1" in ids_of(x))
    assert line.strip().startswith(
        'iifname "eth0" oifname "eth1" ip saddr @netscaler_gateway_dmz_snip_v4 '
        "ip daddr @xenapp_xendesktop_servers_v4 tcp dport 1494 ct state new accept"
    )
    assert "\tset xenmobile_servers_v4 {" in out.text
    assert "elements = { 10.10.20.11, 10.10.20.12 }" in out.text


def test_explicit_any_says_why_in_the_rule_and_the_findings(default_plan: Plan) -> None:
    out = generate(default_plan, Scope("firewall", "fw-front"), "nftables")
    line = next(x for x in rule_lines(out.text) if "XM-ADD-02.1" in ids_of(x))
    assert "ip saddr @xenmobile_servers_v4 ip daddr != @zone_not_internet_v4 tcp dport 443" in line
    assert 'comment "XM-ADD-02.1: any Internet address: Google publishes no fixed addresses' in line
    explicit = [f for f in out.findings if f.message.startswith("explicit any")]
    assert [f.flow for f in explicit] == ["XM-ADD-02.1", "XM-ADD-03.1"]
    assert "Firebase documentation" in explicit[0].message
    assert out.counts.explicit_any == 2 and not out.errors and not out.warnings


def test_dual_stack_gives_one_rule_per_family_never_a_duplicate(dual_plan: Plan) -> None:
    out = generate(dual_plan, Scope("firewall", "edge"), "nftables")
    lines = rule_lines(out.text)
    assert len(lines) == len(set(lines))
    enrol = [x for x in lines if "XM-APP-10.1" in ids_of(x)]
    assert len(enrol) == 2
    # the Internet source excludes the other zones, in the rule's own family
    v4 = "ip saddr != @zone_not_internet_v4 ip daddr @"
    v6 = "ip6 saddr != @zone_not_internet_v6 ip6 daddr @"
    assert sum(x.strip().startswith(v4) for x in enrol) == 1
    assert sum(x.strip().startswith(v6) for x in enrol) == 1
    assert "type ipv6_addr" in out.text
    # a flow whose ends only share IPv4 has only an IPv4 rule
    for flow in dual_plan.flows_through("edge"):
        rules = [x for x in lines if flow.id in ids_of(x)]
        assert len(rules) <= 2


def test_port_lists_use_named_interval_sets(hostile_plan: Plan) -> None:
    out = generate(hostile_plan, Scope("firewall", "fw"), "nftables")
    assert "\tset ports_8080_9090 {" in out.text
    assert "tcp dport @ports_8080_9090" in out.text
    assert "udp dport @ports_8080_9090" in out.text


def test_same_input_same_bytes(dual_plan: Plan) -> None:
    first = generate(dual_plan, Scope("firewall", "core-fw"), "nftables").text
    assert generate(dual_plan, Scope("firewall", "core-fw"), "nftables").text == first


def test_comments_fit_nft_limit(default_plan: Plan) -> None:
    for line in rule_lines(generate(default_plan, Scope("firewall", "fw-back"), "nftables").text):
        assert len(RULE.match(line).group(1).encode()) <= 128  # type: ignore[union-attr]


@pytest.mark.kernel
@pytest.mark.parametrize("example", ["default", "enterprise-dual-stack", "small-office"])
def test_nft_accepts_every_scope_of_the_examples(example: str) -> None:
    from flowmatrix.api import load_plan

    plan = load_plan(None if example == "default" else f"example:{example}")
    scopes = [Scope("firewall", f.name) for f in plan.site.firewalls]
    scopes += [Scope("host", h.name) for h in plan.site.hosts]
    for scope in scopes:
        out = generate(plan, scope, "nftables")
        assert validate("nftables", out.text) is None, scope


@pytest.mark.kernel
def test_nft_rejects_a_broken_script() -> None:
    problem = validate("nftables", "table inet x { chain y { ip saddr @missing accept } }\n")
    assert problem is not None and "missing" in problem


@pytest.mark.kernel
def test_loading_twice_gives_the_same_ruleset(dual_plan: Plan, namespace: Namespace) -> None:
    text = generate(dual_plan, Scope("firewall", "core-fw"), "nftables").text
    namespace.run(["nft", "-f", "-"], input_text=text)
    first = namespace.run(["nft", "list", "ruleset"]).stdout
    namespace.run(["nft", "-f", "-"], input_text=text)
    second = namespace.run(["nft", "list", "ruleset"]).stdout
    assert first == second
    assert first.count("table inet flowmatrix_core_fw") == 1
    loaded = [x for x in first.splitlines() if "ct state new accept comment" in x]
    assert len(loaded) == len(rule_lines(text))


def test_a_port_list_of_one_rule_is_written_per_range(default_plan: Plan) -> None:
    from dataclasses import replace

    flow = default_plan.flow("XM-APP-16.1")
    alone = replace(flow, ports=PortSet.of((1494, 2598, 5228, 5229, 5230)))
    plan = replace(default_plan, flows=(alone,))
    lines = rule_lines(generate(plan, Scope("firewall", "fw-back"), "nftables").text)
    assert [line.split(" tcp dport ")[1].split()[0] for line in lines] == [
        "1494",
        "2598",
        "5228-5230",
    ]
    assert all('comment "XM-APP-16.1: ' in line for line in lines)
    shared = replace(flow, id="XM-APP-16.2", ports=alone.ports, protocol="udp")
    plan = replace(default_plan, flows=(alone, shared))
    text = generate(plan, Scope("firewall", "fw-back"), "nftables").text
    assert "\tset ports_1494_2598_5228_5230 {" in text
    assert "elements = { 1494, 2598, 5228-5230 }" in text
    assert len(rule_lines(text)) == 2
