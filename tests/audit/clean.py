"""The round trip's one check: rules that flowmatrix wrote, audited against their plan,
allow every requested flow (in the family the file is for), block every other one, and
are neither wider than planned, nor unused, nor shadowed."""

from __future__ import annotations

from pathlib import Path

from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport
from flowmatrix.model import Plan
from flowmatrix.rules import Scope, generate

FAMILY = {"iptables": 4, "ip6tables": 6}


def audit_generated(plan: Plan, firewall: str, target: str, folder: Path) -> AuditReport:
    """Write ``target``'s rules of ``firewall`` into ``folder`` and audit them (text reader)."""
    out = generate(plan, Scope("firewall", firewall), target)
    assert not out.errors, (target, out.errors)
    rules = folder / f"{firewall}.{target}"
    rules.write_text(out.text, "utf-8")
    return audit(None, ruleset=rules, firewall=firewall, plan=plan, nft_reader="text")


def assert_audits_clean(report: AuditReport, plan: Plan, target: str) -> None:
    flows = {f.id: f for f in plan.flows}
    assert not report.problems
    assert report.flows
    for result in report.flows:
        flow = flows[result.flow_id]
        where = (result.flow_id, result.port, result.status, result.notes)
        if result.status == "unresolved":
            # an ip(6)tables file is one family: flows of the other one only
            other = 6 if FAMILY.get(target) == 4 else 4
            assert target in FAMILY and f"the flow is IPv{other}" in " ".join(result.notes), where
            continue
        assert result.status == ("allowed" if flow.requested else "blocked"), where
        if target in FAMILY:
            assert {p.family for p in result.parts} == {FAMILY[target]}, where
    assert [(w.rule.where, w.reasons) for w in report.wide_rules] == []
    assert [u.where for u in report.unused_rules] == []
    dead = [(d.rule.text.split('comment "')[-1].split(" ")[0], d.reason) for d in report.dead_rules]
    assert dead == []
