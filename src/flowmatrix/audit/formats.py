"""The audit report as JSON (a documented contract), CSV and a terminal table."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TypeVar

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
    addresses_text,
    status_count,
    status_text,
)
from flowmatrix.collector import collector_paused
from flowmatrix.documents import SiteRef, header
from flowmatrix.i18n import _, ngettext, pgettext

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


_Seen = dict[int, tuple[object, Any]]
"""What is already written of the report, by the identity of what it was written from
(with that object, which keeps its id its own while the document is made)."""
T = TypeVar("T")


def _once(item: T, write: Callable[[T, _Seen], Any], seen: _Seen) -> Any:
    """``write(item, seen)``, made once per object: the describer makes one rule
    reference per rule, one step per distinct decision and one fate per distinct rule
    path, and shares them between the parts and flows they describe (``describe.py``),
    so thousands of flow ports share a few thousand fates, steps and rules."""
    found = seen.get(id(item))
    if found is None:
        found = seen[id(item)] = (item, write(item, seen))
    return found[1]


def _rule(ref: RuleRef | None, seen: _Seen) -> dict[str, Any] | None:
    return None if ref is None else _once(ref, _rule_written, seen)


def _rule_written(ref: RuleRef, seen: _Seen) -> dict[str, Any]:
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


def _step(step: Step, seen: _Seen) -> dict[str, Any]:
    return {
        "chain": step.chain,
        "end": step.end,
        "rule": _rule(step.rule, seen),
        "trace": [ref.label for ref in step.trace],
    }


def _condition(condition: Condition, seen: _Seen) -> dict[str, Any]:
    return {
        "rule": _rule(condition.rule, seen),
        "holds": condition.holds,
        "reasons": list(condition.reasons),
    }


def _fate(fate: Fate, seen: _Seen) -> dict[str, Any]:
    return {
        "status": fate.status,
        "blocked_in": fate.blocked_in,
        "decision": fate.decision,
        "decided_by": _rule(fate.decided_by, seen),
        "conditions": [_condition(c, seen) for c in fate.conditions],
        "request": [_once(s, _step, seen) for s in fate.request],
        "reply": [_once(s, _step, seen) for s in fate.reply],
    }


def _part(part: Part, seen: _Seen) -> dict[str, Any]:
    return {
        "family": part.family,
        "sources": part.sources,
        "destinations": part.destinations,
        "source_ports": part.source_ports,
        "input_interface": part.iif,
        "output_interface": part.oif,
        "status": part.status,
        "fates": [_once(f, _fate, seen) for f in part.fates],
        "more_fates": part.more_fates,
    }


def _flow(flow: FlowResult, seen: _Seen) -> dict[str, Any]:
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
        "parts": [_part(p, seen) for p in flow.parts],
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


def _wide(item: WideRule, seen: _Seen) -> dict[str, Any]:
    return {
        "rule": _rule(item.rule, seen),
        "reasons": list(item.reasons),
        "flows": list(item.flows),
    }


def _dead(item: DeadRule, seen: _Seen) -> dict[str, Any]:
    return {
        "rule": _rule(item.rule, seen),
        "reason": item.reason,
        "detail": item.detail,
        "shadowed_by": [_rule(r, seen) for r in item.shadowed_by],
    }


@collector_paused()  # many small objects, no cycles
def to_document(report: AuditReport) -> dict[str, Any]:
    """The JSON document (keys documented in docs/audit.md). A fate shared by several
    parts is one object in it, and so is a rule or a step (to write, not to change in
    place)."""
    counts = report.counts()
    covers = report.covers
    seen: _Seen = {}
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
        "flows": [_flow(f, seen) for f in report.flows],
        "wide_rules": [_wide(w, seen) for w in report.wide_rules],
        "unused_rules": [_rule(r, seen) for r in report.unused_rules],
        "dead_rules": [_dead(d, seen) for d in report.dead_rules],
        "unevaluated": [
            {"condition": u.condition, "rules": [_rule(r, seen) for r in u.rules]}
            for u in report.unevaluated
        ],
        "problems": [
            {"file": p.file, "line": p.line, "message": p.message} for p in report.problems
        ],
        "notes": list(report.notes),
        "checks": [f.check(covers).to_dict() for f in report.flows],
    }


def _decision(part: Part) -> str:
    texts = list(dict.fromkeys(f.decision for f in part.fates))
    if part.more_fates:
        texts.append(_("and {n} more").format(n=part.more_fates))
    return " | ".join(texts)


def _conditions(part: Part) -> str:
    out: list[str] = []
    for fate in part.fates:
        if not fate.conditions:
            continue
        assumed = _(" and ").join(_assumed(c) for c in fate.conditions)
        out.append(
            _("{status} if {conditions}").format(
                status=status_text(fate.status), conditions=assumed
            )
        )
    return " | ".join(out)


def _assumed(condition: Condition) -> str:
    """``[reason] (file:line)``, or ``not [reason] (file:line)``."""
    what = "; ".join(condition.reasons) or condition.rule.text
    where = condition.rule.where
    if condition.holds:
        return f"[{what}] ({where})"
    return _("not [{what}] ({where})").format(what=what, where=where)


@collector_paused()  # many small objects, no cycles
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


@collector_paused()  # many small objects, no cycles
def to_text(report: AuditReport, *, width: int = 160, color: bool = False, limit: int = 15) -> str:
    """A human report: the flows, then the ruleset's wide, unused and dead rules."""
    from rich.table import Table

    from flowmatrix.render import escaped as escape
    from flowmatrix.render import text_console

    buffer = io.StringIO()
    console = text_console(buffer, width=width, color=color)
    target = target_text(report.target)
    title = f"{report.site}: {target} ({report.dialect} {report.ruleset_file})"
    table = Table(title=escape(title), header_style="bold", expand=False)
    for column in (_("Flow"), _("From"), _("To"), _("Port"), _("Verdict"), _("Decided by")):
        table.add_column(column, overflow="fold")
    for flow in report.flows:
        status = status_text(flow.status)
        if not flow.required:
            status = _("{status} (not required)").format(status=status)
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


