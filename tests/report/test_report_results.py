"""Results files (verify, audit, lab) read and mapped to a status per flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_support import STATES, verify_document

from flowmatrix.errors import UserError
from flowmatrix.evidence import Check, flow_status, port_status
from flowmatrix.model import Plan
from flowmatrix.report.result_files import VERIFY_STATES, read_file, read_results
from flowmatrix.report.status import combine


def _write(tmp_path: Path, document: object, name: str = "r.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), "utf-8")
    return path


def test_verify_file_maps_each_flow_from_its_states(plan: Plan, verify_file: Path) -> None:
    checks = read_results([verify_file], plan)
    assert [f.kind for f in checks.files] == ["verify"]
    expected = {
        "open": "proven",
        "filtered": "failing",
        "open|filtered": "depends",
        "closed": "failing",
        "not_probed": "not-tested",
    }
    for index, flow in enumerate(plan.flows):
        check = checks.of(flow)
        if index % 5 == 4:
            assert check.status == "not-tested" and not check.evidence
        else:
            assert check.status == expected[STATES[index % len(STATES)]], flow.id
            assert {port for port, _ in check.ports} == set(flow.ports)
    assert checks.unmatched == ()


def test_every_documented_verify_state_is_mapped() -> None:
    from flowmatrix.probe.results import STATES as PROBE_STATES

    assert set(PROBE_STATES) == set(VERIFY_STATES)


def test_an_open_port_with_a_finding_is_failing(plan: Plan, tmp_path: Path) -> None:
    document = verify_document(plan, ["open"])
    target = document["results"][0]
    target["findings"] = ["certificate expired 3 days ago"]
    checks = read_results([_write(tmp_path, document)], plan)
    check = checks.by_flow[target["flow"]]
    assert check.status == "failing"
    assert any("certificate expired" in line for line in check.details())


def test_one_failing_address_of_a_cluster_fails_the_port(plan: Plan, tmp_path: Path) -> None:
    flow = next(f for f in plan.flows if len(f.destination.addresses) >= 2)
    results = [
        {"flow": flow.id, "state": "open", "destination": {"address": a, "port": p}}
        for p in flow.ports
        for a in flow.destination.addresses
    ]
    results[-1]["state"] = "filtered"
    checks = read_results([_write(tmp_path, {"results": results})], plan)
    assert checks.of(flow).status == "failing"


def test_partly_proven_flow_depends(plan: Plan, tmp_path: Path) -> None:
    flow = next(f for f in plan.flows if len(f.ports) > 1)
    results = [{"flow": flow.id, "state": "open", "destination": {"port": flow.ports[0]}}]
    checks = read_results([_write(tmp_path, results)], plan)
    check = checks.of(flow)
    assert check.status == "depends"
    assert check.port_status(flow.ports[0]) == "proven"
    assert check.port_status(flow.ports[1]) == "not-tested"


def test_audit_verdicts_and_live_evidence_combine(plan: Plan, tmp_path: Path) -> None:
    a, b, c = plan.flows[0], plan.flows[1], plan.flows[2]
    audit = {
        "format": "flowmatrix-audit/1",
        "flows": [
            {"flow": a.id, "verdict": "allowed", "rule": {"text": "-A FORWARD -j ACCEPT"}},
            {"flow": b.id, "verdict": "blocked", "reason": "default policy DROP"},
            {"flow": c.id, "verdict": "depends", "reason": "only from eth1"},
        ],
    }
    verify = {
        "results": [
            {"flow": b.id, "state": "open", "destination": {"port": b.ports[0]}},
            {"flow": c.id, "state": "open", "destination": {"port": c.ports[0]}},
        ]
    }
    checks = read_results(
        [_write(tmp_path, audit, "a.json"), _write(tmp_path, verify, "v.json")], plan
    )
    assert [f.kind for f in checks.files] == ["audit", "verify"]
    assert checks.of(a).status == "proven"
    assert "rule -A FORWARD -j ACCEPT" in checks.of(a).details()[0]
    assert checks.of(b).status == "failing"  # a contradiction must show
    assert checks.of(c).status == "proven"  # a live proof settles a conditional verdict


def test_lab_verdicts_are_recognised(plan: Plan, tmp_path: Path) -> None:
    flow = plan.flows[3]
    lab = [{"flow": flow.id, "verdict": "pass"}, {"flow": plan.flows[4].id, "verdict": "fail"}]
    kind, records, ignored = read_file(_write(tmp_path, lab))
    assert kind == "lab" and len(records) == 2 and ignored == 0
    checks = read_results([_write(tmp_path, lab)], plan)
    assert checks.of(flow).status == "proven"
    assert checks.of(plan.flows[4]).status == "failing"


def test_json_lines_are_accepted(plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    lines = [{"flow": f.id, "state": "open"} for f in plan.flows[:3]]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", "utf-8")
    checks = read_results([path], plan)
    assert all(checks.of(f).status == "proven" for f in plan.flows[:3])


def test_results_of_another_plan_are_reported_not_used(plan: Plan, tmp_path: Path) -> None:
    flow = plan.flows[0]
    results = [
        {"flow": "NOPE-1.1", "state": "open"},
        {"flow": flow.id, "requirement": "SOMETHING-ELSE", "state": "open"},
        {"flow": flow.id, "state": "made-up-state"},
        {"state": "open"},
        "not an object",
    ]
    checks = read_results([_write(tmp_path, {"results": results})], plan)
    assert checks.unmatched == ("NOPE-1.1", flow.id)
    assert checks.of(flow).status == "not-tested"
    assert checks.files[0].records == 0 and checks.files[0].ignored == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"summary": {}}', "no list of results"),
        ('[{"flow": "x"}]', "cannot tell"),
        ("", "invalid JSON"),
    ],
)
def test_unreadable_results_are_user_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, "utf-8")
    with pytest.raises(UserError) as caught:
        read_file(path)
    assert message in caught.value.message
    assert caught.value.hint and "--format json" in caught.value.hint
    assert caught.value.file == str(path)


def test_invalid_json_points_at_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"results": [\n  {"flow": "a",, }\n]}', "utf-8")
    with pytest.raises(UserError) as caught:
        read_file(path)
    assert (caught.value.line, caught.value.col) == (2, 16)  # the second comma


def test_missing_binary_and_folder_results(tmp_path: Path) -> None:
    (tmp_path / "latin1.json").write_bytes(b'["\xe9t\xe9"]')
    for path in (tmp_path / "absent.json", tmp_path, tmp_path / "latin1.json"):
        with pytest.raises(UserError):
            read_file(path)


def _ev(status: str, port: int | None = None) -> Check:
    return Check("X.1", port, status, "verify", "", where="f")  # type: ignore[arg-type]


def test_combination_rules(plan: Plan) -> None:
    assert port_status([]) == "not-tested"
    assert port_status([_ev("not-tested")]) == "not-tested"
    assert port_status([_ev("proven"), _ev("not-tested")]) == "proven"
    assert port_status([_ev("depends"), _ev("proven")]) == "proven"
    assert port_status([_ev("failing"), _ev("proven")]) == "failing"
    assert port_status([_ev("not-applicable")]) == "not-tested"
    assert port_status([_ev("not-applicable"), _ev("proven")]) == "proven"
    assert flow_status([]) == "not-tested"
    assert flow_status(["proven", "proven"]) == "proven"
    assert flow_status(["proven", "not-tested"]) == "depends"
    assert flow_status(["failing", "proven"]) == "failing"
    two_ports = next(f for f in plan.flows if len(f.ports) > 1)
    check = combine(two_ports, [_ev("proven")])  # evidence for every port
    assert check.status == "proven"


RULESET = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -p tcp -m tcp --dport 443 -j ACCEPT
COMMIT
"""


