"""What ``matrix check`` says: verdict labels (FR/EN), table, JSON and CSV, and the summary.

Each verdict has a look borrowed from the report's check statuses (colour and symbol),
so the annotated workbook reads the same way as the change request, in grey print too.
"""

from __future__ import annotations

from typing import Any

from flowmatrix.catalog import Lang
from flowmatrix.matrixcheck.compare import ROW_FINDINGS, UNIT_FINDINGS, Comparison, Unit
from flowmatrix.matrixcheck.details import texts
from flowmatrix.report.status import Status
from flowmatrix.report.style import LOOKS

#: verdict -> (en, fr)
VERDICTS: dict[str, tuple[str, str]] = {
    "covered": ("covered", "couvert"),
    "missing": ("missing", "manquant"),
    "wrong_protocol": ("wrong protocol", "mauvais protocole"),
    "wrong_netscaler_address": ("wrong NetScaler address", "mauvaise adresse NetScaler"),
    "too_wide": ("too wide", "trop large"),
    "obsolete": ("obsolete", "obsolète"),
    "not_in_plan": ("not in the plan", "hors du plan"),
    "ignored": ("not an opening (ignored)", "pas une ouverture (ignorée)"),
    "not_requested": ("not requested", "non demandé"),
    "opened": ("opened, not requested", "ouvert, non demandé"),
}
#: verdict -> the report status whose look it borrows.
LOOK_OF: dict[str, Status] = {
    "covered": "proven",
    "not_in_plan": "depends",
    "ignored": "not-tested",
    "not_requested": "not-tested",
    "opened": "depends",
}
_TEXTS: dict[str, tuple[str, str]] = {
    "verdict_column": ("flowmatrix verdict", "Verdict flowmatrix"),
    "missing_sheet": ("Missing flows", "Flux manquants"),
    "flow": ("Flow", "Flux"),
    "justification": ("Justification", "Justification"),
    "rows": ("Rows", "Lignes"),
    "planned": ("Planned flows not covered", "Flux planifiés non couverts"),
}


def text(key: str, lang: Lang) -> str:
    pair = _TEXTS[key]
    return pair[1] if lang == "fr" else pair[0]


def verdict_label(verdict: str, lang: Lang) -> str:
    pair = VERDICTS[verdict]
    return pair[1] if lang == "fr" else pair[0]


def look(verdict: str) -> Status:
    return LOOK_OF.get(verdict, "failing")


def symbol(verdict: str) -> str:
    return LOOKS[look(verdict)].symbol


def _ports(ranges: tuple[tuple[int, int], ...]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def unit_end(unit: Unit, side: str) -> str:
    elements = unit.sources if side == "source" else unit.destinations
    if any(e.any for e in elements):
        return "any"
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
    rows = ", ".join(f"{n} {verdict_label(v, lang)}" for v, n in sorted(data["rows"].items()))
    flows = ", ".join(f"{n} {verdict_label(v, lang)}" for v, n in sorted(data["flows"].items()))
    if lang == "fr":
        return f"{len(result.rows)} ligne(s) : {rows or 'aucune'} ; flux-ports planifiés : {flows} ; {data['findings']} constat(s)"
    return f"{len(result.rows)} row(s): {rows or 'none'}; planned flow-ports: {flows}; {data['findings']} finding(s)"


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
            "source": unit_end(u, "source"),
            "destination": unit_end(u, "destination"),
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
