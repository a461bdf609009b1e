"""Many hosts' verify results -> one status per planned flow.

The rules, in order:

* a probe result passes when its state is ``open`` with no finding; it fails in the
  failed states of ``verify`` (closed, filtered, unreachable, unresolved, error) or with
  a finding (expired certificate...); anything else (``open|filtered``, ``not_probed``)
  is inconclusive. A result whose destination is its own source host does not apply.
* a port, from one source host, passes when every applicable result for it passed.
* a flow **passed** only when every port passed from every one of its source hosts;
  **failed** as soon as one result failed (the failures say which host and port);
  **not_tested** when no result at all came back for it; **incomplete** otherwise
  (some source host or port untested, or only inconclusive answers).

A flow is never "passed" for lack of evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from flowmatrix.errors import ExitCode, UserError
from flowmatrix.evidence import STATUS_OF, Check, probe_status
from flowmatrix.fleet.resultfile import ProbeLine, ResultDocument
from flowmatrix.fleet.sources import tested_sources
from flowmatrix.model import Flow, Plan
from flowmatrix.probe.targets import NOT_REQUIRED

FlowStatus = Literal["passed", "failed", "incomplete", "not_tested"]
PortStatus = Literal["passed", "failed", "inconclusive", "not_tested", "not_applicable"]
FLOW_STATUSES: tuple[FlowStatus, ...] = ("passed", "failed", "incomplete", "not_tested")


def verdict(evidence: ProbeLine) -> Literal["passed", "failed", "inconclusive"]:
    """A probe result's verdict here: its status on the scale of every check."""
    status = probe_status(evidence.state, bool(evidence.findings))
    return "failed" if status == "failing" else "passed" if status == "proven" else "inconclusive"


@dataclass(frozen=True, slots=True)
class PortCheck:
    """One port of a flow, from one source host."""

    port: int
    status: PortStatus
    results: tuple[ProbeLine, ...]


@dataclass(frozen=True, slots=True)
class SourceCheck:
    """A flow as seen from one of its source hosts."""

    host: str
    status: FlowStatus
    ports: tuple[PortCheck, ...]


@dataclass(frozen=True, slots=True)
class FlowResult:
    """The merged status of one planned flow."""

    flow: Flow
    required: bool
    status: FlowStatus
    reason: str
    checks: tuple[SourceCheck, ...]

    def as_checks(self) -> list[Check]:
        """What the merge says on the scale of every check: one per source host and port
        (the probe states in the detail), or one for the flow when no host tested it."""
        found = [
            Check(
                self.flow.id,
                port.port,
                STATUS_OF["merge"][port.status],
                "merge",
                _port_detail(check.host, port),
                check.host,
            )
            for check in self.checks
            for port in check.ports
            if port.status != "not_tested"
        ]
        if not found:
            detail = f"{self.status} ({self.reason})" if self.reason else self.status
            found.append(
                Check(self.flow.id, None, STATUS_OF["merge"][self.status], "merge", detail)
            )
        return found

    @property
    def failures(self) -> tuple[tuple[str, ProbeLine], ...]:
        """(source host, failed result) pairs."""
        return tuple(
            (check.host, e)
            for check in self.checks
            for port in check.ports
            for e in port.results
            if verdict(e) == "failed"
        )


@dataclass(frozen=True)
class Matrix:
    plan: Plan
    flows: tuple[FlowResult, ...]
    inputs: tuple[ResultDocument, ...]
    warnings: tuple[str, ...]
    carried: tuple[Check, ...] = ()
    """The checks of the listen, audit and lab documents among the inputs (about flows
    of the plan), carried along for ``report``."""

    def checks(self) -> list[Check]:
        """Every check of the matrix: the merged verify results', then the carried ones."""
        return [c for f in self.flows for c in f.as_checks()] + list(self.carried)

    def count(self, status: FlowStatus) -> int:
        return sum(1 for f in self.flows if f.status == status)

    @property
    def failed_required(self) -> int:
        return sum(1 for f in self.flows if f.status == "failed" and f.required)

    @property
    def exit_code(self) -> ExitCode:
        """1 when a required flow failed (obsolete / legacy flows are expected to fail)."""
        return ExitCode.FINDINGS if self.failed_required else ExitCode.OK


