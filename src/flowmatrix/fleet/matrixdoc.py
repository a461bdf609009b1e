"""The merged matrix as the documented JSON document (``flowmatrix-matrix/2``) and flat rows.

The JSON keys are a contract (docs/fleet.md, tested in tests/fleet/test_fleet_matrixdoc.py):
``report`` reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowmatrix.documents import header
from flowmatrix.fleet.merge import (
    FLOW_STATUSES,
    FlowResult,
    Matrix,
    PortCheck,
    SourceCheck,
    status_word,
)
from flowmatrix.fleet.resultfile import ProbeLine
from flowmatrix.i18n import _, language, ngettext
from flowmatrix.model import FlowEnd

if TYPE_CHECKING:
    from flowmatrix.i18n import Lang

MATRIX_COLUMNS = (
    "flow",
    "requirement",
    "source",
    "source_hosts",
    "destination",
    "destination_addresses",
    "protocol",
    "ports",
    "status",
    "tested_from",
    "reason",
)
#: The terminal table: fewer, wider columns (the CSV keeps them all).
TABLE_COLUMNS = (
    "flow",
    "source",
    "destination",
    "destination_addresses",
    "protocol",
    "ports",
    "status",
    "reason",
)
STATUS_STYLES = {
    "passed": "green",
    "failed": "red",
    "incomplete": "yellow",
    "not_tested": "dim",
}


def _end(end: FlowEnd) -> dict[str, Any]:
    return {
        "role": end.role,
        "role_name": end.role_name,
        "zone": end.zone,
        "hosts": [h.name for h in end.hosts],
        "addresses": list(end.addresses),
        "fqdns": list(end.fqdns),
        "any": end.any_address,
    }


def _evidence(item: ProbeLine) -> dict[str, Any]:
    return {
        "destination_host": item.destination_host,
        "address": item.address,
        "state": item.state,
        "reason": item.reason,
        "latency_ms": item.latency_ms,
        "findings": list(item.findings),
        "file": item.file,
    }


def _port(check: PortCheck) -> dict[str, Any]:
    return {
        "port": check.port,
        "status": check.status,
        "results": [_evidence(e) for e in check.results],
    }


def _check(check: SourceCheck) -> dict[str, Any]:
    return {"host": check.host, "status": check.status, "ports": [_port(p) for p in check.ports]}


def flow_result_to_dict(result: FlowResult) -> dict[str, Any]:
    flow = result.flow
    return {
        "flow": flow.id,
        "requirement": flow.requirement,
        "description": flow.description,
        "required": result.required,
        "catalog_status": flow.status,
        "source": _end(flow.source),
        "destination": _end(flow.destination),
        "protocol": flow.protocol,
        "ports": list(flow.ports),
        "service": flow.service,
        "firewalls": list(flow.firewalls),
        "status": result.status,
        "reason": result.reason,
        "tested_from": [c.host for c in result.checks if c.status != "not_tested"],
        "checks": [_check(c) for c in result.checks],
        "failures": [
            {
                "host": host,
                "port": item.port,
                "destination_host": item.destination_host,
                "address": item.address,
                "state": item.state,
                "reason": item.reason,
                "findings": list(item.findings),
            }
            for host, item in result.failures
        ],
    }


def summary_dict(matrix: Matrix) -> dict[str, int]:
    counts: dict[str, int] = {status: matrix.count(status) for status in FLOW_STATUSES}
    return {"flows": len(matrix.flows), **counts, "failed_required": matrix.failed_required}


def matrix_to_dict(matrix: Matrix) -> dict[str, Any]:
    """The ``flowmatrix merge --format json`` document."""
    plan = matrix.plan
    return {
        **header("matrix", plan.site_ref()),
        "site_file": plan.site_file,
        "catalog": plan.catalog.catalog.id,
        "lang": plan.lang,
        "inputs": [
            {
                "file": f.path,
                "kind": f.kind,
                "site": f.site,
                "source": f.source,
                "hosts": list(f.hosts),
                "results": len(f.evidence),
            }
            for f in matrix.inputs
        ],
        "summary": summary_dict(matrix),
        "warnings": list(matrix.warnings),
        "flows": [flow_result_to_dict(f) for f in matrix.flows],
        "checks": [c.to_dict() for c in matrix.checks()],
    }


def _addresses(end: FlowEnd) -> str:
    if end.any_address:
        return "any"
    return ", ".join(end.addresses or end.fqdns)


def matrix_rows(matrix: Matrix) -> list[dict[str, str]]:
    """One flat row per planned flow, for tables and CSV."""
    return [
        {
            "flow": r.flow.id,
            "requirement": r.flow.requirement,
            "source": r.flow.source.role_name,
            "source_hosts": ", ".join(h.name for h in r.flow.source.hosts),
            "destination": r.flow.destination.role_name,
            "destination_addresses": _addresses(r.flow.destination),
            "protocol": r.flow.protocol,
            "ports": ",".join(map(str, r.flow.ports)),
            "status": r.status,
            "tested_from": ", ".join(c.host for c in r.checks if c.status != "not_tested"),
            "reason": r.reason,
        }
        for r in matrix.flows
    ]


def summary_line(matrix: Matrix) -> str:
    """``3 flows: 1 passed, 1 failed, 0 incomplete, 1 not tested``, in the current language."""
    counts = summary_dict(matrix)
    flows, passed, failed = counts["flows"], counts["passed"], counts["failed"]
    incomplete, not_tested = counts["incomplete"], counts["not_tested"]
    text = _("{flows}: {passed}, {failed}, {incomplete}, {not_tested}").format(
        flows=ngettext("{n} flows", "{n} flows", flows).format(n=flows),
        passed=ngettext("{n} passed", "{n} passed", passed).format(n=passed),
        failed=ngettext("{n} failed", "{n} failed", failed).format(n=failed),
        incomplete=ngettext("{n} incomplete", "{n} incomplete", incomplete).format(n=incomplete),
        not_tested=ngettext("{n} not tested", "{n} not tested", not_tested).format(n=not_tested),
    )
    expected = counts["failed"] - counts["failed_required"]
    if expected:
        text += " " + ngettext(
            "({n} failed obsolete/legacy flow(s): expected)",
            "({n} failed obsolete/legacy flow(s): expected)",
            expected,
        ).format(n=expected)
    return text


def render_matrix(matrix: Matrix, fmt: str, lang: Lang, *, width: int, color: bool) -> str:
    """The matrix as ``table``, ``json``, ``csv`` or ``markdown`` text.

    The JSON and the CSV keep the status codes (programs read them); the table and the
    Markdown show them as words of ``lang``."""
    from flowmatrix.render import to_csv, to_json, to_markdown, to_table

    if fmt == "json":
        return to_json(matrix_to_dict(matrix))
    rows = matrix_rows(matrix)
    if fmt == "csv":
        return to_csv(rows, MATRIX_COLUMNS)
    with language(lang):
        shown = [{**row, "status": status_word(row["status"])} for row in rows]
        if fmt == "markdown":
            return to_markdown(shown, MATRIX_COLUMNS, lang)
        table = [
            {
                **row,
                "source": row["source_hosts"] or row["source"],
                "destination": _destination_hosts(result) or row["destination"],
            }
            for row, result in zip(shown, matrix.flows, strict=True)
        ]
        styles = {status_word(status): style for status, style in STATUS_STYLES.items()}
        return to_table(
            table,
            TABLE_COLUMNS,
            lang,
            title=_("{site}: flow matrix").format(site=matrix.plan.site.name),
            width=width,
            color=color,
            styles={"status": styles},
        )


def _destination_hosts(result: FlowResult) -> str:
    return ", ".join(h.name for h in result.flow.destination.hosts)


def format_for(output: str | None, given: str | None) -> str:
    """The format asked for, or the one the output file's suffix says, or ``table``."""
    if given is not None:
        return given
    suffix = output.rsplit(".", 1)[-1].lower() if output and "." in output else ""
    return {"json": "json", "csv": "csv", "md": "markdown"}.get(suffix, "table")
