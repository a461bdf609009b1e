"""``flowmatrix merge``: many hosts' verify results -> one status per planned flow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flowmatrix.cli.app import app
from flowmatrix.cli.common import (
    CatalogOpt,
    LangOpt,
    Language,
    OutputOpt,
    TableFormat,
    emit,
    note,
    stdout_is_terminal,
    terminal_width,
)

SiteOpt = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time
    typer.Option(
        "--site",
        "-s",
        help="Site file the results were made from "
        "(default: the embedded example; 'example:NAME' for another).",
    ),
]
MatrixFormatOpt = Annotated[
    Optional[TableFormat],  # noqa: UP045
    typer.Option("--format", "-f", help="Output format (default: from the -o suffix, else table)."),
]


@app.command("merge")
def merge_command(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="JSON files of 'flowmatrix verify --format json' (one or more per source host).",
            show_default=False,
        ),
    ],
    site: SiteOpt = None,
    fmt: MatrixFormatOpt = None,
    lang: LangOpt = Language.en,
    catalog: CatalogOpt = None,
    output: OutputOpt = None,
) -> None:
    """Merge verify results from many hosts into one status per planned flow.

    A flow passes only when every port passed from every one of its source hosts; it fails
    as soon as one failed; a flow without results is 'not_tested', never passed.
    Exit 1 when a required flow failed.
    """
    from flowmatrix.cli.common import load_plan_for
    from flowmatrix.fleet.matrixdoc import format_for, render_matrix, summary_line
    from flowmatrix.fleet.merge import merge
    from flowmatrix.fleet.resultfile import read_result_file

    plan = load_plan_for(site, lang, catalog)
    matrix = merge(plan, [read_result_file(p) for p in results])
    chosen = format_for(str(output) if output else None, fmt.value if fmt else None)
    color = output is None and stdout_is_terminal()
    emit(render_matrix(matrix, chosen, lang.value, width=terminal_width(), color=color), output)
    for warning in matrix.warnings:
        note(f"warning: {warning}")
    note(summary_line(matrix))
    raise typer.Exit(int(matrix.exit_code))
