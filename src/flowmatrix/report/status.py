"""What the checks say about each flow: proven, failing, depends, or not tested.

Evidence comes from ``verify`` (live probes, per destination address and port),
``audit`` (a ruleset against the plan) and ``lab`` (the plan rehearsed in namespaces).
How it combines, per port first, then per flow:

- A piece of evidence that says "not tested" is no evidence: it is ignored when any
  other piece speaks about the same port.
- An audit reads one firewall's ruleset: its "allowed" proves a port only when the
  audits of every firewall on the flow's path allow it; until then it counts as depends.
- Per port: failing if any evidence fails (a contradiction must show), else proven if
  any evidence proves the path, else depends (conditional or inconclusive), else not
  tested.
- Per flow: proven when every port is proven, failing when any port fails, not tested
  when no port was tested, depends otherwise (conditional, or only partly proven).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from flowmatrix.model import Flow

Status = Literal["proven", "failing", "depends", "not-tested"]
ResultKind = Literal["verify", "audit", "lab"]

#: Worst first: the order used to sort by status and to pick a diagram edge's colour.
STATUSES: tuple[Status, ...] = ("failing", "depends", "not-tested", "proven")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One result line about one flow, mapped to a status."""

    kind: ResultKind
    status: Status
    port: int | None
    """The port it is about; None when it speaks for every port of the flow."""
    detail: str
    """What the result said, in its own words (state and reason, verdict and rule...)."""
    file: str
    covers: tuple[str, ...] | None = None
    """The firewalls whose rules it judged (an audit); None: the whole path (a live test)."""


@dataclass(frozen=True, slots=True)
class FlowCheck:
    """The combined status of one flow, per port and overall, with its evidence."""

    status: Status
    ports: tuple[tuple[int, Status], ...]
    evidence: tuple[Evidence, ...] = ()

    def port_status(self, port: int) -> Status:
        for number, status in self.ports:
            if number == port:
                return status
        return "not-tested"

    def details(self, port: int | None = None) -> list[str]:
        """Evidence lines (``kind: detail``), for one port or for all."""
        return [
            f"{e.kind}: {e.detail}"
            for e in self.evidence
            if port is None or e.port is None or e.port == port
        ]


def port_status(evidence: Iterable[Evidence], path: tuple[str, ...] = ()) -> Status:
    """The status of one port of a flow whose path crosses the firewalls ``path``."""
    items = list(evidence)
    covered: set[str] = set()
    for e in items:
        if e.status == "proven" and e.covers is not None:
            covered.update(e.covers)
    whole_path = set(path) <= covered
    found = {
        "depends" if e.status == "proven" and e.covers is not None and not whole_path else e.status
        for e in items
    }
    order: tuple[Status, ...] = ("failing", "proven", "depends")
    for status in order:
        if status in found:
            return status
    return "not-tested"


def flow_status(port_statuses: Iterable[Status]) -> Status:
    found = set(port_statuses)
    if not found or found == {"not-tested"}:
        return "not-tested"
    if "failing" in found:
        return "failing"
    if found == {"proven"}:
        return "proven"
    return "depends"


def combine(flow: Flow, evidence: Iterable[Evidence]) -> FlowCheck:
    """The check of ``flow`` from every piece of evidence about it."""
    items = tuple(evidence)
    per_port = tuple(
        (port, port_status((e for e in items if e.port is None or e.port == port), flow.firewalls))
        for port in flow.ports
    )
    return FlowCheck(flow_status(s for _, s in per_port), per_port, items)


@dataclass(frozen=True)
class ResultFile:
    """A results file that was read: its path, its kind and how many lines it had."""

    path: str
    kind: ResultKind
    records: int
    ignored: int = 0
    """Lines without a usable flow id or status."""


@dataclass(frozen=True)
class Checks:
    """The checks of every flow of a plan (flows without evidence are not tested)."""

    by_flow: Mapping[str, FlowCheck] = field(default_factory=dict)
    files: tuple[ResultFile, ...] = ()
    unmatched: tuple[str, ...] = ()
    """Flow ids found in results but not in the plan (another site or an older plan)."""

    def of(self, flow: Flow) -> FlowCheck:
        check = self.by_flow.get(flow.id)
        if check is not None:
            return check
        return FlowCheck("not-tested", tuple((p, "not-tested") for p in flow.ports))
