"""The merge rules: one status per planned flow, never 'passed' without evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.conftest import write_site
from fleet.results_factory import result_file
from flowmatrix.api import load_plan
from flowmatrix.errors import ExitCode, UserError
from flowmatrix.evidence import Check, probe_status
from flowmatrix.fleet.merge import merge, merge_flow
from flowmatrix.fleet.resultfile import ProbeLine
from flowmatrix.model import Plan
from flowmatrix.report.status import combine

APP, DB = "127.0.0.2", "127.0.0.3"


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return load_plan(write_site(tmp_path_factory.mktemp("site"), APP, DB, "127.0.0.0/24"))


def statuses(plan: Plan, *files: object) -> dict[str, str]:
    matrix = merge(plan, list(files))  # type: ignore[arg-type]
    return {f.flow.id: f.status for f in matrix.flows}


def test_no_results_means_not_tested(plan: Plan) -> None:
    matrix = merge(plan, [])
    assert {f.status for f in matrix.flows} == {"not_tested"}
    assert matrix.exit_code is ExitCode.OK


def test_all_ports_open_is_passed_one_failed_port_fails(plan: Plan) -> None:
    files = [
        result_file(
            [
                ("SITE-app-to-db.1", "app1", "db1", DB, 5432, "open"),
                ("SITE-app-to-db.1", "app1", "db1", DB, 5433, "filtered"),
                ("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open"),
            ]
        )
    ]
    matrix = merge(plan, files)
    flows = {f.flow.id: f for f in matrix.flows}
    assert flows["SITE-db-to-app.1"].status == "passed"
    failed = flows["SITE-app-to-db.1"]
    assert failed.status == "failed"
    assert [(h, e.port, e.state) for h, e in failed.failures] == [("app1", 5433, "filtered")]
    assert failed.reason.startswith(f"tcp/5433 from app1 to {DB}: filtered")
    assert flows["SITE-admin-to-app.1"].status == "not_tested"
    assert flows["SITE-admin-to-app.1"].reason == "no results from admins"
    assert matrix.exit_code is ExitCode.FINDINGS


def test_a_missing_port_is_incomplete_not_passed(plan: Plan) -> None:
    files = [result_file([("SITE-app-to-db.1", "app1", "db1", DB, 5432, "open")])]
    flow = next(f for f in merge(plan, files).flows if f.flow.id == "SITE-app-to-db.1")
    assert flow.status == "incomplete"
    assert flow.reason == "tcp/5433 not tested from app1"


def test_inconclusive_answers_are_incomplete(plan: Plan) -> None:
    files = [result_file([("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open|filtered")])]
    assert statuses(plan, *files)["SITE-db-to-app.1"] == "incomplete"


def test_a_port_that_was_not_probed_is_not_tested_and_says_why(plan: Plan) -> None:
    """``not_probed`` is no answer: the flow is not tested (as ``report`` says of the same
    results), and the reason is the result's own."""
    files = [result_file([("SITE-db-to-app.1", "db1", "app1", APP, 8443, "not_probed")])]
    flow = next(f for f in merge(plan, files).flows if f.flow.id == "SITE-db-to-app.1")
    assert flow.status == "not_tested"
    assert flow.reason.startswith("tcp/8443 from db1 not probed: ")


def test_one_cluster_node_without_an_answer_keeps_the_port_unproven(plan: Plan) -> None:
    """Two addresses of one destination: one open, one without an answer. From that
    source host the port is not proven, in merge and in the report of the same results."""
    lines = [
        ("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open"),
        ("SITE-db-to-app.1", "db1", "app1", "10.0.30.99", 8443, "open|filtered"),
    ]
    matrix = merge(plan, [result_file(lines)])
    assert statuses(plan, result_file(lines))["SITE-db-to-app.1"] == "incomplete"
    flow = plan.flow("SITE-db-to-app.1")
    verified = [
        Check(flow.id, 8443, probe_status(state, False), "verify", state, host, destination=addr)
        for _, host, _, addr, _, state in lines
    ]
    assert combine(flow, verified, plan.probe_sources(flow)).status == "depends"
    assert combine(flow, matrix.checks(), plan.probe_sources(flow)).status == "depends"


@pytest.mark.parametrize("state", ["closed", "filtered", "unreachable", "unresolved", "error"])
def test_failed_states_fail(plan: Plan, state: str) -> None:
    files = [result_file([("SITE-db-to-app.1", "db1", "app1", APP, 8443, state)])]
    assert statuses(plan, *files)["SITE-db-to-app.1"] == "failed"


def test_an_open_port_with_a_finding_fails(plan: Plan) -> None:
    files = [
        result_file(
            [("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open", ["the certificate expired"])]
        )
    ]
    matrix = merge(plan, files)
    flow = next(f for f in matrix.flows if f.flow.id == "SITE-db-to-app.1")
    assert flow.status == "failed"
    assert "the certificate expired" in flow.reason


def test_results_from_a_host_that_is_not_the_source_are_ignored(plan: Plan) -> None:
    files = [
        result_file(
            [
                ("SITE-db-to-app.1", "app1", "app1", APP, 8443, "open"),
                ("SITE-db-to-app.1", None, "app1", APP, 8443, "open"),
            ]
        )
    ]
    matrix = merge(plan, files)
    assert {f.flow.id: f.status for f in matrix.flows}["SITE-db-to-app.1"] == "not_tested"
    assert any(
        "probed from app1, which is not one of its source hosts" in w for w in matrix.warnings
    )
    assert any("from an unnamed host" in w for w in matrix.warnings)


