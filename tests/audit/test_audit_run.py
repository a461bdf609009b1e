"""The audit of a site's firewall: verdicts, deciding rules, fixes, least privilege,
dead rules, undecided and partly blocked flows, interface maps, host rulesets."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.ipassmt import parse_ipassmt
from flowmatrix.audit.judging import audit_plan
from flowmatrix.audit.parse_iptables import parse_iptables
from flowmatrix.audit.result import AuditReport, FlowResult
from flowmatrix.errors import UserError

DATA = Path(__file__).parent / "data"
PLAN = load_plan(None)


def run(rules: str, **options: object) -> AuditReport:
    ruleset = parse_iptables(rules, "fw.rules")
    return audit_plan(
        PLAN,
        ruleset,
        firewall=options.pop("firewall", "fw-back"),  # type: ignore[arg-type]
        **options,
    )  # type: ignore[arg-type]


def flow(report: AuditReport, flow_id: str, port: int | None = None) -> FlowResult:
    return next(f for f in report.flows if f.flow_id == flow_id and port in (None, f.port))


@pytest.fixture(scope="module")
def back() -> AuditReport:
    return audit(None, ruleset=DATA / "back.rules", firewall="fw-back", plan=PLAN)


def test_verdicts_and_deciding_rules(back: AuditReport) -> None:
    ldap = flow(back, "XM-APP-06.1")
    assert ldap.status == "blocked" and ldap.is_finding
    (part,) = ldap.parts
    (fate,) = part.fates
    assert fate.decided_by is not None and fate.decided_by.line == 14
    assert fate.decision == "DROP by LOG_DROP#2"
    (step,) = [s for s in fate.request if s.end != "policy-accept"]
    assert [ref.label for ref in step.trace] == ["FORWARD#7", "LOG_DROP#2"]
    web = flow(back, "XM-APP-03.1")
    assert web.status == "allowed" and web.parts[0].fates[0].decided_by.line == 7  # type: ignore[union-attr]
    assert web.parts[0].fates[0].reply  # the reply was walked too


def test_obsolete_flows_are_not_findings(back: AuditReport) -> None:
    apns = flow(back, "XM-DEV-08.1")
    assert apns.status == "blocked" and not apns.required and not apns.is_finding


def test_fixes_go_before_the_jump_to_the_drop_chain(back: AuditReport) -> None:
    (fix,) = flow(back, "XM-APP-06.1").fixes
    assert fix.verified and fix.leg == "request"
    assert fix.command == (
        "iptables -I FORWARD 7 -s 172.16.10.5 -d 10.10.20.41 -i eth0 -o eth1 "
        "-p tcp -m tcp --dport 389 -m conntrack --ctstate NEW -j ACCEPT"
    )
    assert fix.placement.startswith("before FORWARD#7")


def test_least_privilege_and_dead_rules(back: AuditReport) -> None:
    wide = {w.rule.line: w for w in back.wide_rules}
    assert set(wide) == {7, 8, 9}
    assert wide[7].reasons == (
        "destination 10.10.20.0/24 (needed: 10.10.20.11, 10.10.20.12, 10.10.20.31, 10.10.20.61)",
    )
    assert "XM-APP-03.1/tcp/80" in wide[7].flows
    # line 10 (tcp/443 to 10.10.20.11) would carry XM-APP-10.1 but line 9 takes its
    # packets first: it is shadowed, not "needed by no planned flow"
    assert [r.line for r in back.unused_rules] == []
    (dead,) = back.dead_rules
    assert dead.reason == "shadowed" and dead.rule.line == 10
    assert [r.label for r in dead.shadowed_by] == ["FORWARD#4"]
    assert [u.condition for u in back.unevaluated] == ["-m limit"]


RECENT = """*filter
:FORWARD DROP [0:0]
-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -m recent --update --seconds 60 --name scan --rsource -j DROP
-A FORWARD -s 10.10.96.0/23 -p tcp --dport 443 -j ACCEPT
-A FORWARD -s 10.10.98.0/24 -p tcp --dport 443 -j REJECT
-A FORWARD -s 10.10.99.0/24 -p tcp --dport 443 -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT
COMMIT
"""


def test_undecided_and_partly_blocked_flows() -> None:
    report = run(RECENT)
    devices = flow(report, "XM-DEV-05.1")  # 10.10.96.0/22 -> XenMobile 443
    assert devices.status == "partial" and devices.is_finding
    by_source = {p.sources: p for p in devices.parts}
    assert set(by_source) == {"10.10.96.0/23", "10.10.98.0/24", "10.10.99.0/24"}
    assert by_source["10.10.98.0/24"].status == "blocked"
    assert by_source["10.10.96.0/23"].status == "depends"  # the recent list decides
    usual = by_source["10.10.96.0/23"].fates[0]
    assert usual.status == "allowed" and [(c.rule.line, c.holds) for c in usual.conditions] == [
        (4, False)
    ]
    assert by_source["10.10.99.0/24"].status == "depends"
    reasons = {r for f in by_source["10.10.99.0/24"].fates for c in f.conditions for r in c.reasons}
    assert "-m mac --mac-source 00:11:22:33:44:55" in reasons
    # fixes only for what is blocked for sure
    (fix,) = devices.fixes
    assert "-s 10.10.98.0/24" in fix.command and fix.verified


def test_interface_map_decides_interface_rules() -> None:
    rules = """*filter
