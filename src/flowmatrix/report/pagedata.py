"""The flow matrix as data inside the page, for the script that filters, sorts and pages it.

Ten thousand table rows in the HTML cost a browser several seconds of parsing and
layout; the same rows as one JSON array cost milliseconds, and the script draws only the
page being looked at. The first page is also in the HTML, so the page reads (and prints)
without JavaScript.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flowmatrix.report.labels import catalog_key, evidence_facts
from flowmatrix.report.status import FlowCheck
from flowmatrix.report.view import FlowRow

#: The fields of a row record, in order (the script maps names to positions).
COLUMNS = (
    "id", "requirement", "href", "status", "port_status", "evidence",
    "source_role", "source_name", "source_zone", "source_hosts", "source_addresses",
    "destination_role", "destination_name", "destination_zone", "destination_hosts",
    "destination_fqdns", "destination_addresses", "protocol", "ports", "firewalls",
    "description", "catalog_status", "nat",
)  # fmt: skip
_EVIDENCE_LINES = 8


def evidence_text(check: FlowCheck) -> str:
    """The evidence of a check, one line per fact, in the current language, for a tooltip."""
    lines = evidence_facts(check)
    if len(lines) > _EVIDENCE_LINES:
        lines = [*lines[:_EVIDENCE_LINES], f"(+{len(lines) - _EVIDENCE_LINES})"]
    return "\n".join(lines)


def port_statuses(row: FlowRow) -> list[list[Any]]:
    """Per-port statuses, shown only when they differ (a partly proven flow)."""
    check = row.check
    if check.status != "depends" or len(row.flow.ports) < 2:
        return []
    return [[port, status] for port, status in check.ports]


def record(row: FlowRow, href: str) -> list[Any]:
    flow = row.flow
    return [
        flow.id, flow.requirement, href, row.status, port_statuses(row),
        evidence_text(row.check),
        flow.source.role, flow.source.role_name, flow.source.zone, row.source_hosts,
        row.source_addresses,
        flow.destination.role, flow.destination.role_name, flow.destination.zone,
        row.destination_hosts, row.destination_fqdns, row.destination_addresses,
        flow.protocol, [list(r) for r in flow.ports.ranges], list(flow.firewalls),
        flow.description,
        catalog_key(flow.status, flow.requested),
        flow.translations,
    ]  # fmt: skip


def script_json(document: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>``, ``&``."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )  # fmt: skip


def flow_data(rows: tuple[FlowRow, ...], href: Callable[[str], str]) -> str:
    """The data island: column names and one record per flow, in plan order."""
    return script_json({
        "columns": list(COLUMNS),
        "rows": [record(row, href(row.flow.requirement)) for row in rows],
    })  # fmt: skip
