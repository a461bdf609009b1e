"""``flowmatrix listen``: stand in for a role's servers and log which planned flows arrive."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit_as, exit_findings, load_plan_for, note, warn

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flowmatrix.probe.listen import Binding


ListenFormat = StrEnum("ListenFormat", ["table", "json", "csv"])


@app.command("listen")
def listen_command(
    site: opt.SiteArg = None,
    role: Annotated[
        str,
        typer.Option(
            "--as",
            metavar="ROLE|HOST|auto",
            help="Listen for the flows towards this role or host; 'auto' matches this host's "
            "addresses against the plan's destinations.",
        ),
    ] = "auto",
    duration: Annotated[
        float,
        typer.Option(
            "--duration",
            min=0.1,
            help="Seconds to listen (Ctrl-C stops earlier).",
        ),
    ] = 300.0,
    bind: Annotated[
        list[str] | None,
        typer.Option(
            "--bind",
            metavar="ADDRESS",
            help="Address to listen on (repeatable). Default: the "
            "role's addresses in the plan that are on this host, else 0.0.0.0 and ::.",
        ),
    ] = None,
    expect_all: Annotated[
        bool,
        typer.Option(
            "--expect-all",
            help="Exit 1 if some planned flow did not arrive.",
        ),
    ] = False,
    strict: Annotated[
        bool,
        opt.strict_option(
            "Stop (exit 2) if any port cannot be bound, instead of going on with the others."
        ),
    ] = False,
    fmt: Annotated[
        ListenFormat, opt.format_option("Format of the final report.")
    ] = ListenFormat.table,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Open temporary TCP and UDP listeners on every port the role must receive.

    Each connection or datagram is logged (stderr) with the planned flow it matches;
    marked probes of 'verify --two-ended' are answered. At the end, the report says which
    planned flows arrived and which did not.
    """
    import asyncio
    from functools import partial

    from flowmatrix.i18n import _
    from flowmatrix.probe import listen_report as render
    from flowmatrix.probe.listen import ListenSession, build_listen_setup

    plan = load_plan_for(site, lang, catalog)
    setup = build_listen_setup(plan, role, tuple(bind or ()))
    warn(setup.warnings)

    def ready(bindings: Sequence[Binding]) -> None:
        bound = [b for b in bindings if b.bound]
        for binding in bindings:
            if binding.error is not None and not binding.optional:
                note(_("cannot listen: {error}").format(error=binding.error))
        ports = sorted(
            {f"{b.port}/{b.protocol}" for b in bound}, key=lambda p: (int(p.split("/")[0]), p)
        )
        note(
            _(
                "listening as {label} on {ports} ({addresses}) for {duration:g} s; Ctrl-C stops"
            ).format(
                label=setup.label,
                ports=", ".join(ports),
                addresses=", ".join(dict.fromkeys(b.address for b in bound)),
                duration=duration,
            )
        )

    session = ListenSession(setup, on_event=lambda e: note(render.event_line(e)), strict=strict)
    report = asyncio.run(session.run(duration, ready))
    emit_as(
        fmt,
        output,
        table=partial(render.to_table_text, report, lang.value),
        json=partial(render.to_json_text, report),
        csv=partial(render.to_csv_text, report),
    )
    note(render.summary_line(report))
    exit_findings(expect_all and bool(report.missing))
