"""``-o annotated.xlsx``: a copy of the team's workbook with a verdict per row.

The copy keeps the original's sheets, formulas and formatting (openpyxl, full mode); a
verdict column is added after the last column of each checked sheet, each cell filled
with the report's colour for that verdict and led by its symbol (so a grey print still
reads), findings in bold; a last sheet lists the planned flows no row covers, with the
sheet's own column names, ready to append. The original file is never written to.
"""

from __future__ import annotations

import io
from collections import defaultdict

from flowmatrix.i18n import Lang
from flowmatrix.matrixcheck.columns import Columns
from flowmatrix.matrixcheck.compare import ROW_FINDINGS, UNIT_FINDINGS, Comparison, Row
from flowmatrix.matrixcheck.output import look, symbol, text, unit_end, verdict_label
from flowmatrix.matrixcheck.sheet import Sheet
from flowmatrix.report.xlsx import CELL_LIMIT, STATUS_FILL

_SEVERITY = (
    "covered",
    "ignored",
    "not_in_plan",
    "too_wide",
    "obsolete",
    "wrong_protocol",
    "wrong_netscaler_address",
)


def _worst(rows: list[Row]) -> Row:
    return max(rows, key=lambda r: _SEVERITY.index(r.verdict) if r.verdict in _SEVERITY else 0)


def _cell_text(rows: list[Row], lang: Lang) -> str:
    worst = _worst(rows)
    parts = [f"{symbol(worst.verdict)} {verdict_label(worst.verdict, lang)}"]
    flows = list(dict.fromkeys(f for r in rows for f in r.flows))
    if flows:
        parts.append(", ".join(flows))
    details = list(dict.fromkeys(d.text(lang) for r in rows for d in r.details))
    if details:
        parts.append("; ".join(details))
    joined = ": ".join(parts[:2]) + (f" — {parts[2]}" if len(parts) > 2 else "")
    return joined[:CELL_LIMIT]


def annotate(
    raw: bytes,
    is_xlsx: bool,
    checked: list[tuple[Sheet, Columns]],
    result: Comparison,
    lang: Lang,
) -> bytes:
    """The annotated workbook's bytes."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill

    if is_xlsx:
        workbook = openpyxl.load_workbook(io.BytesIO(raw))
    else:
        workbook = openpyxl.Workbook()
        sheet_out = workbook.active
        assert sheet_out is not None
        sheet_out.title = text("matrix", lang)
        for number, cells in checked[0][0].rows:
            for index, value in enumerate(cells):
                copied = sheet_out.cell(row=number, column=index + 1, value=value)
                if isinstance(value, str):
                    copied.data_type = "s"  # a CSV text stays text, never a formula
    by_sheet: dict[str | None, dict[int, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for row in result.rows:
        by_sheet[row.sheet][row.number].append(row)
    for sheet, columns in checked:
        ws = workbook[sheet.name] if sheet.name is not None else workbook.worksheets[0]
        target = max(ws.max_column, max((len(c) for _, c in sheet.rows), default=0)) + 1
        header = columns.header_row or 1
        head = ws.cell(row=header, column=target, value=text("verdict_column", lang))
        head.font = Font(bold=True)
        ws.column_dimensions[head.column_letter].width = 60
        for number, rows in by_sheet[sheet.name].items():
            worst = _worst(rows)
            cell = ws.cell(row=number, column=target, value=_cell_text(rows, lang))
            fill = STATUS_FILL[look(worst.verdict)]
            cell.fill = PatternFill(
                "solid", start_color=fill.lstrip("#"), end_color=fill.lstrip("#")
            )
            cell.font = Font(bold=worst.verdict in ROW_FINDINGS)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    _missing_sheet(workbook, checked[0][1], result, lang)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _missing_sheet(workbook: object, columns: Columns, result: Comparison, lang: Lang) -> None:
    from openpyxl.styles import Font

    title = text("missing_sheet", lang)
    existing = {ws.title for ws in workbook.worksheets}  # type: ignore[attr-defined]
    name, number = title, 1
    while name in existing:
        number += 1
        name = f"{title} {number}"
    ws = workbook.create_sheet(name)  # type: ignore[attr-defined]
    labels = columns.labels
    headers = [
        labels.get("flow", text("flow", lang)),
        labels.get("source_address", labels.get("source", "Source")),
        labels.get("destination_address", labels.get("destination", "Destination")),
        labels.get("protocol", text("protocol", lang)),
        labels.get("port", "Port"),
        labels.get("description", text("justification", lang)),
    ]
    for index, heading in enumerate(headers, start=1):
        ws.cell(row=1, column=index, value=heading).font = Font(bold=True)
    line = 1
    for unit in result.units:
        if unit.status not in UNIT_FINDINGS:
            continue
        line += 1
        values: list[str | int] = [
            unit.flow.id,
            unit_end(unit, "source", lang),
            unit_end(unit, "destination", lang),
            unit.flow.protocol.upper(),
            unit.port,
            f"{unit.flow.requirement}: {unit.flow.description}"[:CELL_LIMIT],
        ]
        for index, value in enumerate(values, start=1):
            cell = ws.cell(row=line, column=index)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    for letter, width in zip("ABCDEF", (14, 30, 30, 10, 8, 70), strict=True):
        ws.column_dimensions[letter].width = width