:FORWARD DROP [0:0]
:spoof - [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -i lan -j spoof
-A FORWARD -i lan -o srv -p tcp --dport 8443 -j ACCEPT
-A spoof ! -s 10.10.96.0/22 -j DROP
COMMIT
"""
    without = run(rules, firewall="fw-back")  # the site says eth3/eth1: no 'lan' here
    assert flow(without, "XM-DEV-11.2").status == "blocked"
    ipassmt = parse_ipassmt(
        "lan = [10.10.96.0/22]\nsrv = [10.10.20.0/24]\nwan = [0.0.0.0/0]\n", "map"
    )
    mapped = run(rules, ipassmt=ipassmt)
    assert mapped.interfaces_from == "ipassmt map"
    assert flow(mapped, "XM-DEV-11.2").status == "allowed"
    assert flow(mapped, "XM-DEV-11.1").status == "blocked"  # from the Internet: wan
    unknown = audit_plan(PLAN, parse_iptables(rules, "fw.rules"), firewall="fw-front")
    assert any("interfaces unknown" in n for n in unknown.notes) or unknown.interfaces_from


def test_host_ruleset_input_and_output() -> None:
    rules = """*filter
:INPUT DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p tcp -m multiport --dports 443,8443 -j ACCEPT
-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A OUTPUT -p tcp --dport 1433 -j ACCEPT
COMMIT
"""
    report = audit_plan(PLAN, parse_iptables(rules, "host.rules"), host="xms1")
    assert report.target == "host xms1" and report.path == "input, output"
    assert flow(report, "XM-APP-24.2").status == "allowed"  # NetScaler -> XenMobile 8443
    inbound_4443 = flow(report, "XM-APP-25.1")
    assert inbound_4443.status == "blocked"
    assert inbound_4443.fixes[0].command.startswith("iptables -A INPUT ")
    for item in report.flows:
        for part in item.parts:  # xms2 is another host: only xms1's address is this end
            mine = part.destinations if item.path == "input" else part.sources
            assert mine == "10.10.20.11"
    assert {f.path for f in report.flows} == {"input", "output"}


def test_ipv6_ruleset_leaves_ipv4_flows_unresolved() -> None:
    rules = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -s 2001:db8::/32 -j ACCEPT\nCOMMIT\n"
    ruleset = parse_iptables("# Generated by ip6tables-save\n" + rules, "v6.rules")
    report = audit_plan(PLAN, ruleset, firewall="fw-back")
    assert {f.status for f in report.flows} == {"unresolved"}
    assert "IPv4" in report.flows[0].notes[-1]


def test_user_errors() -> None:
    ruleset = parse_iptables("*filter\n:FORWARD DROP [0:0]\nCOMMIT\n", "r")
    with pytest.raises(UserError, match="no firewall 'nope'"):
        audit_plan(PLAN, ruleset, firewall="nope")
    with pytest.raises(UserError, match="either a firewall or a host"):
        audit_plan(PLAN, ruleset, firewall="fw-back", host="xms1")
    with pytest.raises(UserError, match="no host"):
        audit_plan(PLAN, ruleset, host="nobody")
    with pytest.raises(UserError, match="bad port range"):
        audit(None, ruleset=DATA / "back.rules", firewall="fw-back", source_ports="9-x")


def test_host_ruleset_that_drops_nothing() -> None:
    """No base chain on the path can drop: every flow passes, decided by no rule."""
    ruleset = parse_iptables("*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n", "r")
    report = audit_plan(PLAN, ruleset, host="xms1")
    assert report.flows and {f.status for f in report.flows} == {"allowed"}
    fate = report.flows[0].parts[0].fates[0]
    assert fate.decided_by is None and "no chain on the path can drop it" in fate.decision


def test_an_accept_no_planned_flow_would_take_is_unused(tmp_path: Path) -> None:
    rules = tmp_path / "unused.rules"
    rules.write_text(
        "*filter\n:FORWARD DROP [0:0]\n"
        "-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\n"
        "-A FORWARD -p tcp --dport 443 -j ACCEPT\n"
        "-A FORWARD -p tcp --dport 443 -d 10.10.20.11 -j ACCEPT\n"
        "-A FORWARD -p tcp --dport 6000 -j ACCEPT\n"
        "COMMIT\n",
        "utf-8",
    )
    report = audit(None, ruleset=rules, firewall="fw-back", plan=PLAN)
    assert [r.line for r in report.unused_rules] == [6]  # no planned flow uses tcp/6000
    assert [d.rule.line for d in report.dead_rules] == [5]


def test_one_fix_for_every_rule_of_a_chain_that_drops_part_of_a_flow() -> None:
    """Three rules and the policy each drop a quarter of the devices' flow: one rule,
    placed before the first of them, lets the whole flow through (not four rules)."""
    rules = """*filter
:FORWARD DROP [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -s 10.10.96.0/24 -p tcp --dport 443 -j DROP
-A FORWARD -s 10.10.97.0/24 -p tcp --dport 443 -j DROP
-A FORWARD -s 10.10.98.0/24 -p tcp --dport 443 -j DROP
COMMIT
"""
    devices = flow(run(rules), "XM-DEV-05.1")  # 10.10.96.0/22 -> XenMobile 443
    assert devices.status == "blocked" and len(devices.parts) == 4
    (fix,) = devices.fixes
    assert fix.verified and fix.leg == "request"
    assert fix.command.startswith("iptables -I FORWARD 2 -s 10.10.96.0/22 ")
    assert fix.placement.startswith("before FORWARD#2")
    assert fix.note is not None and "one rule for 4 places" in fix.note


def test_a_flow_lists_its_blocked_parts_first_and_counts_the_others() -> None:
    """Capped, a flow keeps its blocked parts and its status over every part."""
    whole = flow(run(RECENT), "XM-DEV-05.1")
    capped = flow(run(RECENT, parts_listed=1), "XM-DEV-05.1")
    assert len(whole.parts) == 3 and whole.more_parts == ()
    (part,) = capped.parts
    assert part.status == "blocked" and part.sources == "10.10.98.0/24"
    assert capped.more_parts == (("depends", 2),)
    assert capped.status == whole.status == "partial" and capped.fixes == whole.fixes


def test_what_the_audit_finds_does_not_depend_on_the_parts_listed(tmp_path: Path) -> None:
    """Statuses, fixes, wide and unused rules count every part, listed or not (here a
    dual-stack ruleset with an unused accept rule of each family)."""
    from flowmatrix.rules import Scope, generate

    plan = load_plan("example:enterprise-dual-stack")
    text = generate(plan, Scope("firewall", "edge"), "nftables").text
    extra = (
        "\t\tip6 daddr 2001:db8:ffff::1 tcp dport 6000 accept\n"
        "\t\tip daddr 192.0.2.77 tcp dport 6000 accept\n"
    )
    ruleset = tmp_path / "edge.nft"
    ruleset.write_text(
        text.replace("\t\tct state invalid drop\n", "\t\tct state invalid drop\n" + extra, 1)
    )
    reports = [
        audit(None, plan=plan, ruleset=ruleset, firewall="edge", nft_reader="text", parts_listed=n)
        for n in (0, 1)
    ]
    whole, capped = reports
    assert sum(len(f.parts) for f in capped.flows) < sum(len(f.parts) for f in whole.flows)
    assert [u.text for u in whole.unused_rules] == [u.text for u in capped.unused_rules]
    assert {u.text for u in whole.unused_rules} == {line.strip() for line in extra.splitlines()}
    assert whole.wide_rules == capped.wide_rules and whole.notes == capped.notes
    for a, b in zip(whole.flows, capped.flows, strict=True):
        assert (a.flow_id, a.status, a.fixes) == (b.flow_id, b.status, b.fixes)
