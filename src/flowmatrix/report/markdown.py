"""The report as Markdown for wikis: summary, Mermaid diagram, flow table, requirements.

Markdown renderers pass raw HTML through and turn brackets into links, so every user
text is neutralised first: ``< > &`` become HTML entities and Markdown punctuation is
written as numeric character references, which render as the character itself.
"""

from __future__ import annotations

from flowmatrix.report.diagram import Diagram
from flowmatrix.report.journeys import journey_rows
from flowmatrix.report.labels import catalog_key, catalog_status_label, label, status_label
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
    lang = view.lang
    plan = view.plan
    info = plan.catalog.catalog
    summary = view.summary
    statuses = [*STATUSES[-1:], *STATUSES[:-1]]  # proven first, as in the HTML
    out = [
        f"# {text(label('title', lang))} — {text(view.title)}",
        "",
        f"- {text(label('catalog', lang))}: {text(info.title.get(lang))} — "
        f"{text(info.product)} ({info.date.isoformat()})",
        f"- {text(label('site_file', lang))}: "
        f"{text(plan.site_file or label('embedded_example', lang))}",
    ]
    files = ", ".join(f"{text(f.path)} ({f.kind}, {f.records})" for f in view.checks.files)
    out.append(
        f"- {text(label('results_files', lang))}: {files or text(label('no_results', lang))}"
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
            line = (
                f"- **{text(entry.id)}** ({text(catalog_status_label(req.status, lang))}): "
                f"{text(req.description.get(lang))} "
                f"({text(label('flows', lang))}: {len(entry.flows)})"
            )
            if req.replacement is not None:
                line += f". {text(label('replacement', lang))}: "
                line += text(req.replacement.description.get(lang))
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
                text("; ".join(j.blocking)),
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
        out += [
            f"### {text(entry.id)}",
            "",
            f"{text(req.description.get(lang))}",
            "",
            f"*{text(label('source_text', lang))}:*",
            "",
        ]
        out += [f"> {text(line)}" if line.strip() else ">" for line in req.source_text.splitlines()]
        out += ["", f"*{text(label('english', lang))}:* {text(req.description.en)}", ""]
    for entry in view.site_flows:
        site_flow = entry.site_flow
        assert site_flow is not None
        out += [
            f"### {text(entry.id)}",
            "",
            f"{text(label('site_flows', lang))}: {text(site_flow.description)}",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"
