"""User journeys: the catalog's, the flows a plan gives each, and the verdict of a run."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from flowmatrix.api import load_plan
from flowmatrix.catalog import Catalog, load_catalog
from flowmatrix.journeys import (
    FlowOutcome,
    JourneyFlows,
    JourneyVerdict,
    _verdict,
    journey_verdicts,
    judge,
    plan_journeys,
)
from flowmatrix.model import Plan
from flowmatrix.probe.results import ProbeResult

ISSUE_JOURNEYS = {
    "ios-enrolment-internet",
    "android-enrolment-wifi",
    "published-app-gateway",
    "admin-console",
    "cluster-nodes",
    "push-notifications",
    "user-logon",
    "discovery-service",
    "support-bundles-logs",
}


def _result(flow: str, requirement: str, state: str, port: int = 8443) -> ProbeResult:
    return ProbeResult(
        flow=flow,
        requirement=requirement,
        required=True,
        source_role="internet",
        source_host=None,
        source_address=None,
        destination_role="xenmobile",
        destination_host="xms1",
        fqdn=None,
        address="10.0.20.10",
        port=port,
        protocol="tcp",
        service=None,
        state=state,  # type: ignore[arg-type]
        reason="test",
    )


def test_the_catalog_has_the_nine_journeys_in_both_languages() -> None:
    journeys = load_catalog().journeys
    assert {j.id for j in journeys} == ISSUE_JOURNEYS
    for journey in journeys:
        assert journey.name.fr and journey.name.en and journey.name.fr != journey.name.en


def test_a_journey_naming_an_unknown_requirement_is_refused() -> None:
    raw = load_catalog().model_dump(mode="json")
    raw["journeys"][0]["steps"].append({"requirement": "XM-NOPE-01"})
    with pytest.raises(ValidationError, match="unknown requirement 'XM-NOPE-01'"):
        Catalog.model_validate(raw)
    raw = load_catalog().model_dump(mode="json")
    raw["journeys"][0]["steps"] = [{"requirement": "XM-APP-10", "sources": ["xenmobile"]}]
    with pytest.raises(ValidationError, match="'xenmobile' is not a source of XM-APP-10"):
        Catalog.model_validate(raw)


def test_journeys_take_the_plan_flows_of_their_sources_only() -> None:
    plan = load_plan(None)
    by_id = {j.id: j for j in plan_journeys(plan)}
    ios = by_id["ios-enrolment-internet"]
    assert {f.requirement for f in ios.flows} == {"XM-APP-10", "XM-DEV-11", "XM-APP-24"}
    assert {f.source.role for f in ios.flows} == {"internet"}
    assert "fw-front" in ios.firewalls
    android = by_id["android-enrolment-wifi"]
    assert {f.source.role for f in android.flows} == {"devices-lan"}


def test_a_failed_required_flow_blocks_its_journey_and_names_the_firewall() -> None:
    plan = load_plan(None)
    ios = next(j for j in plan_journeys(plan) if j.id == "ios-enrolment-internet")
    results = [_result(f.id, f.requirement, "open", f.ports[0]) for f in ios.flows]
    (verdict,) = journey_verdicts([ios], results)
    assert verdict.state == "up"
    dev11 = next(f for f in ios.flows if f.requirement == "XM-DEV-11")
    results = [replace(r, state="filtered") if r.flow == dev11.id else r for r in results]
    (verdict,) = journey_verdicts([ios], results)
    assert verdict.state == "blocked"
    assert verdict.summary() == (
        f"An iOS device enrols from the Internet: blocked, {dev11.id} tcp/8443 to 10.0.20.10"
        f" at {', '.join(dev11.firewalls)}"
    )
    assert "fw-front" in verdict.summary()
    french = next(j for j in plan_journeys(load_plan(None, lang="fr")) if j.id == ios.id)
    (verdict,) = journey_verdicts([french], results)
    assert verdict.summary("fr").startswith("Un appareil iOS s'inscrit depuis Internet : bloqué")


def test_inconclusive_results_leave_a_journey_unproven_and_no_result_absent() -> None:
    plan = load_plan(None)
    ios = next(j for j in plan_journeys(plan) if j.id == "ios-enrolment-internet")
    flow = ios.flows[0]
    (verdict,) = journey_verdicts([ios], [_result(flow.id, flow.requirement, "open|filtered")])
    assert verdict.state == "unproven"
    (verdict,) = journey_verdicts([ios], [_result("SITE-x.1", "SITE-x", "closed")])
    assert verdict.state == "absent"


def test_the_journeys_command_lists_flows_and_firewalls(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("journeys", "--format", "json")
    assert result.code == 0, result
    document = json.loads(result.stdout)
    ios = next(j for j in document["journeys"] if j["id"] == "ios-enrolment-internet")
    assert "fw-front" in ios["firewalls"]
    assert all(f["source"] == "internet" for f in ios["flows"])
    table = run_cli("journeys", "--lang", "fr")
    assert table.code == 0, table
    assert "Un appareil iOS s'inscrit depuis Internet" in table.stdout
    assert "aucun flux dans ce site" in table.stdout


def test_an_obsolete_flow_that_fails_does_not_block_its_journey() -> None:
    plan = load_plan(None)
    push = next(j for j in plan_journeys(plan) if j.id == "push-notifications")
    obsolete = {f.id for f in push.flows if f.status == "obsolete"}
    assert obsolete  # binary APNs, 2195 and 2196
    results = [
        replace(
            _result(f.id, f.requirement, "filtered" if f.id in obsolete else "open", f.ports[0]),
            required=f.id not in obsolete,
        )
        for f in push.flows
    ]
    (verdict,) = journey_verdicts([push], results)
    assert verdict.state == "up"


EXAMPLES = [None, "example:enterprise-dual-stack", "example:hospital", "example:small-office"]
PLANS: dict[str | None, Plan] = {}


def _plan(site: str | None) -> Plan:
    if site not in PLANS:
        PLANS[site] = load_plan(site)
    return PLANS[site]


@pytest.mark.parametrize("site", EXAMPLES)
def test_a_journey_s_flows_are_those_a_step_serves_in_the_plan_s_order(site: str | None) -> None:
    plan = _plan(site)
    for journey, found in zip(plan.catalog.journeys, plan_journeys(plan), strict=True):
        served = tuple(
            flow
            for flow in plan.flows
            if any(
                flow.requirement == step.requirement
                and (not step.sources or flow.source.role in step.sources)
                for step in journey.steps
            )
        )
        assert found.flows == served


def _judged_one_by_one(
    journeys: list[JourneyFlows], outcomes: list[FlowOutcome]
) -> tuple[JourneyVerdict, ...]:
    """Each journey judged from the outcomes of its flows, found by scanning them all."""
    return tuple(
        _verdict(journey, [o for o in outcomes if o.flow in journey.flow_ids])
        for journey in journeys
    )


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_judging_from_outcomes_grouped_by_flow_is_judging_from_all(data: st.DataObject) -> None:
    plan = _plan(data.draw(st.sampled_from(EXAMPLES)))
    journeys = list(plan_journeys(plan))
    flows = [flow.id for journey in journeys for flow in journey.flows] + ["SITE-none.1"]
    outcome = st.builds(
        FlowOutcome,
        st.sampled_from(flows),
        st.booleans(),
        st.sampled_from(["up", "failed", "unproven"]),
        st.sampled_from(["a tcp/443", "b udp/53"]),
        st.none() | st.just("fw-front"),
    )
    outcomes = data.draw(st.lists(outcome, max_size=40))
    assert judge(journeys, outcomes) == _judged_one_by_one(journeys, outcomes)
