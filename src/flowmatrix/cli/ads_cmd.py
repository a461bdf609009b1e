"""``flowmatrix ads``: reach the auto discovery service (ADS) from this network."""

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
    stdout_is_terminal,
    terminal_width,
)

ads_app = typer.Typer(
    help="The auto discovery service (ADS): devices must reach it before enrolment when "
    "certificate pinning is on.",
    no_args_is_help=True,
)
app.add_typer(ads_app, name="ads")


class AdsFormat(StrEnum):
    """The formats of ``verify``: an ADS-specific table, or the same JSON, CSV, JUnit keys."""

    table = "table"
    json = "json"
    csv = "csv"
    junit = "junit"


@ads_app.command("check")
def ads_check_command(
    site: SiteArg = None,
    resolver: Annotated[
        str | None,
        typer.Option(
            "--resolver",
            help="Ask this DNS server (IP[:PORT]) instead of the system resolver.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="TLS port to try on each address.")
    ] = 443,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=0.1, help="Seconds for the DNS answer, each connect and handshake."
        ),
    ] = 5.0,
    expected: Annotated[
        list[str] | None,
        typer.Option(
            "--expected",
            help="Address you expect ADS on (repeatable); replaces the catalog's documented "
            "2016 list in the comparison and the probes.",
            show_default=False,
        ),
    ] = None,
    documented: Annotated[
        bool,
        typer.Option(
            "--documented/--no-documented",
            help="Also try the documented (or --expected) addresses that DNS did not answer.",
        ),
    ] = True,
    ca_file: Annotated[
        str | None,
        typer.Option(
            "--ca-file",
            help="Trust these CA certificates (PEM) instead of this host's store.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        AdsFormat, typer.Option("--format", "-f", help="Output format.")
    ] = AdsFormat.table,
    lang: LangOpt = Language.en,
    catalog: CatalogOpt = None,
    output: OutputOpt = None,
) -> None:
    """Resolve the ADS name, compare it with the documented addresses, try TLS on each.

    Exit 1 when the name does not resolve, or an address DNS answered is not reachable
    with a valid certificate for the name.
    """
    from flowmatrix.certs.ads import check_ads
    from flowmatrix.certs.render import ads_to_csv, ads_to_dict, ads_to_junit, ads_to_text
    from flowmatrix.probe.resolve import parse_resolver
    from flowmatrix.render import to_json

    if site is not None:
        from flowmatrix.api import load_site

        resolved_catalog = load_site(site, catalog).catalog
    else:
        from flowmatrix.catalog import DEFAULT_CATALOG, load_catalog

        resolved_catalog = load_catalog(catalog or DEFAULT_CATALOG)
    report = check_ads(
        resolved_catalog,
        resolver=parse_resolver(resolver) if resolver else None,
        port=port,
        timeout=timeout,
        expected=expected,
        probe_documented=documented,
        ca_file=ca_file,
        lang=lang.value,
    )
    if fmt is AdsFormat.json:
        emit(to_json(ads_to_dict(report)), output)
    elif fmt is AdsFormat.csv:
        emit(ads_to_csv(report), output)
    elif fmt is AdsFormat.junit:
        emit(ads_to_junit(report), output)
    else:
        color = output is None and stdout_is_terminal()
        emit(ads_to_text(report, lang.value, width=terminal_width(), color=color), output)
    raise typer.Exit(int(report.exit_code))
