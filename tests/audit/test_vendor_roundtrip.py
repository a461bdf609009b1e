"""Round trip: what ``flowmatrix rules`` writes for FortiGate, PAN-OS, Cisco ASA and SRX is
read back by the vendor readers and audits clean; with a policy disabled, the flow it
carried is found blocked (exit 1) and the fix proposed lets it through again.

Every shipped example, every firewall, every vendor. Flows the site does not request
(``Flow.requested`` False) are expected blocked. Flows whose end is known only by name
are rendered as the vendor's FQDN objects and judged through the names they serve: the
object of that name allows them, the object of another name does not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flowmatrix.api import example_names, load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport, FlowResult
from flowmatrix.model import Flow, FlowEnd, Plan
from flowmatrix.rules import Scope, generate

EXAMPLES = tuple(example_names())
VENDORS = ("fortigate", "paloalto", "ciscoasa", "srx")
PLANS: dict[str, Plan] = {
    name: load_plan(None if name == "default" else f"example:{name}") for name in EXAMPLES
}
CASES = [
    (example, firewall.name, vendor)
    for example in EXAMPLES
    for firewall in PLANS[example].site.firewalls
    for vendor in VENDORS
]


def _site(example: str) -> str:
    return "example:default" if example == "default" else f"example:{example}"


def _name_only(end: FlowEnd) -> bool:
    return not end.any_address and any(not h.addresses for h in end.hosts)


def _by_name(flow: Flow) -> bool:
    return _name_only(flow.source) or _name_only(flow.destination)


def _config(tmp_path: Path, example: str, firewall: str, vendor: str) -> Path:
    out = generate(PLANS[example], Scope("firewall", firewall), vendor)
    assert not out.errors, out.errors
    path = tmp_path / f"{example}-{firewall}.{vendor}"
    path.write_text(out.text, "utf-8")
    return path


def _flows(report: AuditReport, plan: Plan) -> list[tuple[FlowResult, Flow]]:
    flows = {f.id: f for f in plan.flows}
    return [(result, flows[result.flow_id]) for result in report.flows]


def _pan_transit_wide(report: AuditReport, plan: Plan, firewall: str) -> list[str]:
    """Wide rules of a PAN-OS round trip that are the generator's documented limit: an
    Internet end written as ``any`` on a firewall the flow enters (or leaves) through
    another zone, whose own hosts match it too (docs/rules.md, exclusions 'none')."""
    flows = {f.id: f for f in plan.flows}
    zones = {z.name: z for z in plan.site.zones}

    def internet(end: FlowEnd) -> bool:
        return zones[end.zone].internet and (end.any_address or _name_only(end))

    out = []
    for wide in report.wide_rules:
        served = [flows[item.split("/")[0]] for item in wide.flows]
        for side, far in (("source ", 0), ("destination ", -1)):
            transit = all(
                internet(f.source if far == 0 else f.destination) and f.firewalls[far] != firewall
                for f in served
            )
            if transit and all(reason.startswith(side) for reason in wide.reasons):
                out.append(wide.rule.where)
    return out


@pytest.mark.parametrize(("example", "firewall", "vendor"), CASES)
def test_generated_configuration_audits_clean(
    tmp_path: Path, run_cli, example: str, firewall: str, vendor: str
) -> None:
    plan = PLANS[example]
    path = _config(tmp_path, example, firewall, vendor)
    report = audit(None, ruleset=path, firewall=firewall, plan=plan)
    assert report.dialect == vendor and not report.problems
    for result, flow in _flows(report, plan):
        expected = "allowed" if flow.requested else "blocked"
        assert result.status == expected, (result.flow_id, result.port, result.status)
    wide = [w.rule.where for w in report.wide_rules]
    if vendor == "paloalto":
        wide = sorted(set(wide) - set(_pan_transit_wide(report, plan, firewall)))
    assert wide == []
    # no permit is shadowed: a flow an earlier permit serves joins its comment. An ASA
    # deny term of a flow with an Internet end can be: it comes after the plain permits,
    # so it never takes a packet another flow permits (vendors.py, _Builder.finish)
    dead = [d.rule.text for d in report.dead_rules]
    if vendor == "ciscoasa":
        dead = [text for text in dead if " extended deny " not in text]
    assert dead == []
    cli = run_cli("audit", _site(example), "-F", firewall, "-r", str(path), "--format", "json")
    assert [f["id"] for f in json.loads(cli.stdout)["flows"] if f["finding"]] == []
    assert cli.code == 0, cli


NAMED_CASES = [
    (example, firewall, vendor)
    for example, firewall, vendor in CASES
    if any(_by_name(f) for f in PLANS[example].flows_through(firewall))
]


def test_some_cases_have_flows_known_by_name() -> None:
    # the FQDN objects are exercised: enterprise-dual-stack names its ends on both firewalls
    assert {(e, f) for e, f, _ in NAMED_CASES} >= {
        ("enterprise-dual-stack", "edge"),
        ("enterprise-dual-stack", "core-fw"),
    }


@pytest.mark.parametrize(("example", "firewall", "vendor"), NAMED_CASES)
def test_flows_known_by_name_are_decided_by_their_fqdn_object(
    tmp_path: Path, example: str, firewall: str, vendor: str
) -> None:
    # a requested flow known by name is allowed by a rule whose object serves that name,
    # never left to "depends on DNS"
    plan = PLANS[example]
    path = _config(tmp_path, example, firewall, vendor)
    report = audit(None, ruleset=path, firewall=firewall, plan=plan)
    named = [(r, f) for r, f in _flows(report, plan) if _by_name(f)]
    assert named
    for result, flow in named:
        assert result.status == ("allowed" if flow.requested else "blocked"), result.flow_id
        if flow.requested:
            assert not any(fate.conditions for part in result.parts for fate in part.fates)


def _disable(text: str, vendor: str, line: int) -> str:
    """The configuration with the policy written at ``line`` disabled, as an
    administrator would do it on that vendor."""
    lines = text.splitlines()
    at = line - 1
    if vendor == "fortigate":  # 'edit N' ... 'set status disable'
        lines.insert(at + 1, "        set status disable")
    elif vendor == "paloalto":  # <entry name="..."> <disabled>yes</disabled>
        lines.insert(at + 1, "                  <disabled>yes</disabled>")
    elif vendor == "ciscoasa":  # access-list ... inactive
        lines[at] += " inactive"
    else:  # Junos: 'inactive:' before the policy
        lines[at] = re.sub(r"^(\s*)policy ", r"\1inactive: policy ", lines[at])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("example", "firewall", "vendor"), CASES)
def test_a_disabled_policy_blocks_its_flow(
    tmp_path: Path, run_cli, example: str, firewall: str, vendor: str
) -> None:
    plan = PLANS[example]
    path = _config(tmp_path, example, firewall, vendor)
    clean = audit(None, ruleset=path, firewall=firewall, plan=plan)
    target = next(
        r for r, f in _flows(clean, plan) if f.requested and not _by_name(f) and r.required
    )
    text = path.read_text("utf-8")
    disabled: set[int] = set()
    report = clean
    for _ in range(6):  # aerleon writes one term per flow: disable every one that carries it
        result = next(
            r for r in report.flows if (r.flow_id, r.port) == (target.flow_id, target.port)
        )
        if result.is_finding:
            break
        lines = {
            fate.decided_by.line
            for part in result.parts
            for fate in part.fates
            if fate.decided_by is not None and fate.decided_by.line is not None
        }
        assert lines - disabled, "no policy left to disable"
        for line in sorted(lines - disabled, reverse=True):
            text = _disable(text, vendor, line)
            disabled.add(line)
            # later lines moved by one where a line was inserted (FortiGate, PAN-OS)
            if vendor in ("fortigate", "paloalto"):
                disabled = {d + 1 if d > line else d for d in disabled}
        path.write_text(text, "utf-8")
        report = audit(None, ruleset=path, firewall=firewall, plan=plan)
    result = next(r for r in report.flows if (r.flow_id, r.port) == (target.flow_id, target.port))
    assert result.is_finding and result.status in ("blocked", "partial")
    assert result.fixes and all(fix.verified for fix in result.fixes)
    assert any("disabled" in n or "inactive" in n or "deactivated" in n for n in report.notes)
    cli = run_cli("audit", _site(example), "-F", firewall, "-r", str(path))
    assert cli.code == 1, cli