def _port_detail(host: str, port: PortCheck) -> str:
    """``app1 -> 5432 failed (filtered)``: the host, the port and what its probes said."""
    states = ", ".join(dict.fromkeys(e.state for e in port.results))
    return f"{host} -> {port.port} {port.status}" + (f" ({states})" if states else "")


def _port_check(port: int, results: Sequence[ProbeLine], host: str) -> PortCheck:
    applicable = [e for e in results if e.destination_host != host]
    if not results:
        return PortCheck(port, "not_tested", ())
    if not applicable:
        return PortCheck(port, "not_applicable", tuple(results))
    verdicts = {verdict(e) for e in applicable}
    if "failed" in verdicts:
        status: PortStatus = "failed"
    elif verdicts == {"passed"}:
        status = "passed"
    else:
        status = "inconclusive"
    return PortCheck(port, status, tuple(results))


def _source_status(ports: Sequence[PortCheck]) -> FlowStatus:
    statuses = {p.status for p in ports}
    if "failed" in statuses:
        return "failed"
    if statuses <= {"not_tested"}:
        return "not_tested"
    if statuses <= {"passed", "not_applicable"}:
        return "passed"  # a port whose only destination is this host itself does not apply
    return "incomplete"


def _where(host: str, evidence: ProbeLine, protocol: str) -> str:
    target = evidence.address or evidence.destination_host or "?"
    return f"{protocol}/{evidence.port} from {host} to {target}"


def _flow_reason(
    flow: Flow,
    status: FlowStatus,
    checks: Sequence[SourceCheck],
    failures: Sequence[tuple[str, ProbeLine]],
) -> str:
    if status == "failed":
        host, first = failures[0]
        more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
        return (
            f"{_where(host, first, flow.protocol)}: {first.state}: "
            f"{first.findings[0] if first.findings else first.reason}{more}"
        )
    if status == "passed":
        return f"all {len(flow.ports)} port(s) open from " + ", ".join(c.host for c in checks)
    missing = [c.host for c in checks if c.status == "not_tested"]
    if status == "not_tested":
        return "no results from " + ", ".join(missing)
    parts = []
    if missing:
        parts.append("no results from " + ", ".join(missing))
    for check in checks:
        for port in check.ports:
            if port.status == "not_tested" and check.status != "not_tested":
                parts.append(f"{flow.protocol}/{port.port} not tested from {check.host}")
            elif port.status == "inconclusive":
                states = sorted({e.state for e in port.results if verdict(e) != "passed"})
                parts.append(f"{flow.protocol}/{port.port} from {check.host}: {', '.join(states)}")
    return "; ".join(parts)


def _untestable_reason(flow: Flow) -> str:
    end = flow.source
    if end.any_address:
        return f"the source is any address in zone {end.zone}: no host to run a probe on"
    names = ", ".join(h.name for h in end.hosts) or end.role
    return f"the source ({names}) is not a host of the site: no host to run a probe on"


