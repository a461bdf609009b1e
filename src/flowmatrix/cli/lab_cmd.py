"""``flowmatrix lab``: rehearse the site's firewalls in network namespaces."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from flowmatrix.cli.app import app
from flowmatrix.cli.common import (
    CatalogOpt,
    LangOpt,
    Language,
    OutputOpt,
    SiteArg,
    emit,
    note,
    stdout_is_terminal,
    terminal_width,
)


class LabFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("lab")
def lab_command(
    site: SiteArg = None,
    rules: Annotated[
        list[str] | None,
        typer.Option(
            "--rules",
            metavar="FIREWALL=FILE",
            help="Load this nftables file into the firewall instead of the generated rules "
            "(rehearse a hand-edited ruleset). Repeatable.",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0.1,
            max=30.0,
            help="Seconds a probe waits: unplanned flows take this long to be called blocked.",
        ),
    ] = 1.0,
    unplanned: Annotated[
        int,
        typer.Option(
            "--unplanned",
            min=0,
            max=10,
            help="Unplanned probes per planned flow (other port, reversed, other source).",
        ),
    ] = 3,
    fmt: Annotated[
        LabFormat, typer.Option("--format", "-f", help="Output format.")
    ] = LabFormat.table,
    lang: LangOpt = Language.en,
    catalog: CatalogOpt = None,
    output: OutputOpt = None,
) -> None:
    """Rehearse the site in network namespaces: zones, firewalls with the generated
    nftables rules, listeners on the destinations, probes from the sources.

    Every planned flow must pass and a sample of unplanned ones (other ports, other
    sources, reversed direction) must be blocked; exit 1 otherwise. Needs root. Only
    namespaces the lab creates (named fmlab-...) carry traffic, and they are all removed
    at the end, also on error and on Ctrl-C.
    """
    import sys

    from flowmatrix.cli.common import load_plan_for
    from flowmatrix.errors import ExitCode
    from flowmatrix.lab import LabOptions, parse_rules_overrides, run_lab
    from flowmatrix.lab.report import to_json, to_table

    plan = load_plan_for(site, lang, catalog)
    options = LabOptions(
        timeout=timeout,
        unplanned_per_flow=unplanned,
        rulesets=parse_rules_overrides(rules or (), plan),
    )
    progress = note if sys.stderr.isatty() else None
    report = run_lab(plan, options, progress=progress)
    if fmt is LabFormat.json:
        emit(to_json(report), output)
    else:
        color = output is None and stdout_is_terminal()
        emit(to_table(report, lang.value, width=terminal_width(), color=color), output)
    note(report.summary_line())
    raise typer.Exit(int(ExitCode.FINDINGS if report.failed else ExitCode.OK))
