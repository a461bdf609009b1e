"""``flowmatrix merge``: many hosts' verify results -> one status per planned flow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.app import app
from flowmatrix.cli.common import emit_matrix, exit_with, load_plan_for

SiteOpt = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time
    typer.Option(
        "--site",
        "-s",
        help=f"Site file the results were made from (default: {opt.SITE_DEFAULT}).",
    ),
]


@app.command("merge")
def merge_command(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="JSON files of 'flowmatrix verify --format json' (one or more per source "
            "host); listen, audit and lab documents are carried along to 'report'.",
            show_default=False,
        ),
    ],
    site: SiteOpt = None,
    fmt: opt.MatrixFormatOpt = None,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Merge verify results from many hosts into one status per planned flow.

    A flow passes only when every port passed from every one of its source hosts; it fails
    as soon as one failed; a flow without results is 'not_tested', never passed. The
    checks of listen, audit and lab documents given too are carried into the merged
    document for 'report'. Exit 1 when a required flow failed.
    """
    from flowmatrix.fleet.merge import merge
    from flowmatrix.fleet.resultfile import read_result_file

    plan = load_plan_for(site, lang, catalog)
    matrix = merge(plan, [read_result_file(p) for p in results])
    emit_matrix(matrix, fmt, lang, output)
    exit_with(matrix.exit_code)
