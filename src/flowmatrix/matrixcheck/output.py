"""What ``matrix check`` says: verdict labels (FR/EN), table, JSON and CSV, and the summary.

Each verdict has a look borrowed from the report's check statuses (colour and symbol),
so the annotated workbook reads the same way as the change request, in grey print too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowmatrix.i18n import Lang, language, ngettext, pgettext
from flowmatrix.matrixcheck.compare import ROW_FINDINGS, UNIT_FINDINGS, Comparison, Unit
from flowmatrix.matrixcheck.details import texts
from flowmatrix.report.labels import label
from flowmatrix.report.status import Status
from flowmatrix.report.style import LOOKS

#: verdict -> the report status whose look it borrows.
LOOK_OF: dict[str, Status] = {
    "covered": "proven",
    "not_in_plan": "depends",
    "ignored": "not-tested",
    "not_requested": "not-tested",
    "opened": "depends",
}


#: verdict -> its label, in the current language (the words a person reads).
_VERDICT_LABELS: dict[str, Callable[[], str]] = {
    "covered": lambda: pgettext("matrix verdict", "covered"),
    "missing": lambda: pgettext("matrix verdict", "missing"),
    "wrong_protocol": lambda: pgettext("matrix verdict", "wrong protocol"),
    "wrong_netscaler_address": lambda: pgettext("matrix verdict", "wrong NetScaler address"),
    "too_wide": lambda: pgettext("matrix verdict", "too wide"),
    "obsolete": lambda: pgettext("matrix verdict", "obsolete"),
    "not_in_plan": lambda: pgettext("matrix verdict", "not in the plan"),
    "ignored": lambda: pgettext("matrix verdict", "not an opening (ignored)"),
    "not_requested": lambda: pgettext("matrix verdict", "not requested"),
    "opened": lambda: pgettext("matrix verdict", "opened, not requested"),
}
#: The other texts of the outputs (the annotated workbook's headings, the table's title).
_TEXTS: dict[str, Callable[[], str]] = {
    "verdict_column": lambda: pgettext("matrix check", "flowmatrix verdict"),
    "missing_sheet": lambda: pgettext("matrix check", "Missing flows"),
    "flow": lambda: pgettext("matrix check", "Flow"),
    "justification": lambda: pgettext("matrix check", "Justification"),
    "rows": lambda: pgettext("matrix check", "Rows"),
    "planned": lambda: pgettext("matrix check", "Planned flows not covered"),
    "matrix": lambda: pgettext("matrix check", "Matrix"),
    "protocol": lambda: pgettext("matrix check", "Protocol"),
}


#: The verdicts (the values a program reads).
VERDICTS = tuple(_VERDICT_LABELS)


def _verdict_text(verdict: str) -> str:
    return _VERDICT_LABELS[verdict]()


#: verdict -> ``n`` rows or flow-ports with it, in the current language (the summary).
_VERDICT_COUNTS: dict[str, Callable[[int], str]] = {
    "covered": lambda n: ngettext("{n} covered", "{n} covered", n),
    "missing": lambda n: ngettext("{n} missing", "{n} missing", n),
    "wrong_protocol": lambda n: ngettext("{n} wrong protocol", "{n} wrong protocol", n),
    "wrong_netscaler_address": lambda n: ngettext(
        "{n} wrong NetScaler address", "{n} wrong NetScaler address", n
    ),
    "too_wide": lambda n: ngettext("{n} too wide", "{n} too wide", n),
    "obsolete": lambda n: ngettext("{n} obsolete", "{n} obsolete", n),
    "not_in_plan": lambda n: ngettext("{n} not in the plan", "{n} not in the plan", n),
    "ignored": lambda n: ngettext(
        "{n} not an opening (ignored)", "{n} not an opening (ignored)", n
    ),
    "not_requested": lambda n: ngettext("{n} not requested", "{n} not requested", n),
    "opened": lambda n: ngettext("{n} opened, not requested", "{n} opened, not requested", n),
}


def _verdict_count(verdict: str, n: int) -> str:
    return _VERDICT_COUNTS[verdict](n).format(n=n)


def text(key: str, lang: Lang) -> str:
    with language(lang):
        return _TEXTS[key]()


def verdict_label(verdict: str, lang: Lang) -> str:
    with language(lang):
        return _verdict_text(verdict)


def look(verdict: str) -> Status:
    return LOOK_OF.get(verdict, "failing")


def symbol(verdict: str) -> str:
    return LOOKS[look(verdict)].symbol


def _ports(ranges: tuple[tuple[int, int], ...]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def unit_end(unit: Unit, side: str, lang: Lang | None = None) -> str:
    """One end of a unit: its addresses, or 'any' (in ``lang`` when given: what a person
    reads, and what ``matrix check`` reads back, e.g. French 'toutes')."""
    elements = unit.sources if side == "source" else unit.destinations
    if any(e.any for e in elements):
        return "any" if lang is None else label("any", lang)
    return ", ".join(dict.fromkeys(e.address or e.fqdn or e.host or "?" for e in elements))


def _detail(unit: Unit, lang: Lang) -> str:
    return unit.detail.text(lang) if unit.detail is not None else ""


def check_to_dict(result: Comparison, meta: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """The ``matrix check --format json`` document (docs/matrix.md)."""
    return {
        **meta,
        "rows": [
            {
                "sheet": r.sheet,
                "row": r.number,
                "verdict": r.verdict,
                "flows": r.flows,
                "details": texts(r.details, lang),
                "protocols": sorted(r.protocols),
                "ports": _ports(r.ports),
                "opens": r.opens,
            }
            for r in result.rows
        ],
        "flows": [
            {
                "flow": u.flow.id,
                "requirement": u.flow.requirement,
                "protocol": u.flow.protocol,
                "port": u.port,
                "source": unit_end(u, "source"),
                "destination": unit_end(u, "destination"),
                "status": u.status,
                "required": u.required,
                "rows": sorted(set(u.rows)),
                "detail": _detail(u, lang),
            }
            for u in result.units
        ],
        "summary": summary(result),
    }


def summary(result: Comparison) -> dict[str, Any]:
    rows: dict[str, int] = {}
    for row in result.rows:
        rows[row.verdict] = rows.get(row.verdict, 0) + 1
    flows: dict[str, int] = {}
    for unit in result.units:
        flows[unit.status] = flows.get(unit.status, 0) + 1
    return {"rows": rows, "flows": flows, "findings": result.findings}


def summary_line(result: Comparison, lang: Lang) -> str:
    data = summary(result)
    with language(lang):
        rows = ", ".join(_verdict_count(v, n) for v, n in sorted(data["rows"].items()))
        flows = ", ".join(_verdict_count(v, n) for v, n in sorted(data["flows"].items()))
        count = len(result.rows)
        findings = data["findings"]
        return ngettext(
            "{n} row(s): {rows}; planned flow-ports: {flows}; {findings}",
            "{n} row(s): {rows}; planned flow-ports: {flows}; {findings}",
            count,
        ).format(
            n=count,
            rows=rows or pgettext("matrix rows", "none"),
            flows=flows,
            findings=ngettext("{n} finding(s)", "{n} finding(s)", findings).format(n=findings),
        )


ROW_COLUMNS = ("where", "verdict", "flows", "details")
FLOW_COLUMNS = ("flow", "protocol", "port", "source", "destination", "status", "detail")


def row_lines(result: Comparison, lang: Lang) -> list[dict[str, str]]:
    return [
        {
            "where": r.where,
            "verdict": f"{symbol(r.verdict)} {verdict_label(r.verdict, lang)}",
            "flows": ", ".join(r.flows),
            "details": "; ".join(texts(r.details, lang)),
        }
        for r in result.rows
    ]


def flow_lines(result: Comparison, lang: Lang) -> list[dict[str, str]]:
    return [
        {
            "flow": u.flow.id,
            "protocol": u.flow.protocol,
            "port": str(u.port),
            "source": unit_end(u, "source", lang),
            "destination": unit_end(u, "destination", lang),
            "status": f"{symbol(u.status)} {verdict_label(u.status, lang)}",
            "detail": _detail(u, lang),
        }
        for u in result.units
        if u.status in UNIT_FINDINGS
    ]


def render_table(result: Comparison, lang: Lang, *, width: int, color: bool) -> str:
    from flowmatrix.render import to_table

    styles = {
        "verdict": {
            f"{symbol(v)} {verdict_label(v, lang)}": ("red" if v in ROW_FINDINGS else "green")
            for v in VERDICTS
        }
    }
    out = to_table(
        row_lines(result, lang), ROW_COLUMNS, lang, width=width, color=color, styles=styles
    )
    missing = flow_lines(result, lang)
    if missing:
        out += to_table(
            missing, FLOW_COLUMNS, lang, title=text("planned", lang), width=width, color=color
        )
    return out


def render_csv(result: Comparison, lang: Lang) -> str:
    """One line per row, then one per planned flow-port not covered (``kind`` says which)."""
    from flowmatrix.render import to_csv

    lines: list[dict[str, str]] = []
    for r in result.rows:
        lines.append(
            {
                "kind": "row",
                "where": r.where,
                "verdict": r.verdict,
                "flows": " ".join(r.flows),
                "protocol": "/".join(sorted(r.protocols)),
                "port": _ports(r.ports),
                "detail": "; ".join(texts(r.details, lang)),
            }
        )
    for u in result.units:
        if u.status in UNIT_FINDINGS:
            lines.append(
                {
                    "kind": "flow",
                    "where": "",
                    "verdict": u.status,
                    "flows": u.flow.id,
                    "protocol": u.flow.protocol,
                    "port": str(u.port),
                    "detail": _detail(u, lang),
                }
            )
    return to_csv(lines, ("kind", "where", "verdict", "flows", "protocol", "port", "detail"))
