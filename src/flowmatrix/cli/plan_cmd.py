"""``flowmatrix plan``: the concrete flow matrix of a site."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli.app import app
from flowmatrix.cli.common import (
    CatalogOpt,
    LangOpt,
    Language,
    OutputOpt,
    SiteArg,
    TableFormat,
    emit,
    load_plan_for,
    note,
    stdout_is_terminal,
    terminal_width,
)

if TYPE_CHECKING:
    from flowmatrix.model import Plan


@app.command("plan")
def plan_command(
    site: SiteArg = None,
    lang: LangOpt = Language.en,
    fmt: Annotated[
        TableFormat, typer.Option("--format", "-f", help="Output format.")
    ] = TableFormat.table,
    wide: Annotated[
        bool, typer.Option("--wide", "-w", help="Table: show zones and descriptions too.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="List the requirements left out, and why.")
    ] = False,
    catalog: CatalogOpt = None,
    output: OutputOpt = None,
) -> None:
    """Resolve catalog x site into flows: who talks to whom, on what, across which firewalls."""
    from flowmatrix.export import PLAN_COLUMNS, PLAN_TABLE_COLUMNS, plan_rows, plan_to_dict
    from flowmatrix.render import to_csv, to_json, to_markdown, to_table

    plan = load_plan_for(site, lang, catalog)
    if fmt is TableFormat.json:
        emit(to_json(plan_to_dict(plan)), output)
    elif fmt is TableFormat.csv:
        emit(to_csv(plan_rows(plan), PLAN_COLUMNS), output)
    elif fmt is TableFormat.markdown:
        emit(to_markdown(plan_rows(plan), PLAN_COLUMNS, lang.value), output)
    else:
        color = output is None and stdout_is_terminal()
        styles = {"status": {"obsolete": "red", "legacy": "yellow", "odd": "magenta"}}
        text = to_table(
            plan_rows(plan),
            PLAN_COLUMNS if wide else PLAN_TABLE_COLUMNS,
            lang.value,
            title=plan.site.name,
            width=terminal_width(),
            color=color,
            styles=styles,
        )
        emit(text, output)
    summary = _summary(plan, lang)
    note(summary)
    if explain:
        for skipped in plan.skipped:
            note(f"  left out {skipped.requirement}: {skipped.reason}")
    for warning in plan.warnings:
        note(f"warning: {warning}")


def _summary(plan: Plan, lang: Language) -> str:
    planned = {f.requirement for f in plan.flows}
    skipped = {s.requirement for s in plan.skipped}
    left_out, partly = len(skipped - planned), len(skipped & planned)
    firewalls = len({fw for f in plan.flows for fw in f.firewalls})
    if lang is Language.fr:
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
def schema_command(output: OutputOpt = None) -> None:
    """Print the JSON Schema of the site file."""
    from flowmatrix.render import to_json
    from flowmatrix.site import Site

    schema = Site.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "flowmatrix site file"
    emit(to_json(schema), output)


@app.command("example")
def example_command(
    name: Annotated[
        str, typer.Argument(help="Example name ('flowmatrix example --list').")
    ] = "default",
    list_them: Annotated[bool, typer.Option("--list", help="List the shipped examples.")] = False,
    output: OutputOpt = None,
) -> None:
    """Print a shipped example site, to start your own from."""
    from flowmatrix.api import example_names, example_text

    if list_them:
        emit("\n".join(example_names()) + "\n", output)
        return
    emit(example_text(name), output)
