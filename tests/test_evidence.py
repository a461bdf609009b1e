"""The evidence spine: one check record, read strictly, and the one rule for a failed
probe result that verify, merge and report share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.errors import UserError
from flowmatrix.evidence import Check, CheckError, checks_in, probe_status
from flowmatrix.fleet.merge import verdict
from flowmatrix.fleet.resultfile import ProbeLine
from flowmatrix.probe.results import STATES, ProbeResult
from flowmatrix.report.results import read_results


def test_a_check_reads_back_as_written() -> None:
    check = Check("XM-APP-07.1", 443, "depends", "audit", "depends (rule 3)", None, "", ("fw",))
    again = Check.from_dict(json.loads(json.dumps(check.to_dict())), "a.json")
    assert again == Check(*(check.flow, check.port, check.status, check.kind, check.detail),
                          None, "a.json", ("fw",))  # fmt: skip


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"port": 1, "status": "proven", "kind": "verify"}, "'flow' is missing"),
        ({"flow": "F.1", "port": 0, "status": "proven", "kind": "verify"}, "is not a port"),
        ({"flow": "F.1", "port": True, "status": "proven", "kind": "verify"}, "is not a port"),
        ({"flow": "F.1", "port": 1, "status": "ok", "kind": "verify"}, "unknown status 'ok'"),
        ({"flow": "F.1", "port": 1, "status": "proven", "kind": "nmap"}, "unknown kind"),
        (
            {"flow": "F.1", "port": 1, "status": "proven", "kind": "audit", "covers": "fw"},
            "'covers' is not a list",
        ),
    ],
)
def test_a_line_that_is_not_a_check_is_refused(line: dict[str, object], message: str) -> None:
    with pytest.raises(CheckError, match=message):
        checks_in({"checks": [line]})
    with pytest.raises(CheckError, match=r"checks\[1\]"):
        checks_in({"checks": [{"flow": "F.1", "port": None, "status": "proven",
                               "kind": "lab"}, line]})  # fmt: skip


def test_report_names_the_bad_line(tmp_path: Path) -> None:
    plan = load_plan(None)
    path = tmp_path / "lab.json"
    path.write_text(json.dumps({"format": "flowmatrix-lab/1", "checks": [{"flow": "x"}]}))
    with pytest.raises(UserError, match=r"lab.json: checks\[0\]: x: unknown status None"):
        read_results([path], plan)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("findings", [(), ("certificate expired",)])
def test_one_rule_for_a_failed_result(state: str, findings: tuple[str, ...]) -> None:
    """verify's exit code, merge's verdict and the report's status say the same."""
    result = ProbeResult(
        flow="F.1", requirement="F", required=True, source_role="r", source_host="h",
        source_address=None, destination_role="d", destination_host="d1", fqdn=None,
        address="192.0.2.1", port=443, protocol="tcp", service=None, state=state,  # type: ignore[arg-type]
        reason="", findings=findings,
    )  # fmt: skip
    status = probe_status(state, bool(findings))
    assert result.failed == (status == "failing")
    assert result.check().status == status
    merged = ProbeLine("f", "F.1", "h", "d1", "192.0.2.1", 443, state, "", None, findings)
    assert verdict(merged) == {"failing": "failed", "proven": "passed"}.get(status, "inconclusive")
    if findings:
        assert status == "failing"
