"""The evidence spine: one check record, read strictly, and the one rule for a failed
probe result that verify, merge and report share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.errors import UserError
from flowmatrix.evidence import Check, CheckError, checks_in, port_status, probe_status
from flowmatrix.fleet.merge import verdict
from flowmatrix.fleet.resultfile import ProbeLine
from flowmatrix.probe.results import STATES, ProbeResult
from flowmatrix.report.result_files import read_results


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


def _live(status: str, host: str | None, destination: str | None = None) -> Check:
    return Check("F.1", 443, status, "verify", status, host, destination=destination)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("checks", "sources", "expected"),
    [
        # every source host must prove the port; one host that was not heard from keeps it open
        ([_live("proven", "a"), _live("proven", "b")], ("a", "b"), "proven"),
        ([_live("proven", "a")], ("a", "b"), "depends"),
        ([_live("proven", "a"), _live("failing", "b")], ("a", "b"), "failing"),
        # a cluster: from one host, every address it reached must answer
        ([_live("proven", "a", "10.0.0.1"), _live("depends", "a", "10.0.0.2")], ("a",), "depends"),
        ([_live("proven", "a", "10.0.0.1"), _live("proven", "a", "10.0.0.2")], ("a",), "proven"),
        # a repeated probe of one address: the proof stands
        (
            [_live("proven", "a", "10.0.0.1"), _live("not-tested", "a", "10.0.0.1")],
            ("a",),
            "proven",
        ),
        # a probe to the host itself does not apply: the host is left out
        ([_live("not-applicable", "a"), _live("proven", "b")], ("a", "b"), "proven"),
        # a check that speaks for every source (an audit of the path, a lab case)
        (
            [Check("F.1", 443, "proven", "audit", "ok", covers=("fw",)), _live("proven", "a")],
            ("a", "b"),
            "proven",
        ),
        # a host that is not a source of the flow proves nothing, but its failure shows
        ([_live("proven", "elsewhere")], ("a",), "not-tested"),
        ([_live("failing", "elsewhere"), _live("proven", "a")], ("a",), "failing"),
        # no source hosts known (a caller without a plan): any proof proves, as before
        ([_live("proven", "a")], (), "proven"),
        ([], ("a",), "not-tested"),
    ],
)
def test_a_port_is_proven_from_every_source_host(
    checks: list[Check], sources: tuple[str, ...], expected: str
) -> None:
    assert port_status(checks, ("fw",), sources) == expected


def test_merge_and_report_agree_on_the_same_results(tmp_path: Path) -> None:
    """A verify document and the merge of it give each flow the same status in
    ``report``: the per source host rule is one rule."""
    from flowmatrix.fleet.merge import merge
    from flowmatrix.fleet.resultfile import ResultDocument
    from flowmatrix.report.status import combine

    plan = load_plan(None)
    flow = next(f for f in plan.flows if len(plan.probe_sources(f)) >= 2)
    first, second = plan.probe_sources(flow)[:2]
    port = flow.ports[0]
    lines = tuple(
        ProbeLine("v.json", flow.id, host, None, "10.9.9.9", port, state, "", None, ())
        for host, state in ((first, "open"), (second, "open|filtered"))
    )
    matrix = merge(plan, [ResultDocument("v.json", plan.site.name, "fleet", lines)])
    merged = next(f for f in matrix.flows if f.flow.id == flow.id)
    report = combine(flow, matrix.checks(), plan.probe_sources(flow))
    assert merged.status == "incomplete"
    assert report.status == "depends" and report.port_status(port) == "depends"


def test_a_live_check_keeps_its_source_host_and_destination() -> None:
    check = Check("F.1", 443, "proven", "verify", "open", "app1", destination="10.0.0.2")
    again = Check.from_dict(json.loads(json.dumps(check.to_dict())))
    assert (again.source_host, again.destination) == ("app1", "10.0.0.2")
    older = {k: v for k, v in check.to_dict().items() if k != "destination"}
    assert Check.from_dict(older).destination is None  # documents written before it
