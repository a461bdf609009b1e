"""The firewall change request as a workbook ("demande d'ouverture de flux").

One sheet per firewall, one row per flow and port, a Decision column the firewall team
fills in from a list, a sheet for the flows that cross no firewall, and a summary sheet.

Every text cell goes through ``write_string`` in a workbook opened with
``strings_to_formulas`` off: a name such as ``=cmd|' /C calc'!A0`` stays a string.
The bytes are reproducible: the creation date is fixed (``SOURCE_DATE_EPOCH`` if set).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowmatrix.i18n import Lang, _, language, ngettext
from flowmatrix.render import SPREADSHEET_CELL_LIMIT
from flowmatrix.report.labels import (
    CATALOG_KEYS,
    catalog_key,
    catalog_status_label,
    decisions,
    evidence_lines,
    kind_label,
    label,
    pair,
    status_label,
)
from flowmatrix.report.status import STATUSES, Status
from flowmatrix.report.style import LOOKS
from flowmatrix.report.view import FlowRow, ReportView
from flowmatrix.textsafe import shorten

#: Excel's limit for one cell.
CELL_LIMIT = SPREADSHEET_CELL_LIMIT
SHEET_NAME_LIMIT = 31
_FIXED_DATE = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)
STATUS_FILL: dict[Status, str] = {
    "proven": "#dafbe1",
    "failing": "#ffebe9",
    "depends": "#fff5d6",
    "not-tested": "#f3f4f6",
}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    width: float
    wrap: bool = False


#: The columns of a firewall sheet, in order (the test reads them back by these keys).
COLUMNS: tuple[Column, ...] = (
    Column("flow", 13),
    Column("source_name", 26, wrap=True),
    Column("source_address", 22, wrap=True),
    Column("source_zone", 12),
    Column("destination_name", 26, wrap=True),
    Column("destination_address", 22, wrap=True),
    Column("fqdn", 24, wrap=True),
    Column("destination_zone", 12),
    Column("protocol", 9),
    Column("port", 8),
    Column("firewall_path", 18, wrap=True),
    Column("nat", 30, wrap=True),
    Column("justification", 60, wrap=True),
    Column("check", 13),
    Column("check_detail", 36, wrap=True),
    Column("decision", 13),
    Column("comment", 30, wrap=True),
)


def created_date() -> dt.datetime:
    """The fixed creation date: ``SOURCE_DATE_EPOCH`` when set, else 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return _FIXED_DATE


def sheet_names(firewalls: list[str], reserved: list[str]) -> dict[str, str]:
    """Excel-safe, unique sheet names for the firewalls (31 characters, no ``[]:*?/\\``)."""
    used = {name.lower() for name in reserved}
    names: dict[str, str] = {}
    for firewall in firewalls:
        base = re.sub(r"[\[\]:*?/\\]", "_", firewall).strip("'")[:SHEET_NAME_LIMIT] or "_"
        candidate, number = base, 1
        while candidate.lower() in used or candidate.lower() == "history":
            number += 1
            suffix = f"~{number}"
            candidate = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
        used.add(candidate.lower())
        names[firewall] = candidate
    return names


def _clip(value: str) -> str:
    return shorten(value, CELL_LIMIT)


@dataclass(frozen=True)
class _Texts:
    """The labels a flow-port line uses, looked up once per workbook."""

    pending: str
    catalog: dict[str, str]
    check: dict[str, str]

    @classmethod
    def of(cls, lang: Lang) -> _Texts:
        return cls(
            pending=decisions(lang)[-1],
            catalog={s: catalog_status_label(s, lang) for s in CATALOG_KEYS},
            check={s: f"{LOOKS[s].symbol} {status_label(s, lang)}" for s in STATUSES},
        )


def _named(name: str, hosts: str) -> str:
    return f"{name} ({hosts})" if hosts else name


