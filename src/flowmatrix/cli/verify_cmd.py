"""``flowmatrix verify``: probe the planned flows from this host."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit_as, exit_with, load_plan_for, note, warn

VerifyFormat = StrEnum("VerifyFormat", ["table", "json", "junit", "csv"])


@app.command("verify")
def verify_command(
    site: opt.SiteArg = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="ROLE|HOST|auto",
            help="Probe the flows whose source is this role or host; 'auto' (the default without "
            "--flow/--to) matches this host's addresses against the plan's sources.",
        ),
    ] = None,
    flows: Annotated[
        list[str] | None,
        typer.Option(
            "--flow",
            metavar="ID",
            help="Only this flow (or every flow of this requirement). Repeatable.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="ROLE|HOST",
            help="Only flows towards this role or host.",
        ),
    ] = None,
    timeout: Annotated[
        float, opt.timeout_option("Seconds to wait for an answer per probe.", min=0.05, max=120.0)
    ] = 2.0,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            min=0,
            max=10,
            help="Extra attempts for unanswered probes, spaced inside --timeout.",
        ),
    ] = 1,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=100_000,
            show_default=False,
            help="Probes in flight at once (default: 2048, or what the open-files limit "
            "allows). A number the limit cannot hold is refused (exit 2).",
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            min=0.1,
            help="Send at most this many packets per second: every SYN and datagram, "
            "retries included.",
        ),
    ] = None,
    two_ended: Annotated[
        bool,
        typer.Option(
            "--two-ended",
            help="Send marked probes that 'flowmatrix listen' at the destination "
            "answers (proves UDP flows; skips the TLS check).",
        ),
    ] = False,
    radius_secret: Annotated[
        str | None,
        typer.Option(
            "--radius-secret",
            envvar="FLOWMATRIX_RADIUS_SECRET",
            show_envvar=True,
            help="RADIUS shared secret for the Status-Server probe (prefer the environment "
            "variable: a command line is visible to other users).",
        ),
    ] = None,
    resolver: opt.ResolverOpt = None,
    ca_file: Annotated[
        Path | None, opt.ca_file_option(exists=True, dir_okay=False, readable=True)
    ] = None,
    no_tls: Annotated[
        bool,
        typer.Option(
            "--no-tls",
            help="Do not check TLS on the TLS ports.",
        ),
    ] = False,
    fmt: opt.FormatOpt[VerifyFormat] = VerifyFormat.table,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Probe the planned flows from this host: TCP, DNS / NTP / RADIUS, TLS certificates.

    Only the hosts and ports of the plan are ever probed. Exit 1 when a required flow
    fails (closed, filtered, unreachable) or shows a finding (expired certificate...).
    """
    import sys
    from functools import partial

    from flowmatrix.probe import report as render
    from flowmatrix.probe.progress import RichProgress
    from flowmatrix.probe.resolve import parse_resolver
    from flowmatrix.probe.runner import ProbeOptions
    from flowmatrix.probe.targets import Selection
    from flowmatrix.probe.verify import verify

    plan = load_plan_for(site, lang, catalog)
    options = ProbeOptions(
        timeout=timeout,
        retries=retries,
        concurrency=concurrency,
        rate=rate,
        two_ended=two_ended,
        radius_secret=radius_secret.encode("utf-8") if radius_secret else None,
        resolver=parse_resolver(resolver) if resolver else None,
        ca_file=str(ca_file) if ca_file else None,
        check_tls=not no_tls,
    )
    selection = Selection(source=source, flows=tuple(flows or ()), to=to)
    progress = RichProgress() if sys.stderr.isatty() else None
    report = verify(plan, selection, options, progress)
    warn(report.warnings)
    emit_as(
        fmt,
        output,
        table=partial(render.to_table_text, report, lang.value),
        json=partial(render.to_json_document, report),
        csv=partial(render.to_csv_text, report),
        junit=partial(render.to_junit, report),
    )
    note(render.summary_line(report))
    exit_with(report.exit_code)