def test_a_later_file_replaces_an_earlier_one_for_the_same_probe(plan: Plan) -> None:
    old = result_file([("SITE-db-to-app.1", "db1", "app1", APP, 8443, "filtered")], "old.json")
    new = result_file([("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open")], "new.json")
    matrix = merge(plan, [old, new])
    assert {f.flow.id: f.status for f in matrix.flows}["SITE-db-to-app.1"] == "passed"
    assert "SITE-db-to-app.1 port 8443 from db1: new.json replaces old.json" in matrix.warnings


def test_results_of_another_plan_are_refused(plan: Plan) -> None:
    other = result_file(
        [("XM-APP-01.1", "xms1", "sf1", "10.10.20.21", 443, "open")],
        site="XenMobile reference deployment",
    )
    with pytest.raises(UserError, match="none of the results is about a flow of this plan"):
        merge(plan, [other])


def test_unknown_flows_beside_known_ones_are_a_warning(plan: Plan) -> None:
    files = [
        result_file(
            [
                ("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open"),
                ("SITE-gone.1", "db1", "app1", APP, 1, "open"),
            ]
        )
    ]
    matrix = merge(plan, files)
    assert "results for 1 flow(s) the plan does not have: SITE-gone.1" in matrix.warnings


def _flow_from_two_sources(tmp_path: Path) -> Plan:
    site = write_site(tmp_path, APP, DB, "127.0.0.0/24", web="127.0.0.4")
    text = site.read_text().replace(
        "  - {name: web-to-app, source: web1, destination: app1, ports: [8443]}",
        "  - {name: servers-to-db, source: app-server, destination: db1, ports: [5432]}",
    )
    site.write_text(text)
    return load_plan(site)


def test_several_source_hosts_pass_only_together(tmp_path: Path) -> None:
    plan = _flow_from_two_sources(tmp_path)
    flow_id = "SITE-servers-to-db.1"
    assert [h.name for h in plan.flow(flow_id).source.hosts] == ["app1", "web1"]
    one = result_file([(flow_id, "app1", "db1", DB, 5432, "open")])
    assert statuses(plan, one)[flow_id] == "incomplete"
    both = result_file(
        [(flow_id, "app1", "db1", DB, 5432, "open"), (flow_id, "web1", "db1", DB, 5432, "open")]
    )
    assert statuses(plan, both)[flow_id] == "passed"
    split = result_file(
        [(flow_id, "app1", "db1", DB, 5432, "open"), (flow_id, "web1", "db1", DB, 5432, "closed")]
    )
    matrix = merge(plan, [split])
    flow = next(f for f in matrix.flows if f.flow.id == flow_id)
    assert flow.status == "failed"
    assert [(h, e.port) for h, e in flow.failures] == [("web1", 5432)]


def test_the_source_host_itself_as_destination_does_not_count(plan: Plan) -> None:
    flow = plan.flow("SITE-db-to-app.1")
    own = ProbeLine(
        "f.json",
        flow.id,
        "db1",
        "db1",
        None,
        8443,
        "not_probed",
        "the destination is the source host itself",
        None,
        (),
    )
    merged = merge_flow(flow, ("db1",), [own])
    assert merged.checks[0].ports[0].status == "not_applicable"
    # nothing was tested: the flow is not passed for it, and the reason says why
    assert merged.status == "not_tested"
    assert merged.reason == "tcp/8443 from db1: the destination is the host itself"


def test_obsolete_flows_fail_without_failing_the_run(tmp_path: Path) -> None:
    from dataclasses import replace

    plan = load_plan(write_site(tmp_path, APP, DB, "127.0.0.0/24"))
    flows = tuple(
        replace(f, status="obsolete") if f.id == "SITE-db-to-app.1" else f for f in plan.flows
    )
    plan = replace(plan, flows=flows)
    matrix = merge(
        plan, [result_file([("SITE-db-to-app.1", "db1", "app1", APP, 8443, "filtered")])]
    )
    flow = next(f for f in matrix.flows if f.flow.id == "SITE-db-to-app.1")
    assert flow.status == "failed" and not flow.required
    assert matrix.exit_code is ExitCode.OK


STATES = ["open", "closed", "filtered", "unreachable", "open|filtered", "not_probed", "error"]


@given(st.lists(st.tuples(st.sampled_from([5432, 5433]), st.sampled_from(STATES)), max_size=6))
def test_status_rules_hold_for_any_results(plan: Plan, rows: list[tuple[int, str]]) -> None:
    flow = plan.flow("SITE-app-to-db.1")
    evidence = [
        ProbeLine("f.json", flow.id, "app1", "db1", DB, p, s, "", None, ()) for p, s in rows
    ]
    merged = merge_flow(flow, ("app1",), evidence)
    states = {s for _, s in rows}
    # one address: per port, an open answer proves it, open|filtered leaves it open to
    # doubt, and not_probed is no answer at all
    per_port = [{s for q, s in rows if q == port} for port in (5432, 5433)]
    ports = [
        "proven" if "open" in said else "depends" if "open|filtered" in said else "not-tested"
        for said in per_port
    ]
    if states & {"closed", "filtered", "unreachable", "error"}:
        assert merged.status == "failed"
    elif ports == ["proven", "proven"]:
        assert merged.status == "passed"
    elif ports == ["not-tested", "not-tested"]:
        assert merged.status == "not_tested"
    else:
        assert merged.status == "incomplete"


def test_the_runs_own_warnings_are_kept(plan: Plan) -> None:
    from dataclasses import replace

    warned = replace(
        result_file([("SITE-db-to-app.1", "db1", "app1", APP, 8443, "open")], "db1.json"),
        warnings=("no address of host db1 in the plan is on this host",),
    )
    matrix = merge(plan, [warned])
    assert matrix.warnings[0] == "db1.json: no address of host db1 in the plan is on this host"