def flow_port_cells(row: FlowRow, port: int, texts: _Texts) -> list[str | int]:
    """The cells of one flow-and-port line, in ``COLUMNS`` order ('' for a blank cell)."""
    flow = row.flow
    status = row.check.port_status(port)
    requirement = flow.requirement
    key = catalog_key(flow.status, flow.requested)
    if key != "current":
        requirement += f" ({texts.catalog.get(key, key)})"
    return [
        flow.id,
        _clip(_named(flow.source.role_name, row.source_hosts)),
        _clip(row.source_addresses),
        flow.source.zone,
        _clip(_named(flow.destination.role_name, row.destination_hosts)),
        _clip(row.destination_addresses),
        _clip(row.destination_fqdns),
        flow.destination.zone,
        flow.protocol,
        port,
        row.firewalls or "—",
        _clip(flow.translations),
        _clip(pair(requirement, flow.description)),
        texts.check[status],
        _clip("\n".join(evidence_lines(row.check, port))),
        # a flow not requested is marked so: nobody is asked to approve it
        texts.pending if flow.requested else texts.catalog[key],
        "",
    ]


#: A line of a firewall sheet: its cells and the check status that colours it.
_Line = tuple[list[str | int], Status]


def render_xlsx(view: ReportView) -> bytes:
    """The workbook's bytes, in the view's language."""
    with language(view.lang):
        return _render_xlsx(view)


def _render_xlsx(view: ReportView) -> bytes:
    from xlsxwriter import Workbook

    buffer = io.BytesIO()
    workbook = Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    lang = view.lang
    workbook.set_properties(
        {
            "title": f"{label('change_request', lang)} — {view.title}",
            "subject": view.plan.catalog.catalog.title.get(lang),
            "author": "flowmatrix",
            "created": created_date(),
        }
    )
    formats = _Formats(workbook)
    firewalls = [f.name for f in view.plan.site.firewalls]
    summary_name = label("sheet_summary", lang)
    none_name = label("no_firewall", lang)
    names = sheet_names(firewalls, [summary_name, none_name])
    texts = _Texts.of(lang)
    lines_by_sheet: dict[str, list[_Line]] = {names[f]: [] for f in firewalls}
    no_firewall: list[_Line] = []
    for row in view.rows:
        lines = [
            (flow_port_cells(row, port, texts), row.check.port_status(port))
            for port in row.flow.ports
        ]
        if not row.flow.firewalls:
            no_firewall.extend(lines)
        for firewall in dict.fromkeys(row.flow.firewalls):
            lines_by_sheet[names[firewall]].extend(lines)
    summary = workbook.add_worksheet(summary_name)
    for name, sheet_lines in lines_by_sheet.items():
        _flow_sheet(workbook.add_worksheet(name), sheet_lines, lang, formats)
    if no_firewall:
        _flow_sheet(workbook.add_worksheet(none_name), no_firewall, lang, formats)
    _summary_sheet(summary, view, names, none_name if no_firewall else None, formats)
    workbook.close()
    return buffer.getvalue()


class _Formats:
    def __init__(self, workbook: Any) -> None:
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
        self.header = workbook.add_format(
            {
                **base,
                "bold": True,
                "font_color": "#ffffff",
                "bg_color": "#0d2a4a",
                "text_wrap": True,
                "border": 1,
                "border_color": "#8c959f",
            }
        )
        self.cell = workbook.add_format({**base})
        self.wrap = workbook.add_format({**base, "text_wrap": True})
        self.number = workbook.add_format({**base, "align": "right"})
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.bold = workbook.add_format({"bold": True, "font_size": 10})
        self.decision = workbook.add_format(
            {
                **base,
                "bg_color": "#fff8c5",
                "border": 1,
                "border_color": "#d4a72c",
            }
        )
        self.status: dict[str, Any] = {
            status: workbook.add_format({**base, "bg_color": fill, "bold": status == "failing"})
            for status, fill in STATUS_FILL.items()
        }


