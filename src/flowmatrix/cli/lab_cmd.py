"""``flowmatrix lab``: rehearse the site's firewalls in network namespaces."""

from __future__ import annotations

from typing import Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit_as, exit_findings, exit_with, load_plan_for, note


@app.command("lab")
def lab_command(
    site: opt.SiteArg = None,
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
        opt.timeout_option(
            "Seconds a probe waits: unplanned flows take this long to be called blocked.", max=30.0
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
    clean: Annotated[
        bool,
        typer.Option(
            "--clean",
            help="Remove what earlier runs left when they were killed (fmlab- namespaces "
            "whose run is gone, their markers in /run/flowmatrix), then exit.",
        ),
    ] = False,
    fmt: opt.FormatOpt[opt.TableJsonFormat] = opt.TableJsonFormat.table,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Rehearse the site in network namespaces: zones, firewalls with the generated
    nftables rules, listeners on the destinations, probes from the sources.

    Every planned flow must pass and a sample of unplanned ones (other ports, other
    sources, reversed direction) must be blocked; exit 1 otherwise. Needs root. Only
    namespaces the lab creates (named fmlab-...) carry traffic, and they are all removed
    at the end, also on error, Ctrl-C, SIGTERM and SIGHUP (exit 128 + the signal number).
    """
    import os
    import sys
    from functools import partial

    from flowmatrix.errors import UserError
    from flowmatrix.i18n import _
    from flowmatrix.lab.debris import clean as remove_debris
    from flowmatrix.lab.debris import debris_line, find_debris
    from flowmatrix.lab.interrupts import Interrupted, InterruptGuard

    try:
        with InterruptGuard(final=True) as guard:
            if clean:
                if os.geteuid() != 0:
                    raise UserError(
                        _("lab --clean needs root"), hint=_("network namespaces are root's")
                    )
                cleaned = remove_debris(find_debris())
                note(cleaned.line())
                exit_findings(bool(cleaned.failed))
            leftovers = debris_line(find_debris())
            if leftovers:
                note(leftovers)
            from flowmatrix.journeys import lab_outcomes, summaries
            from flowmatrix.lab import LabOptions, parse_rules_overrides, run_lab
            from flowmatrix.lab.lab_report import to_json, to_table

            plan = load_plan_for(site, lang, catalog)
            options = LabOptions(
                timeout=timeout,
                unplanned_per_flow=unplanned,
                rulesets=parse_rules_overrides(rules or (), plan),
            )
            progress = note if sys.stderr.isatty() else None
            report = run_lab(plan, options, progress=progress)
            journeys = summaries(plan, lab_outcomes(report.results))

            def write() -> None:
                emit_as(
                    fmt,
                    output,
                    table=partial(to_table, report, lang.value),
                    json=partial(to_json, report),
                )
                note("\n".join([report.summary_line(), *journeys]))

            guard.report(write)
    except Interrupted as stopped:
        note(_("lab: {message}").format(message=stopped))
        exit_with(stopped.exit_code)
    exit_findings(report.failed)
