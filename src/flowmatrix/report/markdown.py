"""The report as Markdown for wikis: summary, Mermaid diagram, flow table, requirements.

Markdown renderers pass raw HTML through and turn brackets into links, so every user
text is neutralised first: ``< > &`` become HTML entities and Markdown punctuation is
written as numeric character references, which render as the character itself.
"""

from __future__ import annotations

from flowmatrix.i18n import _, language, ngettext, pgettext
from flowmatrix.report.diagram import Diagram
from flowmatrix.report.journey_summary import journey_rows
from flowmatrix.report.labels import (
    catalog_key,
    catalog_status_label,
    kind_label,
    label,
    pair,
    status_label,
)
from flowmatrix.report.mermaid import to_mermaid
from flowmatrix.report.status import STATUSES
from flowmatrix.report.style import LOOKS
from flowmatrix.report.view import ReportView
from flowmatrix.textsafe import one_line

_REFERENCES = {c: f"&#{ord(c)};" for c in "&<>*_`[]|~\\"}
_COLUMNS = (
    "check",
    "requirement",
    "id",
    "source",
    "source_addresses",
    "destination",
    "destination_addresses",
    "protocol",
    "ports",
    "firewalls",
    "status",
    "description",
)


def text(value: str) -> str:
    """``value`` as inert Markdown text on one line."""
    flat = one_line(value)
    return "".join(_REFERENCES.get(c, c) for c in flat)


def _table(rows: list[list[str]], headers: list[str]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def render_markdown(view: ReportView, diagram: Diagram) -> str:
    """The Markdown page, in the view's language."""
    with language(view.lang):
        return _render_markdown(view, diagram)


def _render_markdown(view: ReportView, diagram: Diagram) -> str:
    lang = view.lang
    plan = view.plan
    info = plan.catalog.catalog
    summary = view.summary
    statuses = [*STATUSES[-1:], *STATUSES[:-1]]  # proven first, as in the HTML
    out = [
        f"# {text(label('title', lang))} — {text(view.title)}",
        "",
        "- "
        + pair(
            text(label("catalog", lang)),
            f"{text(info.title.get(lang))} — {text(info.product)} ({info.date.isoformat()})",
        ),
        "- "
        + pair(
            text(label("site_file", lang)),
            text(plan.site_file or label("embedded_example", lang)),
        ),
    ]
    files = ", ".join(
        f"{text(f.path)} ({text(kind_label(f.kind, lang))}, {f.records})" for f in view.checks.files
    )
    out.append(
        "- " + pair(text(label("results_files", lang)), files or text(label("no_results", lang)))
    )
    out += ["", f"## {text(label('summary', lang))}", ""]
    headers = (
        [text(label("flows", lang))]
        + [f"{LOOKS[s].symbol} {text(status_label(s, lang))}" for s in statuses]
        + [text(label("obsolete_in_use", lang))]
    )
    counts = [str(summary.flows)] + [str(summary.counts[s]) for s in statuses]
    out += _table([[*counts, str(len(summary.obsolete))]], headers)
    retired = summary.obsolete + summary.legacy
    if retired:
        out += ["", f"### {text(label('obsolete_in_use', lang))}", ""]
        for entry in retired:
            req = entry.requirement
            assert req is not None
            flows = ngettext("{n} flow", "{n} flows", len(entry.flows)).format(n=len(entry.flows))
            line = "- " + pair(
                f"**{text(entry.id)}** ({text(catalog_status_label(req.status, lang))})",
                f"{text(req.description.get(lang))} ({text(flows)})",
            )
            if req.replacement is not None:
                line += ". " + pair(
                    text(label("replacement", lang)), text(req.replacement.description.get(lang))
                )
            out.append(line)
    if plan.warnings:
        out += ["", f"### {text(label('warnings', lang))}", ""]
        out += [f"- {text(w)}" for w in plan.warnings]
    journeys = journey_rows(plan, view.rows)
    if journeys:
        out += ["", f"### {text(label('per_journey', lang))}", ""]
        rows = [
            [
                text(j.id),
                text(j.name),
                f"{LOOKS[j.status].symbol} {text(status_label(j.status, lang))}",
                text(", ".join(r.flow.id for r in j.rows)),
                text(pgettext("list", "; ").join(j.blocking)),
            ]
            for j in journeys
        ]
        headers = ["id", "journey", "status", "flows", "blocked_by"]
        out += _table(rows, [text(label(h, lang)) for h in headers])
    out += ["", f"## {text(label('diagram', lang))}", "", "```mermaid"]
    out.append(to_mermaid(diagram).rstrip("\n"))
    out += ["```", "", f"## {text(label('matrix', lang))}", ""]
    rows = [
        [
            f"{LOOKS[r.status].symbol} {text(status_label(r.status, lang))}",
            text(r.flow.requirement),
            text(r.flow.id),
            text(
                f"{r.flow.source.role_name} ({r.source_hosts})"
                if r.source_hosts
                else r.flow.source.role_name
            ),
            text(r.source_addresses),
            text(
                f"{r.flow.destination.role_name} ({r.destination_hosts})"
                if r.destination_hosts
                else r.flow.destination.role_name
            ),
            text(", ".join(filter(None, [r.destination_fqdns, r.destination_addresses]))),
            r.flow.protocol,
            r.ports,
            text(" — ".join(filter(None, [r.firewalls or "—", r.flow.translations]))),
            text(catalog_status_label(catalog_key(r.flow.status, r.flow.requested), lang)),
            text(r.flow.description),
        ]
        for r in view.rows
    ]
    column_names = [text(label(c, lang)) for c in _COLUMNS]
    out += _table(rows, column_names)
    out += ["", f"## {text(label('requirements', lang))}", ""]
    for entry in view.requirements:
        req = entry.requirement
        assert req is not None
        source_label = "cited_source" if "not-in-source" in req.flags else "source_text"
        out += [
            f"### {text(entry.id)}",
            "",
            f"{text(req.description.get(lang))}",
            "",
            f"*{text(_('{name}:').format(name=label(source_label, lang)))}*",
            "",
        ]
        out += [f"> {text(line)}" if line.strip() else ">" for line in req.source_text.splitlines()]
        english = text(_("{name}:").format(name=label("english", lang)))
        out += ["", f"*{english}* {text(req.description.en)}", ""]
        if req.protocol_reason is not None:
            name = f"{label('documented_protocol', lang)} / {label('protocols_needed', lang)}"
            protocols = ", ".join(req.protocols).upper()
            out += [
                pair(
                    f"*{text(name)}*",
                    f"{text(req.documented_protocol)} → {protocols} "
                    f"({text(req.protocol_reason.get(lang))})",
                ),
                "",
            ]
        if req.reading is not None:
            out += [pair(f"*{text(label('reading', lang))}*", text(req.reading.get(lang))), ""]
    for entry in view.site_flows:
        site_flow = entry.site_flow
        assert site_flow is not None
        out += [
            f"### {text(entry.id)}",
            "",
            pair(text(label("site_flows", lang)), text(site_flow.description)),
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"