def _audit_file(plan: Plan, tmp_path: Path, firewall: str) -> Path:
    from flowmatrix.audit.formats import to_document
    from flowmatrix.audit.from_files import audit

    rules = tmp_path / f"{firewall}.rules"
    rules.write_text(RULESET, "utf-8")
    report = audit(None, ruleset=rules, firewall=firewall, plan=plan)
    return _write(tmp_path, to_document(report), f"audit-{firewall}.json")


def test_real_audit_output_needs_every_firewall_of_the_path(plan: Plan, tmp_path: Path) -> None:
    back = _audit_file(plan, tmp_path, "fw-back")
    inside = next(f for f in plan.flows if f.firewalls == ("fw-back",) and tuple(f.ports) == (443,))
    across = next(
        f for f in plan.flows if f.firewalls == ("fw-front", "fw-back") and tuple(f.ports) == (443,)
    )
    closed = next(f for f in plan.flows if f.firewalls == ("fw-back",) and 443 not in f.ports)
    checks = read_results([back], plan)
    assert checks.files[0].kind == "audit" and checks.files[0].ignored == 0
    assert checks.of(inside).status == "proven"
    assert checks.of(inside).details()[0].startswith("audit: fw-back: allowed (ACCEPT by")
    assert checks.of(across).status == "depends"  # fw-front has not been read
    assert checks.of(closed).status == "failing"
    front = _audit_file(plan, tmp_path, "fw-front")
    both = read_results([back, front], plan)
    assert both.of(across).status == "proven"
    # merge carries the audits' checks (each with the firewall it judged) to the report
    from flowmatrix.fleet.matrixdoc import matrix_to_dict
    from flowmatrix.fleet.merge import merge
    from flowmatrix.fleet.resultfile import read_result_file

    for audits, status in (([back], "depends"), ([back, front], "proven")):
        matrix = merge(plan, [read_result_file(a) for a in audits])
        merged = _write(tmp_path, matrix_to_dict(matrix), "matrix.json")
        assert read_results([merged], plan).of(across).status == status


