"""``flowmatrix report``: the flow matrix as a page, a change request, or a diagram."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit, load_plan_for, note


class ReportFormat(StrEnum):
    html = "html"
    xlsx = "xlsx"
    markdown = "markdown"
    dot = "dot"
    mermaid = "mermaid"


class DiagramLayout(StrEnum):
    auto = "auto"
    graphviz = "graphviz"
    builtin = "builtin"


@app.command("report")
def report_command(
    site: opt.SiteArg = None,
    fmt: Annotated[
        ReportFormat,
        opt.format_option(
            "html: one self-contained page; xlsx: the firewall change "
            "request; markdown; dot (Graphviz) or mermaid diagram text."
        ),
    ] = ReportFormat.html,
    results: Annotated[
        list[Path] | None,
        typer.Option(
            "--results",
            "-r",
            metavar="FILE",
            help="JSON written by 'verify', 'merge', 'audit' or 'lab' (--format json); repeat "
            "for several.",
        ),
    ] = None,
    layout: Annotated[
        DiagramLayout,
        typer.Option(
            "--layout",
            help="Diagram of the HTML page: Graphviz when installed (auto), or the "
            "built-in layout.",
        ),
    ] = DiagramLayout.auto,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Report the flow matrix: what is open, what is proven, what is not."""
    import sys

    from flowmatrix.errors import UserError
    from flowmatrix.i18n import _
    from flowmatrix.report.compose import build_report, summary_line

    if fmt is ReportFormat.xlsx and output is None and sys.stdout.isatty():
        raise UserError(
            _("an XLSX workbook is binary: it is not written to a terminal"),
            hint=_("add -o FILE.xlsx, or redirect the output to a file"),
        )
    plan = load_plan_for(site, lang, catalog)
    report = build_report(plan, fmt.value, results=results or (), layout=layout.value)
    emit(report.content, output)
    for line in summary_line(report):
        note(line)
