"""Build a report of a plan in one of the formats people look at.

>>> from flowmatrix.api import load_plan
>>> from flowmatrix.report.compose import make_report
>>> page = make_report(load_plan(None), "html", layout="builtin")
>>> page.startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from flowmatrix.errors import UserError
from flowmatrix.evidence import Check
from flowmatrix.i18n import _, language, ngettext
from flowmatrix.model import Plan
from flowmatrix.report.diagram import Diagram, build_diagram
from flowmatrix.report.labels import label, status_count, status_label
from flowmatrix.report.result_files import read_results
from flowmatrix.report.status import STATUSES, Checks
from flowmatrix.report.view import ReportView, build_view

Format = Literal["html", "xlsx", "markdown", "dot", "mermaid"]
Layout = Literal["auto", "graphviz", "builtin"]
FORMATS: tuple[Format, ...] = get_args(Format)
LAYOUTS: tuple[Layout, ...] = get_args(Layout)
#: Formats whose output is bytes rather than text.
BINARY_FORMATS: frozenset[Format] = frozenset({"xlsx"})


@dataclass(frozen=True)
class Report:
    """A rendered report and what the caller may want to tell the user about it."""

    content: str | bytes
    view: ReportView
    diagram_engine: str | None = None
    """'graphviz' or 'builtin' for HTML, None for the other formats."""


def load_checks(
    plan: Plan, results: Sequence[str | Path] = (), checks: Sequence[Check] = ()
) -> Checks:
    """The per-flow checks from results files (verify, listen, lab, audit, merge) and
    from ``checks`` made in this process (none: every flow not tested)."""
    return read_results(list(results), plan, checks) if results or checks else Checks()


def internet_zone(plan: Plan) -> str | None:
    return plan.site.internet


def diagram_svg(plan: Plan, diagram: Diagram, layout: Layout) -> tuple[str, str]:
    """The diagram as inline SVG and the engine that drew it."""
    from flowmatrix.report.graphviz import dot_available, run_dot, sanitise_svg

    if layout == "graphviz" or (layout == "auto" and dot_available()):
        from flowmatrix.report.dot import to_dot

        try:
            svg = run_dot(to_dot(diagram, internet_zone(plan)))
            return sanitise_svg(svg), "graphviz"
        except UserError:
            if layout == "graphviz":
                raise
        except ValueError as exc:  # Graphviz wrote something that is not clean SVG
            if layout == "graphviz":
                raise UserError(
                    _("Graphviz output unusable: {error}").format(error=exc),
                    hint=_("use --layout builtin"),
                ) from None
    from flowmatrix.report.layout import to_svg

    lang = plan.lang
    svg = to_svg(
        diagram,
        status_text={s: status_label(s, lang) for s in STATUSES},
        retired_text=label("obsolete_or_legacy", lang),
        firewall_text=label("firewall", lang),
        internet_zone=internet_zone(plan),
    )
    return svg, "builtin"


def make_report(
    plan: Plan,
    fmt: Format,
    *,
    results: Sequence[str | Path] = (),
    checks: Sequence[Check] = (),
    layout: Layout = "auto",
) -> str | bytes:
    """The report's content: text for every format but XLSX, which is bytes."""
    return build_report(plan, fmt, results=results, checks=checks, layout=layout).content


def build_report(
    plan: Plan,
    fmt: Format,
    *,
    results: Sequence[str | Path] = (),
    checks: Sequence[Check] = (),
    layout: Layout = "auto",
) -> Report:
    """Render ``plan`` as ``fmt``, with the check status read from ``results`` and given
    as ``checks`` (``flowmatrix.evidence.Check``, e.g. ``ProbeResult.check()``); every
    text in the plan's language."""
    with language(plan.lang):
        return _build_report(plan, fmt, results, checks, layout)


def _build_report(
    plan: Plan,
    fmt: Format,
    results: Sequence[str | Path],
    checks: Sequence[Check],
    layout: Layout,
) -> Report:
    if fmt not in FORMATS:
        raise UserError(
            _("unknown report format {format!r}").format(format=fmt),
            hint=_("formats: {formats}").format(formats=", ".join(FORMATS)),
        )
    if layout not in LAYOUTS:
        raise UserError(
            _("unknown layout {layout!r}").format(layout=layout),
            hint=_("layouts: {layouts}").format(layouts=", ".join(LAYOUTS)),
        )
    found = load_checks(plan, results, checks)
    view = build_view(plan, found, label("any", plan.lang))
    if fmt == "xlsx":
        from flowmatrix.report.xlsx import render_xlsx

        return Report(render_xlsx(view), view)
    diagram = build_diagram(plan, found)
    if fmt == "dot":
        from flowmatrix.report.dot import to_dot

        return Report(to_dot(diagram, internet_zone(plan)), view)
    if fmt == "mermaid":
        from flowmatrix.report.mermaid import to_mermaid

        return Report(to_mermaid(diagram), view)
    if fmt == "markdown":
        from flowmatrix.report.markdown import render_markdown

        return Report(render_markdown(view, diagram), view)
    from flowmatrix.report.html import render_html

    svg, engine = diagram_svg(plan, diagram, layout)
    return Report(render_html(view, svg, engine), view, engine)


def summary_line(report: Report) -> list[str]:
    """What to tell the user once the report is written: the counts, and any doubt."""
    view = report.view
    with language(view.lang):
        return _summary_lines(report)


def _summary_lines(report: Report) -> list[str]:
    view = report.view
    summary = view.summary
    counts = ", ".join(
        status_count(s, summary.counts[s]) for s in ("proven", "failing", "depends", "not-tested")
    )
    flows = ngettext("{n} flow", "{n} flows", summary.flows).format(n=summary.flows)
    line = _("{flows}: {counts}").format(flows=flows, counts=counts)
    if summary.obsolete:
        line += _("; obsolete requirements in use: {requirements}").format(
            requirements=", ".join(e.id for e in summary.obsolete)
        )
    if report.diagram_engine is not None:
        line += _("; diagram: {engine}").format(engine=report.diagram_engine)
    lines = [line]
    for file in view.checks.files:
        if file.ignored:
            lines.append(
                _(
                    "warning: {file}: result lines without a flow id or a known state "
                    "(ignored): {count}"
                ).format(file=file.path, count=file.ignored)
            )
    if view.checks.unmatched:
        shown = ", ".join(view.checks.unmatched[:5])
        more = len(view.checks.unmatched) - 5
        if more > 0:
            shown = _("{flows} (+{more})").format(flows=shown, more=more)
        lines.append(
            _("warning: Results about flows that are not in this plan (ignored): {flows}").format(
                flows=shown
            )
        )
    return lines