def test_real_lab_output_uses_the_planned_cases_only(plan: Plan, tmp_path: Path) -> None:
    from flowmatrix.lab.cases import Case
    from flowmatrix.lab.lab_report import result_to_dict
    from flowmatrix.lab.session import CaseResult

    def case(flow_id: str, variant: str, port: int) -> Case:
        return Case(
            id=flow_id,
            variant=variant,
            flow=flow_id,
            required=True,  # type: ignore[arg-type]
            protocol="tcp",
            port=port,
            source_zone="a",
            source_label="s",
            source_address="10.0.0.1",
            destination_zone="b",
            destination_label="d",
            destination_address="10.0.0.2",
            firewalls=("fw-back",),
        )

    one, two = plan.flows[0], plan.flows[1]
    results = [
        CaseResult(case(one.id, "planned", one.ports[0]), "pass", True, "open", "answered"),
        CaseResult(case(one.id, "other-port", 9), "blocked", True, "filtered", "dropped"),
        CaseResult(case(two.id, "planned", two.ports[0]), "blocked", False, "filtered", "x"),
        CaseResult(case(two.id, "reversed", two.ports[0]), "leak", False, "open", "y"),
    ]
    document = {"format_version": 1, "results": [result_to_dict(r) for r in results]}
    checks = read_results([_write(tmp_path, document)], plan)
    assert checks.files[0].kind == "lab"
    assert checks.files[0].records == 2 and checks.files[0].ignored == 0
    assert checks.of(one).status == "proven"
    assert checks.of(two).status == "failing"
    assert checks.of(two).details() == ["lab: blocked filtered (x)"]


def test_real_merge_output_per_host_and_port(plan: Plan, verify_file: Path, tmp_path: Path) -> None:
    from flowmatrix.fleet.matrixdoc import matrix_to_dict
    from flowmatrix.fleet.merge import merge
    from flowmatrix.fleet.resultfile import read_result_file

    matrix = matrix_to_dict(merge(plan, [read_result_file(verify_file)]))
    # the previous version's document: no checks, its lines read by their statuses
    previous = {k: v for k, v in matrix.items() if k != "checks"} | {
        "format": "flowmatrix-matrix/1"
    }
    by_flow = {f["flow"]: f["status"] for f in matrix["flows"]}
    expected = {"passed": "proven", "failed": "failing", "not_tested": "not-tested"}
    for document, kind in ((matrix, "merge"), (previous, "verify")):
        checks = read_results([_write(tmp_path, document, f"matrix-{kind}.json")], plan)
        assert checks.files[0].kind == kind and checks.files[0].ignored == 0
        compared = 0
        for flow in plan.flows:
            if by_flow[flow.id] in expected:
                assert checks.of(flow).status == expected[by_flow[flow.id]], (kind, flow.id)
                compared += 1
        assert compared > len(plan.flows) // 2
