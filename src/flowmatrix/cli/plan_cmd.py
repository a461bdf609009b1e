"""``flowmatrix plan``: the concrete flow matrix of a site."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit, emit_as, exit_findings, load_plan_for, note, warn
from flowmatrix.i18n import _, ngettext

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

    from flowmatrix.export import (
        PLAN_COLUMNS,
        PLAN_TABLE_COLUMNS,
        plan_rows,
        plan_to_dict,
        status_words,
    )
    from flowmatrix.render import to_csv, to_json, to_markdown, to_table

    plan = load_plan_for(site, lang, catalog)
    rows = plan_rows(plan)
    shown = plan_rows(plan, words=True)  # for people: the status in words
    colours = {
        "obsolete": "red",
        "legacy": "yellow",
        "odd": "magenta",
        "obsolete: not requested": "red",
        "legacy: not requested": "yellow",
    }
    emit_as(
        fmt,
        output,
        table=partial(
            to_table,
            shown,
            PLAN_COLUMNS if wide else PLAN_TABLE_COLUMNS,
            lang.value,
            title=plan.site.name,
            styles={"status": {status_words(s): c for s, c in colours.items()}},
        ),
        json=lambda: to_json(plan_to_dict(plan)),
        csv=partial(to_csv, rows, PLAN_COLUMNS),
        markdown=partial(to_markdown, shown, PLAN_COLUMNS, lang.value),
    )
    note(_summary(plan))
    if explain:
        for skipped in plan.skipped:
            reason = _("left out {requirement}: {reason}").format(
                requirement=skipped.requirement, reason=skipped.reason
            )
            note(f"  {reason}")
        for line in _flow_explanations(plan):
            note(f"  {line}")
    warn(plan.warnings)
    exit_findings(strict and bool(plan.warnings))


def _flow_explanations(plan: Plan) -> list[str]:
    """Flows that are planned but not opened as they stand: missing, not requested,
    widened to 'any' by choice, or going through the proxy."""
    from flowmatrix.plan import missing_reason, status_word

    lines = []
    for flow in plan.flows:
        problem = missing_reason(flow) if flow.requested else None
        if problem is not None:
            lines.append(_("missing {flow}: {problem}").format(flow=flow.id, problem=problem))
        elif not flow.requested:
            lines.append(
                _("not requested {flow}: {status} (keep_obsolete: [{requirement}])").format(
                    flow=flow.id, status=status_word(flow.status), requirement=flow.requirement
                )
            )
        for end in (flow.source, flow.destination):
            if end.any_address and end.any_reason and flow.proxy is None:
                lines.append(
                    _("any {flow}: {role} as any Internet address: {reason}").format(
                        flow=flow.id, role=end.role, reason=end.any_reason
                    )
                )
        if flow.proxy is not None and flow.proxy.leg == "client":
            lines.append(
                _("proxy {flow}: through {proxy}:{port} to {names} on {ports}").format(
                    flow=flow.id,
                    proxy=flow.proxy.proxy,
                    port=flow.proxy.port,
                    names=", ".join(flow.proxy.names),
                    ports=flow.proxy.ports.text(","),
                )
            )
    for nat in plan.nat:
        served = [f.id for f in plan.flows if nat in f.nat]
        lines.append(
            _("nat {nat}: {flows}").format(
                nat=nat.describe(), flows=", ".join(served) or _("no planned flow")
            )
        )
    return lines


def _summary(plan: Plan) -> str:
    planned = {f.requirement for f in plan.flows}
    skipped = {s.requirement for s in plan.skipped}
    left_out, partly = len(skipped - planned), len(skipped & planned)
    firewalls = len({fw for f in plan.flows for fw in f.firewalls})
    # the English words stay as they were ("flows", "firewall(s)"); French agrees with n
    flows = ngettext("{n} flows", "{n} flows", len(plan.flows)).format(n=len(plan.flows))
    across = ngettext("{n} firewall(s)", "{n} firewall(s)", firewalls).format(n=firewalls)
    requirements = ngettext(
        "{n} requirement(s) left out", "{n} requirement(s) left out", left_out
    ).format(n=left_out)
    text = _("{flows} across {firewalls}; {requirements}, {partly} in part").format(
        flows=flows, firewalls=across, requirements=requirements, partly=partly
    )
    return text if not skipped else _("{summary} (--explain says why)").format(summary=text)


@app.command("schema")
def schema_command(
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
    lang: opt.LangOpt = opt.Language.en,
) -> None:
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
    lang: opt.LangOpt = opt.Language.en,
) -> None:
    """Print a shipped example site, to start your own from."""
    from flowmatrix.api import example_names, example_text

    if list_them:
        emit("\n".join(example_names()) + "\n", output)
        return
    emit(example_text(name), output)
