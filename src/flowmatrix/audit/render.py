"""The audit report as JSON (a documented contract), CSV and a terminal table."""

from __future__ import annotations

import io
from typing import Any

from flowmatrix.audit.result import (
    AuditReport,
    Condition,
    DeadRule,
    Fate,
    FlowResult,
    Part,
    RuleRef,
    Step,
    WideRule,
)
from flowmatrix.documents import SiteRef, header

CSV_COLUMNS = (
    "flow",
    "requirement",
    "source",
    "destination",
    "protocol",
    "port",
    "required",
    "flow_status",
    "part_sources",
    "part_destinations",
    "part_status",
    "decision",
    "rule",
    "rule_text",
    "conditions",
    "fix",
)


def _rule(ref: RuleRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {
        "where": ref.where,
        "file": ref.file,
        "line": ref.line,
        "table": ref.table,
        "chain": ref.chain,
        "position": ref.position,
        "handle": ref.handle,
        "text": ref.text,
        "name": ref.name,
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "chain": step.chain,
        "end": step.end,
        "rule": _rule(step.rule),
        "trace": [ref.label for ref in step.trace],
    }


def _condition(condition: Condition) -> dict[str, Any]:
    return {
        "rule": _rule(condition.rule),
        "holds": condition.holds,
        "reasons": list(condition.reasons),
    }


def _fate(fate: Fate) -> dict[str, Any]:
    return {
        "status": fate.status,
        "blocked_in": fate.blocked_in,
        "decision": fate.decision,
        "decided_by": _rule(fate.decided_by),
        "conditions": [_condition(c) for c in fate.conditions],
        "request": [_step(s) for s in fate.request],
        "reply": [_step(s) for s in fate.reply],
    }


def _part(part: Part) -> dict[str, Any]:
    return {
        "family": part.family,
        "sources": part.sources,
        "destinations": part.destinations,
        "source_ports": part.source_ports,
        "input_interface": part.iif,
        "output_interface": part.oif,
        "status": part.status,
        "fates": [_fate(f) for f in part.fates],
        "more_fates": part.more_fates,
    }


def _flow(flow: FlowResult) -> dict[str, Any]:
    return {
        "id": flow.flow_id,
        "requirement": flow.requirement,
        "description": flow.description,
        "source": flow.source,
        "source_zone": flow.source_zone,
        "destination": flow.destination,
        "destination_zone": flow.destination_zone,
        "protocol": flow.protocol,
        "port": flow.port,
        "required": flow.required,
        "flow_status": flow.flow_status,
        "status": flow.status,
        "finding": flow.is_finding,
        "path": flow.path,
        "notes": list(flow.notes),
        "parts": [_part(p) for p in flow.parts],
        "more_parts": dict(flow.more_parts),
        "fixes": [
            {
                "command": f.command,
                "chain": f.chain,
                "placement": f.placement,
                "leg": f.leg,
                "verified": f.verified,
                "note": f.note,
            }
            for f in flow.fixes
        ],
    }


def _wide(item: WideRule) -> dict[str, Any]:
    return {"rule": _rule(item.rule), "reasons": list(item.reasons), "flows": list(item.flows)}


def _dead(item: DeadRule) -> dict[str, Any]:
    return {
        "rule": _rule(item.rule),
        "reason": item.reason,
        "detail": item.detail,
        "shadowed_by": [_rule(r) for r in item.shadowed_by],
    }


def to_document(report: AuditReport) -> dict[str, Any]:
    """The JSON document (keys documented in docs/audit.md)."""
    counts = report.counts()
    return {
        **header("audit", SiteRef(report.site, report.site_digest)),
        "site_file": report.site_file,
        "target": report.target,
        "path": report.path,
        "ruleset": {
            "file": report.ruleset_file,
            "dialect": report.dialect,
            "interfaces_from": report.interfaces_from,
            "source_ports": report.source_ports,
        },
        "summary": {
            "flows": len(report.flows),
            **counts,
            "findings": len(report.findings),
            "wide_rules": len(report.wide_rules),
            "unused_rules": len(report.unused_rules),
            "dead_rules": len(report.dead_rules),
            "problems": len(report.problems),
        },
        "flows": [_flow(f) for f in report.flows],
        "wide_rules": [_wide(w) for w in report.wide_rules],
        "unused_rules": [_rule(r) for r in report.unused_rules],
        "dead_rules": [_dead(d) for d in report.dead_rules],
        "unevaluated": [
            {"condition": u.condition, "rules": [_rule(r) for r in u.rules]}
            for u in report.unevaluated
        ],
        "problems": [
            {"file": p.file, "line": p.line, "message": p.message} for p in report.problems
        ],
        "notes": list(report.notes),
        "checks": [f.check(report.covers).to_dict() for f in report.flows],
    }


def _decision(part: Part) -> str:
    texts = list(dict.fromkeys(f.decision for f in part.fates))
    if part.more_fates:
        texts.append(f"and {part.more_fates} more")
    return " | ".join(texts)


def _conditions(part: Part) -> str:
    out: list[str] = []
    for fate in part.fates:
        if not fate.conditions:
            continue
        assumed = " and ".join(
            f"{'' if c.holds else 'not '}[{'; '.join(c.reasons) or c.rule.text}] ({c.rule.where})"
            for c in fate.conditions
        )
        out.append(f"{fate.status} if {assumed}")
    return " | ".join(out)


def csv_rows(report: AuditReport) -> list[dict[str, Any]]:
    """One row per part of each flow and port (a flow that is not split has one part)."""
    rows: list[dict[str, Any]] = []
    for flow in report.flows:
        fixes = " ; ".join(f.command for f in flow.fixes)
        base = {
            "flow": flow.flow_id,
            "requirement": flow.requirement,
            "source": flow.source,
            "destination": flow.destination,
            "protocol": flow.protocol,
            "port": flow.port,
            "required": "yes" if flow.required else "no",
            "flow_status": flow.status,
            "fix": fixes,
        }
        if not flow.parts:
            rows.append({**base, "part_status": flow.status, "decision": "; ".join(flow.notes)})
            continue
        for part in flow.parts:
            ruled = next((f.decided_by for f in part.fates if f.decided_by is not None), None)
            rows.append(
                {
                    **base,
                    "part_sources": part.sources,
                    "part_destinations": part.destinations,
                    "part_status": part.status,
                    "decision": _decision(part),
                    "rule": ruled.where if ruled else "",
                    "rule_text": ruled.text if ruled else "",
                    "conditions": _conditions(part),
                }
            )
        if flow.more_parts:
            rows.append({**base, "decision": flow.unlisted})
    return rows


_STYLE = {
    "allowed": "green",
    "blocked": "bold red",
    "partial": "red",
    "depends": "yellow",
    "unresolved": "magenta",
}


def to_text(report: AuditReport, *, width: int = 160, color: bool = False, limit: int = 15) -> str:
    """A human report: the flows, then the ruleset's wide, unused and dead rules."""
    from rich.table import Table

    from flowmatrix.render import escaped as escape
    from flowmatrix.render import text_console

    buffer = io.StringIO()
    console = text_console(buffer, width=width, color=color)
    title = f"{report.site}: {report.target} ({report.dialect} {report.ruleset_file})"
    table = Table(title=escape(title), header_style="bold", expand=False)
    for column in ("Flow", "From", "To", "Port", "Verdict", "Decided by"):
        table.add_column(column, overflow="fold")
    for flow in report.flows:
        status = flow.status if flow.required else f"{flow.status} (not required)"
        style = _STYLE.get(flow.status, "")
        decided = _decided(flow) or "; ".join(flow.notes)
        table.add_row(
            escape(flow.flow_id),
            escape(f"{flow.source} ({flow.source_zone})"),
            escape(f"{flow.destination} ({flow.destination_zone})"),
            f"{flow.protocol}/{flow.port}",
            f"[{style}]{escape(status)}[/]" if style else escape(status),
            escape(decided),
        )
    console.print(table)
    _details(console, report, escape, limit)
    return buffer.getvalue()


DECISIONS_SHOWN = 3
"""Distinct decisions the table shows per flow; the details below list the parts."""


def _decided(flow: FlowResult) -> str:
    shorts = list(dict.fromkeys(_short(part) for part in flow.parts))
    text = "; ".join(shorts[:DECISIONS_SHOWN])
    hidden = len(shorts) - DECISIONS_SHOWN
    if hidden > 0:
        text += f"; and {hidden} other decision(s)"
    if flow.more_parts:
        text += f"; {flow.unlisted}"
    return text


def _short(part: Part) -> str:
    ruled = next((f.decided_by for f in part.fates if f.decided_by is not None), None)
    text = _decision(part)
    if ruled is not None and ruled.line is not None:
        text += f" (line {ruled.line})"
    if part.status == "depends":
        conditions = {c.rule.where: c for f in part.fates for c in f.conditions}
        text += " — depends on " + ", ".join(
            f"[{'; '.join(c.reasons) or c.rule.text}] at {where}" for where, c in conditions.items()
        )
    return text


def _details(console: Any, report: AuditReport, escape: Any, limit: int) -> None:
    findings = [f for f in report.flows if f.status in ("blocked", "partial", "depends")]
    for flow in findings:
        if len(flow.parts) == 1 and not flow.more_parts:
            continue
        shown = [part for part in flow.parts if part.status != "allowed"]
        where = f"  {flow.flow_id} {flow.protocol}/{flow.port}"
        for part in shown[:limit]:
            ports = "" if part.source_ports == "any" else f" (client ports {part.source_ports})"
            console.print(
                escape(
                    f"{where}: {part.status} from {part.sources}{ports} to "
                    f"{part.destinations}: {_decision(part)}"
                )
            )
        if len(shown) > limit:
            console.print(
                escape(f"{where}: and {len(shown) - limit} more listed in -f json and -f csv")
            )
        if flow.more_parts:
            console.print(escape(f"{where}: {flow.unlisted}"))
    fixes = [(flow, fix) for flow in report.flows if flow.required for fix in flow.fixes]
    if fixes:
        console.print("\n[bold]Fixes[/]" if console.color_system else "\nFixes")
        for flow, fix in fixes:
            checked = "checked" if fix.verified else "NOT sufficient alone"
            console.print(escape(f"  {flow.flow_id} {flow.protocol}/{flow.port}: {fix.command}"))
            console.print(
                escape(f"      {fix.placement}; {checked}" + (f"; {fix.note}" if fix.note else ""))
            )
    if report.wide_rules:
        console.print(
            f"\nAccept rules wider than the planned flows they serve: {len(report.wide_rules)}"
        )
        for item in report.wide_rules:
            console.print(escape(f"  {item.rule.where}: {item.rule.text}"))
            for reason in item.reasons:
                console.print(escape(f"      {reason}"))
            console.print(escape(f"      serves {', '.join(item.flows)}"))
    if report.unused_rules:
        console.print(f"\nAccept rules no planned flow needs: {len(report.unused_rules)}")
        for ref in report.unused_rules[:15]:
            console.print(escape(f"  {ref.where}: {ref.text}"))
        if len(report.unused_rules) > 15:
            console.print(f"  ... {len(report.unused_rules) - 15} more (--format json lists all)")
    if report.dead_rules:
        console.print(f"\nRules that can never match: {len(report.dead_rules)}")
        for dead in report.dead_rules[:15]:
            console.print(escape(f"  {dead.rule.where}: {dead.rule.text}"))
            console.print(escape(f"      {dead.reason}: {dead.detail}"))
        if len(report.dead_rules) > 15:
            console.print(f"  ... {len(report.dead_rules) - 15} more (--format json lists all)")
    if report.unevaluated:
        console.print("\nConditions not evaluated (verdicts that meet them say 'depends'):")
        for unevaluated in report.unevaluated:
            lines = [r.line for r in unevaluated.rules if r.line is not None]
            where = f"lines {', '.join(map(str, lines[:8]))}" + (" ..." if len(lines) > 8 else "")
            console.print(
                escape(f"  {unevaluated.condition}: {len(unevaluated.rules)} rule(s), {where}")
            )
    for problem in report.problems:
        console.print(escape(f"\nnot read: {problem}"))
    for note in report.notes:
        console.print(escape(f"\nnote: {note}"))
    counts = report.counts()
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    console.print(
        escape(
            f"\n{len(report.flows)} flow ports: {summary}; "
            f"{len(report.findings)} required flow(s) blocked"
        )
    )
