"""The report's shortcuts give what the plain way gives: the journeys of an audit are
judged from the outcomes of their own flows as from all of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmatrix.api import load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport
from flowmatrix.journeys import audit_outcomes, audit_summaries, summaries

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return audit(None, ruleset=DATA / "back.rules", firewall="fw-back", plan=load_plan(None))


def test_the_journeys_of_an_audit_are_judged_from_their_own_flows(report: AuditReport) -> None:
    plan = load_plan(None)
    lines = audit_summaries(report, plan)
    assert lines  # the example's journeys cross fw-back
    assert lines == summaries(plan, audit_outcomes(report, plan))
    needed = {"no flow of the plan"}
    assert audit_outcomes(report, plan, needed) == []
    ids = {flow.flow_id for flow in report.flows[:3]}
    assert audit_outcomes(report, plan, ids) == [
        outcome for outcome in audit_outcomes(report, plan) if outcome.flow in ids
    ]
