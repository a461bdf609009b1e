"""User journeys: what users do, as the flows of a plan each one needs, and whether it works.

The catalog groups requirements into journeys ("an iOS device enrols from the Internet");
``plan_journeys`` finds each journey's flows in a plan (and the firewalls they cross),
``journey_verdicts`` judges each journey from probe results: a journey is up when all its
required flows are (obsolete and legacy flows are shown, never required).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from flowmatrix.catalog_view import Journey, JourneyStep
from flowmatrix.i18n import Lang, _, language, pgettext
from flowmatrix.model import NOT_REQUIRED, Flow, Plan

if TYPE_CHECKING:
    from flowmatrix.audit.result import AuditReport
    from flowmatrix.lab.session import CaseResult
    from flowmatrix.probe.results import ProbeResult

JourneyState = Literal["up", "blocked", "unproven", "absent"]
#: Each state as the summaries write it (translated where shown).
STATE_WORDS: dict[JourneyState, Callable[[], str]] = {
    "up": lambda: pgettext("journey", "up"),
    "blocked": lambda: pgettext("journey", "blocked"),
    "unproven": lambda: pgettext("journey", "not proven"),
    "absent": lambda: pgettext("journey", "not probed from here"),
}


@dataclass(frozen=True, slots=True)
class JourneyFlows:
    """One journey of the catalog and the flows of the plan it needs."""

    id: str
    name: str
    """In the plan's language."""
    flows: tuple[Flow, ...]

    @property
    def firewalls(self) -> tuple[str, ...]:
        """Every firewall the journey's flows cross, in order of first appearance."""
        return tuple(dict.fromkeys(fw for flow in self.flows for fw in flow.firewalls))

    @property
    def flow_ids(self) -> frozenset[str]:
        return frozenset(flow.id for flow in self.flows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "firewalls": list(self.firewalls),
            "flows": [
                {
                    "flow": flow.id,
                    "requirement": flow.requirement,
                    "required": flow_required(flow),
                    "source": flow.source.role,
                    "destination": flow.destination.role,
                    "protocol": flow.protocol,
                    "ports": list(flow.ports),
                    "firewalls": list(flow.firewalls),
                }
                for flow in self.flows
            ],
        }


@dataclass(frozen=True, slots=True)
class JourneyVerdict:
    """How one journey fared in a run: its state and the flows that block it."""

    id: str
    name: str
    state: JourneyState
    blocking: tuple[str, ...] = ()
    """``XM-DEV-11.1 tcp/8443 at fw-front`` for each failed required result."""

    @property
    def up(self) -> bool:
        return self.state == "up"

    def summary(self, lang: Lang = "en") -> str:
        """``An iOS device enrols from the Internet: blocked, XM-DEV-11.1 tcp/8443 at fw-front``."""
        with language(lang):
            text = _("{journey}: {state}").format(
                journey=self.name, state=STATE_WORDS[self.state]()
            )
            blocking = pgettext("list separator", "; ").join(self.blocking)
        return f"{text}, {blocking}" if self.blocking else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "blocking": list(self.blocking),
        }


def flow_required(flow: Flow) -> bool:
    """Whether a journey needs this flow (obsolete and legacy flows are not required)."""
    return flow.status not in NOT_REQUIRED


def _serves(step: JourneyStep, flow: Flow) -> bool:
    return flow.requirement == step.requirement and (
        not step.sources or flow.source.role in step.sources
    )


def _journey_flows(
    journey: Journey, by_requirement: Mapping[str, Sequence[tuple[int, Flow]]], lang: Lang
) -> JourneyFlows:
    """The flows a journey needs, in the plan's order: those of its steps' requirements
    (``by_requirement``: each plan flow with its place, by requirement) that serve a step."""
    chosen = {
        place: flow
        for step in journey.steps
        for place, flow in by_requirement.get(step.requirement, ())
        if _serves(step, flow)
    }
    return JourneyFlows(
        journey.id, journey.name.get(lang), tuple(chosen[p] for p in sorted(chosen))
    )


def plan_journeys(plan: Plan) -> tuple[JourneyFlows, ...]:
    """Every journey of the plan's catalog, with the plan's flows it needs (maybe none);
    the flows are looked up by requirement, not each journey's steps against every flow."""
    by_requirement: dict[str, list[tuple[int, Flow]]] = {}
    for place, flow in enumerate(plan.flows):
        by_requirement.setdefault(flow.requirement, []).append((place, flow))
    return tuple(_journey_flows(j, by_requirement, plan.lang) for j in plan.catalog.journeys)


def proven(result: ProbeResult) -> bool:
    """The last probe proved the flow: open, and without a finding."""
    return result.state == "open" and not result.failed


Outcome = Literal["up", "failed", "unproven"]


@dataclass(frozen=True, slots=True)
class FlowOutcome:
    """What one check (a probe, a lab case) showed of one flow, whatever ran it."""

    flow: str
    required: bool
    outcome: Outcome
    what: str
    """``XM-DEV-11.1 tcp/8443 to 10.10.20.11``: the flow, its port and where it went."""
    at: str | None = None
    """Where it failed, when the check knows (one audited firewall); None: the firewalls
    of the flow's whole path."""


