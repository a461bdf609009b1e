"""``flowmatrix ads``: reach the auto discovery service (ADS) from this network."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.common import command_group, emit_as, exit_with

ads_app = command_group(
    "ads",
    "The auto discovery service (ADS): devices must reach it before enrolment when "
    "certificate pinning is on.",
)


#: The formats of ``verify``: an ADS-specific table, or the same JSON, CSV, JUnit keys.
AdsFormat = StrEnum("AdsFormat", ["table", "json", "csv", "junit"])


@ads_app.command("check")
def ads_check_command(
    site: opt.SiteArg = None,
    resolver: opt.ResolverOpt = None,
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="TLS port to try on each address.")
    ] = 443,
    timeout: Annotated[
        float, opt.timeout_option("Seconds for the DNS answer, each connect and handshake.")
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
    ca_file: Annotated[str | None, opt.ca_file_option()] = None,
    fmt: opt.FormatOpt[AdsFormat] = AdsFormat.table,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Resolve the ADS name, compare it with the documented addresses, try TLS on each.

    Exit 1 when the name does not resolve, or an address DNS answered is not reachable
    with a valid certificate for the name.
    """
    from functools import partial

    from flowmatrix.plan_views import catalog_view
    from flowmatrix.probe.ads_check import check_ads
    from flowmatrix.probe.ads_report import ads_to_csv, ads_to_dict, ads_to_junit, ads_to_text
    from flowmatrix.probe.dns_check import parse_resolver
    from flowmatrix.render import to_json

    if site is not None:
        from flowmatrix.api import load_site

        resolved_catalog = load_site(site, catalog).catalog
    else:
        from flowmatrix.catalog import DEFAULT_CATALOG, load_catalog

        resolved_catalog = load_catalog(catalog or DEFAULT_CATALOG)
    report = check_ads(
        catalog_view(resolved_catalog),
        resolver=parse_resolver(resolver) if resolver else None,
        port=port,
        timeout=timeout,
        expected=expected,
        probe_documented=documented,
        ca_file=ca_file,
        lang=lang.value,
    )
    emit_as(
        fmt,
        output,
        table=partial(ads_to_text, report, lang.value),
        json=lambda: to_json(ads_to_dict(report)),
        csv=partial(ads_to_csv, report),
        junit=partial(ads_to_junit, report),
    )
    exit_with(report.exit_code)