def _flow_sheet(sheet: Any, lines: list[_Line], lang: Lang, formats: _Formats) -> None:
    sheet.freeze_panes(1, 0)
    for index, column in enumerate(COLUMNS):
        sheet.set_column(index, index, column.width)
        sheet.write_string(0, index, label(column.key, lang), formats.header)
    sheet.set_row(0, 30)
    keys = [c.key for c in COLUMNS]
    status_at, decision_at = keys.index("check"), keys.index("decision")
    cell_formats = [formats.wrap if c.wrap else formats.cell for c in COLUMNS]
    cell_formats[decision_at] = formats.decision
    write_string: Callable[..., Any] = sheet.write_string
    write_number: Callable[..., Any] = sheet.write_number
    number = formats.number
    line = 0
    for cells, status in lines:
        line += 1
        cell_formats[status_at] = formats.status[status]
        for index, value in enumerate(cells):
            if isinstance(value, int):
                write_number(line, index, value, number)
            elif value:  # a blank cell needs nothing written
                write_string(line, index, value, cell_formats[index])
    sheet.autofilter(0, 0, max(line, 1), len(COLUMNS) - 1)
    if line:
        sheet.data_validation(
            1,
            decision_at,
            line,
            decision_at,
            {
                "validate": "list",
                "source": decisions(lang),
                "error_title": label("decision", lang),
                "error_message": " / ".join(decisions(lang)),
            },
        )


def _summary_sheet(
    sheet: Any,
    view: ReportView,
    names: dict[str, str],
    none_sheet: str | None,
    formats: _Formats,
) -> None:
    lang = view.lang
    plan = view.plan
    info = plan.catalog.catalog
    summary = view.summary
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 8, 13)
    put = sheet.write_string
    put(0, 0, f"{label('change_request', lang)} — {view.title}", formats.title)
    facts = [
        (label("catalog", lang), f"{info.title.get(lang)} — {info.product} ({info.date})"),
        (label("site_file", lang), plan.site_file or label("embedded_example", lang)),
        (
            label("results_files", lang),
            ", ".join(
                f"{f.path} ({kind_label(f.kind, lang)}, {f.records})" for f in view.checks.files
            )
            or label("no_results", lang),
        ),
        (label("decision", lang), label("decision_help", lang)),
    ]
    line = 2
    for name, value in facts:
        put(line, 0, name, formats.bold)
        put(line, 1, _clip(value), formats.cell)
        line += 1
    line += 1
    statuses = [*STATUSES[-1:], *STATUSES[:-1]]
    headers = [
        label("sheet", lang),
        label("firewall", lang),
        label("flows", lang),
        label("flow_ports", lang),
    ] + [status_label(s, lang) for s in statuses]
    for index, text in enumerate(headers):
        put(line, index, text, formats.header)
    for stats in summary.firewalls:
        if stats.name is None and none_sheet is None:
            continue
        line += 1
        sheet_name = names[stats.name] if stats.name is not None else none_sheet
        put(line, 0, sheet_name or "", formats.cell)
        put(
            line,
            1,
            stats.name if stats.name is not None else label("no_firewall_long", lang),
            formats.cell,
        )
        sheet.write_number(line, 2, stats.flows, formats.number)
        sheet.write_number(line, 3, stats.flow_ports, formats.number)
        for offset, status in enumerate(statuses):
            sheet.write_number(line, 4 + offset, stats.counts[status], formats.number)
    line += 1
    put(line, 1, label("flows", lang), formats.bold)
    sheet.write_number(line, 2, summary.flows, formats.number)
    sheet.write_number(line, 3, summary.flow_ports, formats.number)
    for offset, status in enumerate(statuses):
        sheet.write_number(line, 4 + offset, summary.counts[status], formats.number)
    line += 2
    put(line, 0, label("obsolete_in_use", lang), formats.bold)
    if not summary.obsolete:
        put(line, 1, label("none", lang), formats.cell)
    for entry in summary.obsolete:
        req = entry.requirement
        assert req is not None
        flows = ngettext("{n} flow", "{n} flows", len(entry.flows)).format(n=len(entry.flows))
        text = _("{requirement}: {description} ({flows})").format(
            requirement=entry.id, description=req.description.get(lang), flows=flows
        )
        if req.replacement is not None:
            text += " — " + pair(label("replacement", lang), req.replacement.description.get(lang))
        put(line, 1, _clip(text), formats.cell)
        line += 1
    line += 1
    put(line, 0, label("left_out", lang), formats.bold)
    if not summary.left_out:
        put(line, 1, label("none", lang), formats.cell)
    for requirement, why in summary.left_out:
        put(line, 1, _clip(pair(requirement, why)), formats.cell)
        line += 1
    sheet.activate()
