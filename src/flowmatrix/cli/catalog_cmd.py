"""``flowmatrix catalog``: the vendor's requirements as data."""

from __future__ import annotations

from typing import Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit, emit_as


@app.command("catalog")
def catalog_command(
    port: Annotated[
        list[int] | None, typer.Option("--port", "-p", help="Only rows with this port.")
    ] = None,
    role: Annotated[
        list[str] | None,
        opt.role_option("Only rows where this role (id or name) is a source or destination."),
    ] = None,
    section: Annotated[
        str | None, typer.Option("--section", help="Only this section (apps, devices, ads).")
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            "-s",
            help="Only rows whose texts contain this (any language, case-insensitive).",
        ),
    ] = None,
    roles: Annotated[
        bool, typer.Option("--roles", help="List the roles instead of requirements.")
    ] = False,
    features: Annotated[
        bool, typer.Option("--features", help="List the features instead of requirements.")
    ] = False,
    lang: opt.LangOpt = opt.Language.en,
    fmt: opt.FormatOpt[opt.TableFormat] = opt.TableFormat.table,
    catalog: opt.CatalogOpt = None,
    site: Annotated[
        str | None,
        typer.Option(
            "--site",
            metavar="SITE",
            help="The catalog of this site (file or example:NAME), with the site's own roles.",
        ),
    ] = None,
    output: opt.OutputOpt = None,
) -> None:
    """Show the catalog: every documented port requirement, in French and English."""
    from functools import partial

    from flowmatrix.catalog import DEFAULT_CATALOG, load_catalog
    from flowmatrix.catalog_export import CATALOG_COLUMNS, catalog_rows, catalog_to_dict
    from flowmatrix.catalog_query import feature_rows, filter_requirements, role_rows, worded
    from flowmatrix.render import to_csv, to_json, to_markdown, to_table

    if site is not None:
        from flowmatrix.api import load_site

        cat = load_site(site, catalog).catalog
    else:
        cat = load_catalog(catalog or DEFAULT_CATALOG)
    shown: list[dict[str, str]] | None = None  # the rows in words, for a table to read
    if roles or features:
        rows, columns = role_rows(cat, lang.value) if roles else feature_rows(cat, lang.value)
        shown = worded(rows, lang.value)
    else:
        reqs = filter_requirements(cat, ports=port, roles=role, section=section, search=search)
        if fmt is opt.TableFormat.json:
            emit(to_json(catalog_to_dict(cat, reqs)), output)
            return
        rows, columns = catalog_rows(cat, reqs, lang.value), list(CATALOG_COLUMNS)
    title = cat.catalog.title.get(lang.value) + f" ({cat.catalog.product}, {cat.catalog.date})"
    emit_as(
        fmt,
        output,
        # the terminal table leaves out how each row was read (long prose): the other
        # formats and `report` give it
        table=partial(
            to_table, shown or rows, [c for c in columns if c != "reading"], lang.value, title=title
        ),
        json=partial(to_json, rows),
        csv=partial(to_csv, rows, columns),
        markdown=partial(to_markdown, shown or rows, columns, lang.value),
    )
