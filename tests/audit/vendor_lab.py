"""The hand-written vendor configurations of the tests and what reading a report takes."""

from __future__ import annotations

from pathlib import Path

from flowmatrix.api import load_plan
from flowmatrix.audit.from_files import audit
from flowmatrix.audit.result import AuditReport, FlowResult

DATA = Path(__file__).parent / "data" / "vendor"
SITE = DATA / "site.yaml"
PLAN = load_plan(SITE)


def audit_file(path: Path | str, **options: object) -> AuditReport:
    return audit(None, ruleset=path, firewall="edge", plan=PLAN, **options)  # type: ignore[arg-type]


def audit_text(tmp_path: Path, name: str, text: str, **options: object) -> AuditReport:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return audit_file(path, **options)


FCM_BY_DNS = (
    "DNS: whether the destination is an address of fcm.googleapis.com, mtalk.google.com "
    "(the plan gives it as any address)"
)
"""FCM is an explicit ``internet: any`` end (Google publishes no addresses for it): an FQDN
object of its names is judged through those names, and the audit cannot know which
addresses they serve."""


def outcomes(result: FlowResult, family: int) -> set[tuple[str, str | None]]:
    """(status, deciding rule) of each fate of the flow's parts of one family."""
    return {
        (fate.status, fate.decided_by.name or fate.decided_by.label if fate.decided_by else None)
        for part in result.parts
        if part.family == family
        for fate in part.fates
    }


def flow(report: AuditReport, flow_id: str, port: int | None = None) -> FlowResult:
    return next(f for f in report.flows if f.flow_id == flow_id and port in (None, f.port))


def deciders(result: FlowResult, family: int | None = None) -> set[str]:
    """The names of the rules that decide some fate of the flow (of one family)."""
    return {
        fate.decided_by.name or fate.decided_by.label
        for part in result.parts
        if family in (None, part.family)
        for fate in part.fates
        if fate.decided_by is not None
    }


def conditions(result: FlowResult) -> set[str]:
    """The unevaluated conditions the flow's verdict depends on, as the report says them."""
    return {
        reason
        for part in result.parts
        for fate in part.fates
        for condition in fate.conditions
        for reason in condition.reasons
    }


def dead(report: AuditReport) -> dict[str, tuple[str, ...]]:
    """Dead rule -> the rules that shadow it."""
    return {
        d.rule.name or d.rule.label: tuple(r.name or r.label for r in d.shadowed_by)
        for d in report.dead_rules
    }
