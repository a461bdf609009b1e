"""A flow whose packets an earlier accept rule already takes joins that rule's comment.

enterprise-dual-stack's edge has XM-DEV-02.2 (web proxy -> any Internet address,
tcp/80,443) and later XM-ADD-02.2 (the same ends, tcp/443): a rule of its own would be
shadowed. It is rendered by XM-DEV-02.2's rule, and every check still counts it.
"""

from __future__ import annotations

import re

import pytest

from flowmatrix.model import Plan
from flowmatrix.rules import Scope, generate
from flowmatrix.rules.coverage import check_iptables, check_nftables
from flowmatrix.rules.grouping import MergedChain
from flowmatrix.rules.iptables import chain_names
from flowmatrix.rules.nftables import COMMENT_LIMIT
from flowmatrix.rules.select import select
from flowmatrix.rules.vendors import VENDOR_TARGETS, build_policy

COVERED, COVERING = "XM-ADD-02.2", "XM-DEV-02.2"
COMMENT = re.compile(r'comment "([^"]*)"')


def _ids(line: str) -> list[str]:
    found = COMMENT.search(line)
    assert found is not None, line
    return found.group(1).partition(":")[0].split()


def _rules(text: str) -> list[str]:
    """The rules of an nft script or a restore file: the lines with a comment."""
    return [
        line
        for line in text.splitlines()
        if ("ct state new accept" in line or line.startswith("-A ")) and COMMENT.search(line)
    ]


@pytest.mark.parametrize(("target", "rules"), [("nftables", 2), ("iptables", 1), ("ip6tables", 1)])
def test_a_flow_within_an_earlier_rule_joins_its_comment(
    dual_plan: Plan, target: str, rules: int
) -> None:
    out = generate(dual_plan, Scope("firewall", "edge"), target)
    lines = _rules(out.text)
    carrying = [line for line in lines if COVERED in _ids(line)]
    # no rule of its own: only the earlier rule (one per family) carries it
    assert len(carrying) == rules
    assert all(_ids(line) == [COVERING, COVERED] for line in carrying)
    if target == "nftables":
        assert all("tcp dport @ports_80_443" in line for line in carrying)
        comments = [found.group(1) for x in lines if (found := COMMENT.search(x))]
        assert all(len(text.encode()) <= COMMENT_LIMIT for text in comments)
    else:
        assert all("--dports 80,443" in line for line in carrying)
    # the read-back and the summary count it as rendered
    assert not out.errors
    assert out.counts.rendered == 11 and out.counts.missing == 0
    assert out.rules == len(lines)


def test_the_read_back_finds_the_flow_only_through_the_shared_comment(dual_plan: Plan) -> None:
    specs = select(dual_plan, Scope("firewall", "edge")).specs
    nft = generate(dual_plan, Scope("firewall", "edge"), "nftables").text
    assert check_nftables(nft, specs) == []
    without = nft.replace(f"{COVERING} {COVERED}:", f"{COVERING}:")
    missing = check_nftables(without, specs)
    assert sorted((f.flow, f.message) for f in missing) == [
        (COVERED, "IPv4 rule missing from the nftables output (forward)"),
        (COVERED, "IPv6 rule missing from the nftables output (forward)"),
    ]
    ipt = generate(dual_plan, Scope("firewall", "edge"), "iptables").text
    chains = chain_names(Scope("firewall", "edge"))
    assert check_iptables(ipt, specs, 4, chains) == []
    without = ipt.replace(f"{COVERING} {COVERED}:", f"{COVERING}:")
    assert [f.flow for f in check_iptables(without, specs, 4, chains)] == [COVERED]


def _chain(*rules: tuple[str, str, str, tuple[tuple[int, int], ...]]) -> list[str]:
    chain = MergedChain()
    for flow, ends, match, ports in rules:
        chain.add_rule(f"{ends} {match}", flow, "d", ends=ends, ports=ports)
    return chain.lines(lambda match, text: f"{match} # {text}")


def test_subset_ports_join_the_earlier_rule_of_the_same_ends() -> None:
    assert _chain(
        ("A", "src dst tcp", "dport 1000-3000", ((1000, 3000),)),
        ("B", "src dst tcp", "dport 1500-2000", ((1500, 2000),)),
        ("C", "src dst tcp", "dport 80", ((80, 80),)),
    ) == ["src dst tcp dport 1000-3000 # A B: d", "src dst tcp dport 80 # C: d"]


def test_wider_ports_other_ends_or_other_protocol_keep_their_own_rule() -> None:
    lines = _chain(
        ("A", "src dst tcp", "dport 443", ((443, 443),)),
        ("B", "src dst tcp", "dport @p", ((80, 80), (443, 443))),
        ("C", "src other tcp", "dport 443", ((443, 443),)),
        ("D", "src dst udp", "dport 443", ((443, 443),)),
        ("E", "src dst tcp", "dport 443-444", ((443, 444),)),
    )
    assert [line.split(" # ")[1] for line in lines] == ["A: d", "B: d", "C: d", "D: d", "E: d"]


def test_a_full_comment_starts_another_rule() -> None:
    ids = [f"XM-LONG-FLOW-{n:02d}.1" for n in range(8)]
    lines = _chain(*((i, "src dst tcp", "dport 80-90", ((80, 90),)) for i in ids))
    assert len(lines) == 2
    assert all(len(line.split(" # ")[1].partition(":")[0]) <= 90 for line in lines)


@pytest.mark.parametrize("target", ["srx", "fortigate", "ciscoasa", "paloalto"])
def test_an_aerleon_term_serves_the_later_flows_within_it(dual_plan: Plan, target: str) -> None:
    out = generate(dual_plan, Scope("firewall", "edge"), target)
    assert not out.errors and out.counts.rendered == 11
    assert "xm-add-02-2" not in out.text.lower()
    assert f"{COVERING} {COVERED}:" in out.text
    # the coverage check expects the flow in the earlier flow's term
    policy = build_policy(select(dual_plan, Scope("firewall", "edge")), VENDOR_TARGETS[target])
    names = {term.flow: term.name for term in policy.terms if term.action == "accept"}
    assert names[COVERED] == names[COVERING]