def merge_flow(flow: Flow, sources: Sequence[str], evidence: Sequence[ProbeLine]) -> FlowResult:
    """The status of ``flow`` from the results of its ``sources`` (its site source hosts)."""
    required = flow.status not in NOT_REQUIRED
    if not sources:
        return FlowResult(flow, required, "not_tested", _untestable_reason(flow), ())
    grouped: dict[tuple[str | None, int | None], list[ProbeLine]] = {}
    for item in evidence:
        grouped.setdefault((item.source_host, item.port), []).append(item)
    checks = []
    for host in sources:
        ports = tuple(_port_check(p, grouped.get((host, p), ()), host) for p in flow.ports)
        checks.append(SourceCheck(host, _source_status(ports), ports))
    statuses = {c.status for c in checks}
    status: FlowStatus
    if "failed" in statuses:
        status = "failed"
    elif statuses == {"passed"}:
        status = "passed"
    elif statuses == {"not_tested"}:
        status = "not_tested"
    else:
        status = "incomplete"
    result = FlowResult(flow, required, status, "", tuple(checks))
    reason = _flow_reason(flow, status, checks, result.failures)
    return FlowResult(flow, required, status, reason, tuple(checks))


def _collect(
    plan: Plan, files: Iterable[ResultDocument]
) -> tuple[dict[str, list[ProbeLine]], list[str], bool]:
    """ProbeLine per flow id (later files replacing earlier ones for the same probe),
    warnings, and whether any result was about a planned flow."""
    site_hosts = frozenset(h.name for h in plan.site.hosts)
    sources = {f.id: frozenset(tested_sources(f, site_hosts)) for f in plan.flows}
    latest: dict[tuple[str, str | None, str | None, int | None], ProbeLine] = {}
    warnings: list[str] = []
    unknown: dict[str, None] = {}
    known = False
    for result_file in files:
        warnings += [f"{result_file.path}: {w}" for w in result_file.warnings]
        if result_file.site and result_file.site != plan.site.name:
            warnings.append(
                f"{result_file.path}: results of site {result_file.site!r}, "
                f"merged into the plan of {plan.site.name!r}"
            )
        for item in result_file.evidence:
            expected = sources.get(item.flow)
            if expected is None:
                unknown.setdefault(item.flow, None)
                continue
            known = True
            if item.source_host not in expected:
                warnings.append(
                    f"{result_file.path}: {item.flow} probed from "
                    f"{item.source_host or 'an unnamed host'}, which is not one of "
                    "its source hosts: ignored"
                )
                continue
            if item.key in latest and latest[item.key].file != item.file:
                warnings.append(
                    f"{item.flow} port {item.port} from {item.source_host}: "
                    f"{item.file} replaces {latest[item.key].file}"
                )
            latest[item.key] = item
    if unknown:
        shown = ", ".join(list(unknown)[:5]) + (", ..." if len(unknown) > 5 else "")
        warnings.append(f"results for {len(unknown)} flow(s) the plan does not have: {shown}")
    per_flow: dict[str, list[ProbeLine]] = {}
    for item in latest.values():
        per_flow.setdefault(item.flow, []).append(item)
    return per_flow, list(dict.fromkeys(warnings)), known


def merge(plan: Plan, files: Sequence[ResultDocument]) -> Matrix:
    """One status per planned flow, from the result files of any number of hosts."""
    per_flow, warnings, known = _collect(plan, files)
    if any(f.evidence for f in files) and not known and not any(f.checks for f in files):
        sites = ", ".join(sorted({repr(f.site) for f in files if f.site})) or "unknown"
        raise UserError(
            f"none of the results is about a flow of this plan (results of site {sites}, "
            f"plan of {plan.site.name!r})",
            hint="give the site file the results were made from",
        )
    site_hosts = frozenset(h.name for h in plan.site.hosts)
    flows = tuple(
        merge_flow(f, tested_sources(f, site_hosts), per_flow.get(f.id, ())) for f in plan.flows
    )
    planned = {f.id for f in plan.flows}
    carried = tuple(c for f in files for c in f.checks if c.flow in planned)
    strays = {c.flow for f in files for c in f.checks if c.flow not in planned}
    if strays:
        shown = ", ".join(sorted(strays)[:5]) + (", ..." if len(strays) > 5 else "")
        warnings.append(f"checks for {len(strays)} flow(s) the plan does not have: {shown}")
    return Matrix(plan, flows, tuple(files), tuple(warnings), carried)
