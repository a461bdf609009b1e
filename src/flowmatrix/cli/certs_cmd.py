"""``flowmatrix certs``: the public certificates that certificate pinning needs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from flowmatrix.cli.app import app
from flowmatrix.cli.common import (
    CatalogOpt,
    LangOpt,
    Language,
    emit,
    stdout_is_terminal,
    terminal_width,
)
from flowmatrix.errors import UserError

certs_app = typer.Typer(
    help="Certificates for certificate pinning: collect them from the XenMobile and "
    "NetScaler Gateway endpoints, check certificate files (public certificates only).",
    no_args_is_help=True,
)
app.add_typer(certs_app, name="certs")


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[
    ReportFormat, typer.Option("--format", "-f", help="Report format (on stdout).")
]
WarnDaysOpt = Annotated[
    int,
    typer.Option(
        "--warn-days", min=0, help="Warn about certificates expiring within this many days."
    ),
]
OutputDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        "-o",
        help="Folder for the PEM files, one per certificate (created if needed).",
        show_default=False,
    ),
]


@certs_app.command("collect")
def collect_command(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="A site file (default: the embedded example; 'example:NAME' for another), "
            "or HOST:PORT endpoints instead of a site.",
            show_default=False,
        ),
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            "-r",
            help="Collect from the TLS endpoints of this role (repeatable; default: "
            "xenmobile and netscaler-gateway).",
            show_default=False,
        ),
    ] = None,
    sni: Annotated[
        str | None,
        typer.Option(
            "--sni",
            help="Name to send as SNI and to check the certificate against, for HOST:PORT "
            "endpoints.",
            show_default=False,
        ),
    ] = None,
    output_dir: OutputDirOpt = None,
    fmt: FormatOpt = ReportFormat.table,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds for each connect and handshake.")
    ] = 5.0,
    warn_days: WarnDaysOpt = 30,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Endpoints contacted at once.")
    ] = 16,
    lang: LangOpt = Language.en,
    catalog: CatalogOpt = None,
) -> None:
    """Fetch the certificate chains the servers present and save them as PEM files.

    Exit 1 when an endpoint cannot be reached or a certificate has a warning.
    """
    from flowmatrix.certs.collect import (
        PINNING_ROLES,
        collect,
        looks_like_target,
        parse_target,
        plan_targets,
    )
    from flowmatrix.certs.render import collect_to_dict, collect_to_text
    from flowmatrix.cli.common import load_plan_for
    from flowmatrix.render import to_json

    items = list(args or [])
    endpoints = [a for a in items if looks_like_target(a)]
    sites = [a for a in items if not looks_like_target(a)]
    if len(sites) > 1:
        raise UserError(
            f"one site file at most, got {len(sites)}: {', '.join(sites)}",
            hint="endpoints are written HOST:PORT",
        )
    if endpoints and sites:
        raise UserError(
            "give either a site file or HOST:PORT endpoints, not both",
            hint="with a site, choose endpoints with --role",
        )
    if endpoints:
        if role:
            raise UserError("--role selects endpoints of a site; it does not apply to HOST:PORT")
        targets = [parse_target(text, sni) for text in endpoints]
    else:
        if sni:
            raise UserError("--sni applies to HOST:PORT endpoints; a site gives each host's FQDN")
        plan = load_plan_for(sites[0] if sites else None, lang, catalog)
        targets = plan_targets(plan, tuple(role) if role else PINNING_ROLES)
    report = collect(
        targets,
        output_dir=output_dir,
        timeout=timeout,
        warn_days=warn_days,
        concurrency=concurrency,
    )
    if fmt is ReportFormat.json:
        emit(to_json(collect_to_dict(report)), None)
    else:
        color = stdout_is_terminal()
        emit(collect_to_text(report, lang.value, width=terminal_width(), color=color), None)
    raise typer.Exit(int(report.exit_code))


@certs_app.command("check")
def check_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Certificate files: PEM (one or many certificates) or DER.",
            show_default=False,
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Check that the (first) certificate covers this DNS name or address.",
            show_default=False,
        ),
    ] = None,
    output_dir: OutputDirOpt = None,
    fmt: FormatOpt = ReportFormat.table,
    warn_days: WarnDaysOpt = 30,
    lang: LangOpt = Language.en,
) -> None:
    """Describe certificate files; refuse (exit 2) any file that holds a private key.

    With -o, write a PEM copy of each certificate (DER input is converted), ready to hand
    over for certificate pinning. Exit 1 when a certificate has a warning.
    """
    from flowmatrix.certs.check import check_files
    from flowmatrix.certs.render import check_to_dict, check_to_text
    from flowmatrix.render import to_json

    report = check_files(files, name=name, warn_days=warn_days, output_dir=output_dir)
    if fmt is ReportFormat.json:
        emit(to_json(check_to_dict(report)), None)
    else:
        color = stdout_is_terminal()
        emit(check_to_text(report, lang.value, width=terminal_width(), color=color), None)
    raise typer.Exit(int(report.exit_code))
