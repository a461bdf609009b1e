"""The report's summary per user journey: the journey's flows judged by the report's own
statuses (``status.flow_status`` over its required flows), and what blocks it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowmatrix.evidence import flow_status
from flowmatrix.i18n import _
from flowmatrix.journeys import flow_required, plan_journeys
from flowmatrix.model import Plan
from flowmatrix.report.status import Status
from flowmatrix.report.view import FlowRow


@dataclass(frozen=True, slots=True)
class JourneyRow:
    """One journey of the plan: its status, its flows, the failing ones with their path."""

    id: str
    name: str
    status: Status
    rows: tuple[FlowRow, ...]
    blocking: tuple[str, ...]
    """``XM-DEV-11.1 tcp/8443 at fw-front`` for each failing required flow."""


def _blocking(row: FlowRow) -> str:
    flow = row.flow
    ports = [str(port) for port, status in row.check.ports if status == "failing"]
    what = f"{flow.id} {flow.protocol}/{','.join(ports) or flow.ports.text(',')}"
    if not flow.firewalls:
        return what
    return _("{flow} at {firewalls}").format(flow=what, firewalls=", ".join(flow.firewalls))


def journey_rows(plan: Plan, rows: Sequence[FlowRow]) -> tuple[JourneyRow, ...]:
    """Every journey that has flows in the plan, judged from the rows' statuses."""
    by_flow = {row.flow.id: row for row in rows}
    found = []
    for journey in plan_journeys(plan):
        mine = tuple(by_flow[f.id] for f in journey.flows if f.id in by_flow)
        if not mine:
            continue
        judged = [r for r in mine if flow_required(r.flow)] or list(mine)
        blocking = tuple(_blocking(r) for r in judged if r.status == "failing")
        status = flow_status(r.status for r in judged)
        found.append(JourneyRow(journey.id, journey.name, status, mine, blocking))
    return tuple(found)