def target_text(target: str) -> str:
    """``firewall NAME`` or ``host NAME`` (the report's machine value) as a person reads it."""
    kind, _sep, name = target.partition(" ")
    if kind == "firewall":
        return _("firewall {name}").format(name=name)
    if kind == "host":
        return _("host {name}").format(name=name)
    return target


DECISIONS_SHOWN = 3
"""Distinct decisions the table shows per flow; the details below list the parts."""


def _decided(flow: FlowResult) -> str:
    shorts = list(dict.fromkeys(_short(part) for part in flow.parts))
    text = "; ".join(shorts[:DECISIONS_SHOWN])
    hidden = len(shorts) - DECISIONS_SHOWN
    if hidden > 0:
        text += "; " + ngettext(
            "and {n} other decision(s)", "and {n} other decision(s)", hidden
        ).format(n=hidden)
    if flow.more_parts:
        text += f"; {flow.unlisted}"
    return text


def _short(part: Part) -> str:
    ruled = next((f.decided_by for f in part.fates if f.decided_by is not None), None)
    text = _decision(part)
    if ruled is not None and ruled.line is not None:
        text += " " + _("(line {line})").format(line=ruled.line)
    if part.status == "depends":
        conditions = {c.rule.where: c for f in part.fates for c in f.conditions}
        text += " — " + _("depends on {conditions}").format(
            conditions=", ".join(
                _("[{what}] at {where}").format(
                    what="; ".join(c.reasons) or c.rule.text, where=where
                )
                for where, c in conditions.items()
            )
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
            if part.source_ports == "any":
                line = _("{status} from {sources} to {destinations}: {decision}")
            else:
                line = _(
                    "{status} from {sources} (client ports {ports}) to {destinations}: {decision}"
                )
            text = line.format(
                status=status_text(part.status),
                sources=addresses_text(part.sources),
                ports=part.source_ports,
                destinations=addresses_text(part.destinations),
                decision=_decision(part),
            )
            console.print(escape(f"{where}: {text}"))
        if len(shown) > limit:
            more = _("and {n} more listed in -f json and -f csv").format(n=len(shown) - limit)
            console.print(escape(f"{where}: {more}"))
        if flow.more_parts:
            console.print(escape(f"{where}: {flow.unlisted}"))
    fixes = [(flow, fix) for flow in report.flows if flow.required for fix in flow.fixes]
    if fixes:
        title = _("Fixes")
        console.print(f"\n[bold]{escape(title)}[/]" if console.color_system else f"\n{title}")
        for flow, fix in fixes:
            checked = _("checked") if fix.verified else _("NOT sufficient alone")
            console.print(escape(f"  {flow.flow_id} {flow.protocol}/{flow.port}: {fix.command}"))
            console.print(
                escape(f"      {fix.placement}; {checked}" + (f"; {fix.note}" if fix.note else ""))
            )
    if report.wide_rules:
        title = _("Accept rules wider than the planned flows they serve: {n}")
        console.print("\n" + escape(title.format(n=len(report.wide_rules))))
        for item in report.wide_rules:
            console.print(escape(f"  {item.rule.where}: {item.rule.text}"))
            for reason in item.reasons:
                console.print(escape(f"      {reason}"))
            serves = _("serves {flows}").format(flows=", ".join(item.flows))
            console.print(escape(f"      {serves}"))
    if report.unused_rules:
        title = _("Accept rules no planned flow needs: {n}")
        console.print("\n" + escape(title.format(n=len(report.unused_rules))))
        for ref in report.unused_rules[:15]:
            console.print(escape(f"  {ref.where}: {ref.text}"))
        if len(report.unused_rules) > 15:
            more = _("... {n} more (--format json lists all)")
            console.print("  " + escape(more.format(n=len(report.unused_rules) - 15)))
    if report.dead_rules:
        title = _("Rules that can never match: {n}")
        console.print("\n" + escape(title.format(n=len(report.dead_rules))))
        for dead in report.dead_rules[:15]:
            console.print(escape(f"  {dead.rule.where}: {dead.rule.text}"))
            why = _("{reason}: {detail}").format(
                reason=dead_reason_text(dead.reason), detail=dead.detail
            )
            console.print(escape(f"      {why}"))
        if len(report.dead_rules) > 15:
            more = _("... {n} more (--format json lists all)")
            console.print("  " + escape(more.format(n=len(report.dead_rules) - 15)))
    if report.unevaluated:
        title = _("Conditions not evaluated (verdicts that meet them say 'depends'):")
        console.print("\n" + escape(title))
        for unevaluated in report.unevaluated:
            lines = [r.line for r in unevaluated.rules if r.line is not None]
            listed = ", ".join(map(str, lines[:8])) + (" ..." if len(lines) > 8 else "")
            count = len(unevaluated.rules)
            text = ngettext(
                "{condition}: {n} rule(s), lines {lines}",
                "{condition}: {n} rule(s), lines {lines}",
                count,
            ).format(condition=unevaluated.condition, n=count, lines=listed)
            console.print(escape(f"  {text}"))
    for problem in report.problems:
        console.print(escape("\n" + _("not read: {problem}").format(problem=problem)))
    for note in report.notes:
        console.print(escape("\n" + _("note: {note}").format(note=note)))
    console.print(escape("\n" + summary_line(report)))


def dead_reason_text(reason: str) -> str:
    """Why a rule is dead (``shadowed``...), as a person reads it."""
    texts = {
        "shadowed": pgettext("dead rule", "shadowed"),
        "never-matches": pgettext("dead rule", "never-matches"),
        "unreachable-chain": pgettext("dead rule", "unreachable-chain"),
    }
    return texts.get(reason, reason)


def summary_line(report: AuditReport) -> str:
    """``12 flow ports: 10 allowed, 2 blocked; 2 required flow(s) blocked``."""
    counts = report.counts()
    summary = ", ".join(status_count(k, v) for k, v in counts.items() if v)
    flows, findings = len(report.flows), len(report.findings)
    ports = ngettext("{n} flow ports: {summary}", "{n} flow ports: {summary}", flows)
    blocked = ngettext("{n} required flow(s) blocked", "{n} required flow(s) blocked", findings)
    return _("{flow_ports}; {blocked}").format(
        flow_ports=ports.format(n=flows, summary=summary), blocked=blocked.format(n=findings)
    )