def probe_outcome(result: ProbeResult) -> FlowOutcome:
    """A verify (or watch) result as a flow outcome."""
    port = f"{result.protocol}/{result.port}" if result.port is not None else result.protocol
    what = f"{result.flow} {port}"
    if result.address:
        what = _("{flow} to {address}").format(flow=what, address=result.address)
    outcome: Outcome = "up" if proven(result) else "failed" if result.failed else "unproven"
    return FlowOutcome(result.flow, result.required, outcome, what)


def lab_outcomes(results: Iterable[CaseResult]) -> list[FlowOutcome]:
    """The lab's planned cases as flow outcomes (its unplanned cases prove no journey)."""
    found = []
    for result in results:
        case = result.case
        if case.variant != "planned":
            continue
        what = _("{flow} to {address}").format(
            flow=f"{case.flow} {case.protocol}/{case.port}", address=case.destination_address
        )
        outcome: Outcome = "up" if result.verdict == "pass" else "failed"
        found.append(FlowOutcome(case.flow, case.required, outcome, what))
    return found


def audit_outcomes(
    report: AuditReport, plan: Plan, flows: Container[str] | None = None
) -> list[FlowOutcome]:
    """An audit's flow ports (those of ``flows`` when given) as flow outcomes: blocked
    (wholly or partly) by the audited firewall fails; allowed proves the flow only when
    that firewall is its whole path."""
    at = report.target.removeprefix("firewall ")
    paths = {flow.id: flow.firewalls for flow in plan.flows}
    found = []
    for result in report.flows:
        if flows is not None and result.flow_id not in flows:
            continue
        what = f"{result.flow_id} {result.protocol}/{result.port}"
        outcome: Outcome = "unproven"
        if result.status in ("blocked", "partial"):
            outcome = "failed"
        elif result.status == "allowed" and paths.get(result.flow_id) == (at,):
            outcome = "up"
        found.append(FlowOutcome(result.flow_id, result.required, outcome, what, at))
    return found


def _where(outcome: FlowOutcome, flows: dict[str, Flow]) -> str:
    flow = flows.get(outcome.flow)
    firewalls = ", ".join(flow.firewalls) if flow is not None and flow.firewalls else ""
    firewalls = outcome.at if outcome.at is not None else firewalls
    if firewalls:
        return _("{flow} at {firewalls}").format(flow=outcome.what, firewalls=firewalls)
    return _("{flow} (no firewall on the path)").format(flow=outcome.what)


def _verdict(journey: JourneyFlows, mine: Sequence[FlowOutcome]) -> JourneyVerdict:
    """A journey judged from the outcomes of its own flows (``mine``, in their order)."""
    if not mine:
        return JourneyVerdict(journey.id, journey.name, "absent")
    judged = [o for o in mine if o.required] or mine
    flows = {f.id: f for f in journey.flows}
    blocking = tuple(_where(o, flows) for o in judged if o.outcome == "failed")
    if blocking:
        return JourneyVerdict(journey.id, journey.name, "blocked", blocking)
    state: JourneyState = "up" if all(o.outcome == "up" for o in judged) else "unproven"
    return JourneyVerdict(journey.id, journey.name, state)


def judge(
    journeys: Iterable[JourneyFlows], outcomes: Sequence[FlowOutcome]
) -> tuple[JourneyVerdict, ...]:
    """Each journey judged from ``outcomes`` (those of other flows are ignored); the
    outcomes are grouped by flow once, not scanned once per journey."""
    places: dict[str, list[int]] = {}
    for place, outcome in enumerate(outcomes):
        places.setdefault(outcome.flow, []).append(place)
    verdicts = []
    for journey in journeys:
        mine = sorted(p for flow in journey.flow_ids for p in places.get(flow, ()))
        verdicts.append(_verdict(journey, [outcomes[p] for p in mine]))
    return tuple(verdicts)


def journey_verdicts(
    journeys: Iterable[JourneyFlows], results: Sequence[ProbeResult]
) -> tuple[JourneyVerdict, ...]:
    """Each journey judged from probe ``results``."""
    return judge(journeys, [probe_outcome(r) for r in results])


def summaries(plan: Plan, outcomes: Sequence[FlowOutcome]) -> list[str]:
    """One line per journey that ``outcomes`` speak of, in the plan's language."""
    return _summaries(plan, plan_journeys(plan), outcomes)


def audit_summaries(report: AuditReport, plan: Plan) -> list[str]:
    """``summaries`` of an audit's outcomes: only those of the flows a journey needs are
    made (an audit of thousands of flow ports that no journey needs makes none)."""
    journeys = plan_journeys(plan)
    needed = frozenset(flow.id for journey in journeys for flow in journey.flows)
    return _summaries(plan, journeys, audit_outcomes(report, plan, needed))


def _summaries(
    plan: Plan, journeys: Iterable[JourneyFlows], outcomes: Sequence[FlowOutcome]
) -> list[str]:
    with language(plan.lang):
        verdicts = judge(journeys, outcomes)
    return [v.summary(plan.lang) for v in verdicts if v.state != "absent"]


def journey_summaries(plan: Plan, results: Sequence[ProbeResult]) -> list[str]:
    """One line per journey probed in ``results``, in the plan's language."""
    return summaries(plan, [probe_outcome(r) for r in results])
