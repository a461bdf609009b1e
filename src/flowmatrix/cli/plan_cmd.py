"""``flowmatrix plan``: the concrete flow matrix of a site."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit, emit_as, exit_findings, load_plan_for, note, warn

if TYPE_CHECKING:
    from flowmatrix.model import Plan


@app.command("plan")
def plan_command(
    site: opt.SiteArg = None,
    lang: opt.LangOpt = opt.Language.en,
    fmt: opt.FormatOpt[opt.TableFormat] = opt.TableFormat.table,
    wide: Annotated[
        bool, typer.Option("--wide", "-w", help="Table: show zones and descriptions too.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="List the requirements left out, and why.")
    ] = False,
    strict: Annotated[
        bool, opt.strict_option("Exit 1 on warnings (a private address in the Internet zone...).")
    ] = False,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Resolve catalog x site into flows: who talks to whom, on what, across which firewalls."""
    from functools import partial

    from flowmatrix.export import PLAN_COLUMNS, PLAN_TABLE_COLUMNS, plan_rows, plan_to_dict
    from flowmatrix.render import to_csv, to_json, to_markdown, to_table

    plan = load_plan_for(site, lang, catalog)
    rows = plan_rows(plan)
    emit_as(
        fmt,
        output,
        table=partial(
            to_table,
            rows,
            PLAN_COLUMNS if wide else PLAN_TABLE_COLUMNS,
            lang.value,
            title=plan.site.name,
            styles={
                "status": {
                    "obsolete": "red",
                    "legacy": "yellow",
                    "odd": "magenta",
                    "obsolete: not requested": "red",
                    "legacy: not requested": "yellow",
                }
            },
        ),
        json=lambda: to_json(plan_to_dict(plan)),
        csv=partial(to_csv, rows, PLAN_COLUMNS),
        markdown=partial(to_markdown, rows, PLAN_COLUMNS, lang.value),
    )
    note(_summary(plan, lang))
    if explain:
        for skipped in plan.skipped:
            note(f"  left out {skipped.requirement}: {skipped.reason}")
        for line in _flow_explanations(plan):
            note(f"  {line}")
    warn(plan.warnings)
    exit_findings(strict and bool(plan.warnings))


def _flow_explanations(plan: Plan) -> list[str]:
    """Flows that are planned but not opened as they stand: missing, not requested,
    widened to 'any' by choice, or going through the proxy."""
    from flowmatrix.plan import missing_reason

    lines = []
    for flow in plan.flows:
        problem = missing_reason(flow) if flow.requested else None
        if problem is not None:
            lines.append(f"missing {flow.id}: {problem}")
        elif not flow.requested:
            lines.append(
                f"not requested {flow.id}: {flow.status} (keep_obsolete: [{flow.requirement}])"
            )
        for end in (flow.source, flow.destination):
            if end.any_address and end.any_reason and flow.proxy is None:
                lines.append(f"any {flow.id}: {end.role} as any Internet address: {end.any_reason}")
        if flow.proxy is not None and flow.proxy.leg == "client":
            lines.append(
                f"proxy {flow.id}: through {flow.proxy.proxy}:{flow.proxy.port} to "
                f"{', '.join(flow.proxy.names)} on {flow.proxy.ports.text(',')}"
            )
    for nat in plan.nat:
        served = [f.id for f in plan.flows if nat in f.nat]
        lines.append(f"nat {nat.describe()}: {', '.join(served) or 'no planned flow'}")
    return lines


def _summary(plan: Plan, lang: opt.Language) -> str:
    planned = {f.requirement for f in plan.flows}
    skipped = {s.requirement for s in plan.skipped}
    left_out, partly = len(skipped - planned), len(skipped & planned)
    firewalls = len({fw for f in plan.flows for fw in f.firewalls})
    if lang is opt.Language.fr:
        text = (
            f"{len(plan.flows)} flux à travers {firewalls} pare-feu ; "
            f"{left_out} exigence(s) écartée(s), {partly} en partie"
        )
        return text + ("" if not skipped else " (--explain pour le détail)")
    text = (
        f"{len(plan.flows)} flows across {firewalls} firewall(s); "
        f"{left_out} requirement(s) left out, {partly} in part"
    )
    return text + ("" if not skipped else " (--explain says why)")


@app.command("schema")
def schema_command(catalog: opt.CatalogOpt = None, output: opt.OutputOpt = None) -> None:
    """Print the JSON Schema of the site file, with the catalog's role, feature and
    requirement ids for an editor to complete."""
    from flowmatrix.catalog import DEFAULT_CATALOG, load_catalog
    from flowmatrix.render import to_json
    from flowmatrix.siteschema import site_schema

    emit(to_json(site_schema(load_catalog(catalog or DEFAULT_CATALOG))), output)


@app.command("example")
def example_command(
    name: Annotated[
        str, typer.Argument(help="Example name ('flowmatrix example --list').")
    ] = "default",
    list_them: Annotated[bool, typer.Option("--list", help="List the shipped examples.")] = False,
    output: opt.OutputOpt = None,
) -> None:
    """Print a shipped example site, to start your own from."""
    from flowmatrix.api import example_names, example_text

    if list_them:
        emit("\n".join(example_names()) + "\n", output)
        return
    emit(example_text(name), output)
