"""Many hosts' verify results -> one status per planned flow.

The results are judged by the rules of every check (``flowmatrix.evidence``), with the
flow's source hosts (``Plan.probe_sources``); merge's words are its names for that scale:

* a probe result passes when its state is ``open`` with no finding; it fails in the
  failed states of ``verify`` (closed, filtered, unreachable, unresolved, error) or with
  a finding (expired certificate...); anything else (``open|filtered``) is
  inconclusive, and ``not_probed`` is not tested. A result whose destination is its own
  source host does not apply.
* a port, from one source host, passes when every address it was probed on passed.
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
from flowmatrix.evidence import (
    STATUS_OF,
    Check,
    Scale,
    Status,
    flow_status,
    probe_status,
    source_port_status,
    sources_status,
    state_word,
)
from flowmatrix.fleet.resultfile import ProbeLine, ResultDocument
from flowmatrix.i18n import _, ngettext, pgettext
from flowmatrix.model import NOT_REQUIRED, Flow, Plan
from flowmatrix.probe.results import state_label

FlowStatus = Literal["passed", "failed", "incomplete", "not_tested"]
PortStatus = Literal["passed", "failed", "inconclusive", "not_tested", "not_applicable"]
FLOW_STATUSES: tuple[FlowStatus, ...] = ("passed", "failed", "incomplete", "not_tested")


def status_word(status: str) -> str:
    """A flow or port status as people read it, in the current language (the code itself
    in English; the JSON keeps the code)."""
    return state_word("merge", status)


def verdict(evidence: ProbeLine) -> Literal["passed", "failed", "inconclusive"]:
    """A probe result's verdict here: its status on the scale of every check."""
    status = probe_status(evidence.state, bool(evidence.findings))
    return "failed" if status == "failing" else "passed" if status == "proven" else "inconclusive"


#: The scale of every check in merge's words: per source host and port, and per flow.
PORT_WORD: dict[Status, PortStatus] = {
    "proven": "passed",
    "failing": "failed",
    "depends": "inconclusive",
    "not-tested": "not_tested",
    "not-applicable": "not_applicable",
}
FLOW_WORD: dict[Scale, FlowStatus] = {
    "proven": "passed",
    "failing": "failed",
    "depends": "incomplete",
    "not-tested": "not_tested",
}


def _line_check(line: ProbeLine, host: str) -> Check:
    """A result as a check from ``host``: not applicable when it probed the host itself."""
    status: Status = (
        "not-applicable"
        if line.destination_host == host
        else probe_status(line.state, bool(line.findings))
    )
    detail = f"{line.address or line.destination_host or '?'} {state_label(line.state)}"
    return Check(
        line.flow,
        line.port,
        status,
        "verify",
        detail,
        host,
        destination=line.address or line.destination_host,
    )


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
            word = status_word(self.status)
            detail = f"{word} ({self.reason})" if self.reason else word
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
    states = ", ".join(dict.fromkeys(state_label(e.state) for e in port.results))
    text = _("{host} -> {port} {status}").format(
        host=host, port=port.port, status=status_word(port.status)
    )
    return text + (f" ({states})" if states else "")


def _where(host: str, evidence: ProbeLine, protocol: str) -> str:
    target = evidence.address or evidence.destination_host or "?"
    return _("{protocol}/{port} from {host} to {target}").format(
        protocol=protocol, port=evidence.port, host=host, target=target
    )


def _flow_reason(
    flow: Flow,
    status: FlowStatus,
    checks: Sequence[SourceCheck],
    failures: Sequence[tuple[str, ProbeLine]],
) -> str:
    if status == "failed":
        host, first = failures[0]
        others = len(failures) - 1
        more = " " + ngettext("(+{n} more)", "(+{n} more)", others).format(n=others)
        text = _("{where}: {state}: {detail}").format(
            where=_where(host, first, flow.protocol),
            state=state_label(first.state),
            detail=first.findings[0] if first.findings else first.reason,
        )
        return text + (more if len(failures) > 1 else "")
    if status == "passed":
        count = len(flow.ports)
        return ngettext(
            "all {n} port(s) open from {hosts}", "all {n} port(s) open from {hosts}", count
        ).format(n=count, hosts=", ".join(c.host for c in checks))
    missing = [c.host for c in checks if not any(port.results for port in c.ports)]
    parts = []
    if missing:
        parts.append(_("no results from {hosts}").format(hosts=", ".join(missing)))
    for check in checks:
        for port in check.ports:
            if port.status == "not_tested" and port.results:
                reasons = dict.fromkeys(e.reason for e in port.results if e.reason)
                parts.append(
                    _("{protocol}/{port} from {host} not probed: {reasons}").format(
                        protocol=flow.protocol,
                        port=port.port,
                        host=check.host,
                        reasons=pgettext("list separator", "; ").join(reasons) or "?",
                    )
                )
            elif port.status == "not_applicable" and check.status == "not_tested":
                parts.append(
                    _("{protocol}/{port} from {host}: the destination is the host itself").format(
                        protocol=flow.protocol, port=port.port, host=check.host
                    )
                )
            elif port.status == "not_tested" and check.host not in missing:
                parts.append(
                    _("{protocol}/{port} not tested from {host}").format(
                        protocol=flow.protocol, port=port.port, host=check.host
                    )
                )
            elif port.status == "inconclusive":
                states = sorted({e.state for e in port.results if verdict(e) != "passed"})
                parts.append(
                    _("{protocol}/{port} from {host}: {states}").format(
                        protocol=flow.protocol,
                        port=port.port,
                        host=check.host,
                        states=", ".join(state_label(state) for state in states),
                    )
                )
    return pgettext("list separator", "; ").join(parts)


