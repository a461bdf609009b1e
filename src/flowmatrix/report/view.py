"""The report's view of a plan: rows, summary and requirement entries, computed once.

Every output format (HTML, XLSX, Markdown) reads this; none of them recomputes counts,
so the numbers agree across formats.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from flowmatrix.catalog_view import Requirement
from flowmatrix.i18n import Lang, pgettext
from flowmatrix.model import Flow, FlowEnd, Plan
from flowmatrix.report.status import STATUSES, Checks, FlowCheck, Status
from flowmatrix.site_view import SiteFlow

SITE_PREFIX = "SITE-"


def anchor(requirement_id: str) -> str:
    """The HTML id of a requirement's entry (ids and site flow names are already tame)."""
    return "req-" + re.sub(r"[^A-Za-z0-9_.-]", "-", requirement_id)


def flow_anchor(flow_id: str) -> str:
    return "flow-" + re.sub(r"[^A-Za-z0-9_.-]", "-", flow_id)


def end_hosts(end: FlowEnd) -> str:
    """Host names of a flow end (none when the end is a whole zone)."""
    return ", ".join(h.name for h in end.hosts)


def end_addresses(end: FlowEnd, any_text: str) -> str:
    if end.any_address:
        return any_text
    return ", ".join(end.addresses)


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One flow with its check and the texts every format shows."""

    flow: Flow
    check: FlowCheck
    source_hosts: str
    source_addresses: str
    destination_hosts: str
    destination_addresses: str
    destination_fqdns: str
    ports: str
    firewalls: str

    @property
    def status(self) -> Status:
        return self.check.status


@dataclass(frozen=True, slots=True)
class RequirementEntry:
    """A requirement the plan uses, or a site-specific flow, with the flows it made."""

    id: str
    anchor: str
    flows: tuple[str, ...]
    requirement: Requirement | None = None
    site_flow: SiteFlow | None = None


@dataclass(frozen=True, slots=True)
class FirewallStats:
    name: str | None
    """None for the flows that cross no firewall."""
    flows: int
    flow_ports: int
    counts: dict[Status, int]


@dataclass(frozen=True, slots=True)
class Summary:
    flows: int
    flow_ports: int
    counts: dict[Status, int]
    obsolete: tuple[RequirementEntry, ...]
    """Obsolete requirements that the plan still has flows for (e.g. binary APNs)."""
    legacy: tuple[RequirementEntry, ...]
    firewalls: tuple[FirewallStats, ...]
    left_out: tuple[tuple[str, str], ...]
    """(requirement, reasons) of the requirements the plan left out."""


@dataclass(frozen=True)
class ReportView:
    plan: Plan
    checks: Checks
    lang: Lang
    rows: tuple[FlowRow, ...]
    summary: Summary
    requirements: tuple[RequirementEntry, ...]
    site_flows: tuple[RequirementEntry, ...]

    @property
    def title(self) -> str:
        return self.plan.site.name


def build_view(plan: Plan, checks: Checks, any_text: str) -> ReportView:
    """Rows, summary and requirement entries of ``plan`` under ``checks``."""
    rows = tuple(_row(flow, checks.of(flow), any_text) for flow in plan.flows)
    by_requirement: dict[str, list[str]] = defaultdict(list)
    for flow in plan.flows:
        by_requirement[flow.requirement].append(flow.id)
    site_flows = {f"{SITE_PREFIX}{f.name}": f for f in plan.site.flows}
    requirements: list[RequirementEntry] = []
    specific: list[RequirementEntry] = []
    for req in plan.catalog.requirements:
        if req.id in by_requirement:
            requirements.append(
                RequirementEntry(req.id, anchor(req.id), tuple(by_requirement[req.id]), req)
            )
    for req_id, site_flow in site_flows.items():
        if req_id in by_requirement:
            specific.append(
                RequirementEntry(
                    req_id, anchor(req_id), tuple(by_requirement[req_id]), site_flow=site_flow
                )
            )
    summary = _summary(plan, rows, requirements)
    return ReportView(plan, checks, plan.lang, rows, summary, tuple(requirements), tuple(specific))


def _row(flow: Flow, check: FlowCheck, any_text: str) -> FlowRow:
    return FlowRow(
        flow=flow,
        check=check,
        source_hosts=end_hosts(flow.source),
        source_addresses=end_addresses(flow.source, any_text),
        destination_hosts=end_hosts(flow.destination),
        destination_addresses=end_addresses(flow.destination, any_text),
        destination_fqdns=", ".join(flow.destination.fqdns),
        ports=flow.ports.text(),
        firewalls=" > ".join(flow.firewalls),
    )


def _counts(statuses: list[Status]) -> dict[Status, int]:
    found = Counter(statuses)
    return {status: found[status] for status in STATUSES}


def _summary(
    plan: Plan, rows: tuple[FlowRow, ...], requirements: list[RequirementEntry]
) -> Summary:
    per_firewall: dict[str | None, list[FlowRow]] = {f.name: [] for f in plan.site.firewalls}
    per_firewall[None] = []
    for row in rows:
        for name in row.flow.firewalls or (None,):
            per_firewall.setdefault(name, []).append(row)
    firewalls = tuple(
        FirewallStats(
            name,
            len(items),
            sum(len(r.flow.ports) for r in items),
            _counts([r.status for r in items]),
        )
        for name, items in per_firewall.items()
        if items or name is not None
    )
    left_out: dict[str, list[str]] = defaultdict(list)
    for skipped in plan.skipped:
        left_out[skipped.requirement].append(skipped.reason)
    return Summary(
        flows=len(rows),
        flow_ports=sum(len(r.flow.ports) for r in rows),
        counts=_counts([r.status for r in rows]),
        obsolete=tuple(
            e for e in requirements if e.requirement and e.requirement.status == "obsolete"
        ),
        legacy=tuple(e for e in requirements if e.requirement and e.requirement.status == "legacy"),
        firewalls=firewalls,
        left_out=tuple(
            (req, pgettext("list", "; ").join(reasons)) for req, reasons in left_out.items()
        ),
    )
