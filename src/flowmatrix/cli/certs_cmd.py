"""``flowmatrix certs``: the public certificates that certificate pinning needs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.common import command_group, emit_as, exit_with, load_plan_for
from flowmatrix.errors import UserError
from flowmatrix.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable

certs_app = command_group(
    "certs",
    "Certificates for certificate pinning: collect them from the XenMobile and "
    "NetScaler Gateway endpoints, check certificate files (public certificates only).",
)

ReportFormatOpt = Annotated[opt.TableJsonFormat, opt.format_option("Report format (on stdout).")]
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
            help=f"A site file (default: {opt.SITE_DEFAULT}), "
            "or HOST:PORT endpoints instead of a site.",
            show_default=False,
        ),
    ] = None,
    role: Annotated[
        list[str] | None,
        opt.role_option(
            "Collect from the TLS endpoints of this role (repeatable; default: "
            "xenmobile and netscaler-gateway)."
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
    fmt: ReportFormatOpt = opt.TableJsonFormat.table,
    timeout: Annotated[float, opt.timeout_option("Seconds for each connect and handshake.")] = 5.0,
    warn_days: WarnDaysOpt = 30,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Endpoints contacted at once.")
    ] = 16,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
) -> None:
    """Fetch the certificate chains the servers present and save them as PEM files.

    Exit 1 when an endpoint cannot be reached or a certificate has a warning.
    """
    from functools import partial

    from flowmatrix.certs.collect import (
        PINNING_ROLES,
        collect,
        looks_like_target,
        parse_target,
        plan_targets,
    )
    from flowmatrix.certs.reports import collect_to_dict, collect_to_text

    items = list(args or [])
    endpoints = [a for a in items if looks_like_target(a)]
    sites = [a for a in items if not looks_like_target(a)]
    if len(sites) > 1:
        raise UserError(
            _("one site file at most, got {count}: {files}").format(
                count=len(sites), files=", ".join(sites)
            ),
            hint=_("endpoints are written HOST:PORT"),
        )
    if endpoints and sites:
        raise UserError(
            _("give either a site file or HOST:PORT endpoints, not both"),
            hint=_("with a site, choose endpoints with --role"),
        )
    if endpoints:
        if role:
            raise UserError(_("--role selects endpoints of a site; it does not apply to HOST:PORT"))
        targets = [parse_target(text, sni) for text in endpoints]
    else:
        if sni:
            raise UserError(
                _("--sni applies to HOST:PORT endpoints; a site gives each host's FQDN")
            )
        plan = load_plan_for(sites[0] if sites else None, lang, catalog)
        targets = plan_targets(plan, tuple(role) if role else PINNING_ROLES)
    report = collect(
        targets,
        output_dir=output_dir,
        timeout=timeout,
        warn_days=warn_days,
        concurrency=concurrency,
    )
    _emit_report(fmt, lang, partial(collect_to_text, report), partial(collect_to_dict, report))
    exit_with(report.exit_code)


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
    fmt: ReportFormatOpt = opt.TableJsonFormat.table,
    warn_days: WarnDaysOpt = 30,
    lang: opt.LangOpt = opt.Language.en,
) -> None:
    """Describe certificate files; refuse (exit 2) any file that holds a private key.

    With -o, write a PEM copy of each certificate (DER input is converted), ready to hand
    over for certificate pinning. Exit 1 when a certificate has a warning.
    """
    from functools import partial

    from flowmatrix.certs.check import check_files
    from flowmatrix.certs.reports import check_to_dict, check_to_text

    report = check_files(files, name=name, warn_days=warn_days, output_dir=output_dir)
    _emit_report(fmt, lang, partial(check_to_text, report), partial(check_to_dict, report))
    exit_with(report.exit_code)


def _emit_report(
    fmt: opt.TableJsonFormat,
    lang: opt.Language,
    text: Callable[..., str],
    document: Callable[[], object],
) -> None:
    """The report on stdout (``-o`` names the folder of PEM files): text, or the JSON document."""
    from functools import partial

    from flowmatrix.render import to_json

    emit_as(fmt, None, table=partial(text, lang.value), json=lambda: to_json(document()))