def _untestable_reason(flow: Flow) -> str:
    end = flow.source
    if end.any_address:
        return _("the source is any address in zone {zone}: no host to run a probe on").format(
            zone=end.zone
        )
    names = ", ".join(h.name for h in end.hosts) or end.role
    return _("the source ({names}) is not a host of the site: no host to run a probe on").format(
        names=names
    )


def merge_flow(flow: Flow, sources: Sequence[str], evidence: Sequence[ProbeLine]) -> FlowResult:
    """The status of ``flow`` from the results of its ``sources`` (its site source hosts)."""
    required = flow.status not in NOT_REQUIRED
    if not sources:
        return FlowResult(flow, required, "not_tested", _untestable_reason(flow), ())
    grouped: dict[tuple[str | None, int | None], list[ProbeLine]] = {}
    for item in evidence:
        grouped.setdefault((item.source_host, item.port), []).append(item)
    checks = []
    per_port: dict[int, list[Status]] = {port: [] for port in flow.ports}
    for host in sources:
        ports: list[PortCheck] = []
        seen: list[Scale] = []
        for port in flow.ports:
            results = grouped.get((host, port), ())
            said = source_port_status(_line_check(e, host) for e in results)
            per_port[port].append(said)
            ports.append(PortCheck(port, PORT_WORD[said], tuple(results)))
            if said != "not-applicable":
                seen.append(said)
        checks.append(SourceCheck(host, FLOW_WORD[flow_status(seen)], tuple(ports)))
    combined = (sources_status("not-tested", said) for said in per_port.values())
    status = FLOW_WORD[flow_status(combined)]
    result = FlowResult(flow, required, status, "", tuple(checks))
    reason = _flow_reason(flow, status, checks, result.failures)
    return FlowResult(flow, required, status, reason, tuple(checks))


def _collect(
    plan: Plan, files: Iterable[ResultDocument]
) -> tuple[dict[str, list[ProbeLine]], list[str], bool]:
    """ProbeLine per flow id (later files replacing earlier ones for the same probe),
    warnings, and whether any result was about a planned flow."""
    sources = {f.id: frozenset(plan.probe_sources(f)) for f in plan.flows}
    latest: dict[tuple[str, str | None, str | None, int | None], ProbeLine] = {}
    warnings: list[str] = []
    unknown: dict[str, None] = {}
    known = False
    for result_file in files:
        warnings += [f"{result_file.path}: {w}" for w in result_file.warnings]
        if result_file.site and result_file.site != plan.site.name:
            warnings.append(
                _("{path}: results of site {site}, merged into the plan of {plan}").format(
                    path=result_file.path, site=repr(result_file.site), plan=repr(plan.site.name)
                )
            )
        for item in result_file.evidence:
            expected = sources.get(item.flow)
            if expected is None:
                unknown.setdefault(item.flow, None)
                continue
            known = True
            if item.source_host not in expected:
                warnings.append(
                    _(
                        "{path}: {flow} probed from {host}, which is not one of "
                        "its source hosts: ignored"
                    ).format(
                        path=result_file.path,
                        flow=item.flow,
                        host=item.source_host or _("an unnamed host"),
                    )
                )
                continue
            if item.key in latest and latest[item.key].file != item.file:
                warnings.append(
                    _("{flow} port {port} from {host}: {new} replaces {old}").format(
                        flow=item.flow,
                        port=item.port,
                        host=item.source_host,
                        new=item.file,
                        old=latest[item.key].file,
                    )
                )
            latest[item.key] = item
    if unknown:
        shown = _listed(list(unknown))
        warnings.append(
            ngettext(
                "results for {n} flow(s) the plan does not have: {shown}",
                "results for {n} flow(s) the plan does not have: {shown}",
                len(unknown),
            ).format(n=len(unknown), shown=shown)
        )
    per_flow: dict[str, list[ProbeLine]] = {}
    for item in latest.values():
        per_flow.setdefault(item.flow, []).append(item)
    return per_flow, list(dict.fromkeys(warnings)), known


def _listed(ids: list[str]) -> str:
    """The first five of ``ids``, and an ellipsis when there are more."""
    return ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")


def merge(plan: Plan, files: Sequence[ResultDocument]) -> Matrix:
    """One status per planned flow, from the result files of any number of hosts."""
    per_flow, warnings, known = _collect(plan, files)
    if any(f.evidence for f in files) and not known and not any(f.checks for f in files):
        sites = ", ".join(sorted({repr(f.site) for f in files if f.site})) or _("unknown")
        raise UserError(
            _(
                "none of the results is about a flow of this plan (results of site {sites}, "
                "plan of {plan})"
            ).format(sites=sites, plan=repr(plan.site.name)),
            hint=_("give the site file the results were made from"),
        )
    flows = tuple(merge_flow(f, plan.probe_sources(f), per_flow.get(f.id, ())) for f in plan.flows)
    planned = {f.id for f in plan.flows}
    carried = tuple(c for f in files for c in f.checks if c.flow in planned)
    strays = {c.flow for f in files for c in f.checks if c.flow not in planned}
    if strays:
        shown = _listed(sorted(strays))
        warnings.append(
            ngettext(
                "checks for {n} flow(s) the plan does not have: {shown}",
                "checks for {n} flow(s) the plan does not have: {shown}",
                len(strays),
            ).format(n=len(strays), shown=shown)
        )
    return Matrix(plan, flows, tuple(files), tuple(warnings), carried)
