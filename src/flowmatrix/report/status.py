"""What the checks say about each flow of a plan: proven, failing, depends, or not tested.

The checks come from ``verify``, ``listen``, ``lab``, ``audit`` and ``merge`` documents
(``report/result_files.py``) or from the caller; the scale and the rules that combine them
are ``flowmatrix.evidence``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from flowmatrix.evidence import STATUSES, Check, Kind, flow_status, port_status
from flowmatrix.evidence import Scale as Status
from flowmatrix.model import Flow

__all__ = ["STATUSES", "Check", "Checks", "FlowCheck", "ResultFile", "Status", "combine"]


@dataclass(frozen=True, slots=True)
class FlowCheck:
    """The combined status of one flow, per port and overall, with its evidence."""

    status: Status
    ports: tuple[tuple[int, Status], ...]
    evidence: tuple[Check, ...] = ()

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

    def facts(self, port: int | None = None) -> list[tuple[str, list[tuple[str, int]]]]:
        """What the evidence says, each fact once: per kind (in order of first word), its
        distinct details with how many checks said each (several hosts, several runs)."""
        found: dict[str, dict[str, int]] = {}
        for e in self.evidence:
            if port is None or e.port is None or e.port == port:
                said = found.setdefault(e.kind, {})
                said[e.detail] = said.get(e.detail, 0) + 1
        return [(kind, list(details.items())) for kind, details in found.items()]


def combine(flow: Flow, evidence: Iterable[Check], sources: Sequence[str] = ()) -> FlowCheck:
    """The check of ``flow`` from every piece of evidence about it; ``sources``: the
    flow's source hosts a live check may come from (``Plan.probe_sources``)."""
    items = tuple(evidence)
    per_port = tuple(
        (
            port,
            port_status(
                (e for e in items if e.port is None or e.port == port), flow.firewalls, sources
            ),
        )
        for port in flow.ports
    )
    return FlowCheck(flow_status(s for _, s in per_port), per_port, items)


@dataclass(frozen=True)
class ResultFile:
    """A results file that was read: its path, its kind and how many lines it had."""

    path: str
    kind: Kind
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
