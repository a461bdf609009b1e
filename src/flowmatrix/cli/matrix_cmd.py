"""``flowmatrix matrix check``: the team's flow matrix (XLSX or CSV) against the plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.common import (
    command_group,
    emit,
    emit_as,
    exit_findings,
    load_plan_for,
    note,
)
from flowmatrix.errors import UserError
from flowmatrix.i18n import _

group = command_group("matrix", "Check an existing flow matrix (a spreadsheet) against the plan.")


@group.command("check")
def check_command(
    sheet_file: Annotated[
        Path,
        typer.Argument(
            metavar="SHEET", help="The team's matrix: .xlsx or .csv.", show_default=False
        ),
    ],
    site: opt.SiteArg = None,
    lang: opt.LangOpt = opt.Language.en,
    fmt: opt.FormatOpt[opt.TableFormat] = opt.TableFormat.table,
    output: opt.OutputOpt = None,
    annotated: Annotated[
        Optional[Path],  # noqa: UP045 - Typer reads the annotation at run time
        typer.Option(
            "--annotated",
            "-a",
            metavar="FILE.xlsx",
            help="Also write a copy of the workbook with a verdict column and a sheet of the "
            "missing flows (the original is never modified).",
        ),
    ] = None,
    sheet: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--sheet",
            help="Check this sheet only (repeatable). Default: every sheet "
            "with a recognisable header.",
        ),
    ] = None,
    columns: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--columns",
            metavar="FIELD=COL,...",
            help="Say which column holds what, e.g. source=B,destination=D,port=F,protocol=E.",
        ),
    ] = None,
    catalog: opt.CatalogOpt = None,
) -> None:
    """Compare each row with the plan: covered, missing, wrong protocol, wrong NetScaler
    address, too wide, obsolete, not in the plan. Exit 1 on any finding."""
    from functools import partial

    from flowmatrix.matrixcheck.check_matrix import check_matrix
    from flowmatrix.matrixcheck.columns import parse_override
    from flowmatrix.matrixcheck.output import (
        check_to_dict,
        render_csv,
        render_table,
        summary_line,
    )
    from flowmatrix.render import to_json

    override = parse_override(columns) if columns else None
    targets = [p for p in (output, annotated) if p is not None]
    for target in targets:
        if target.resolve() == sheet_file.resolve():
            raise UserError(
                _("{file} is the sheet being checked").format(file=target),
                hint=_("write the annotated copy or the report to another file"),
            )
    plan = load_plan_for(site, lang, catalog)
    check = check_matrix(sheet_file, plan, sheets=sheet, columns=override)
    result = check.result
    if fmt is opt.TableFormat.markdown:
        raise UserError(
            _("matrix check writes table, json or csv"), hint=_("use -f table|json|csv")
        )
    emit_as(
        fmt,
        output,
        table=partial(render_table, result, lang.value),
        json=lambda: to_json(check_to_dict(result, check.meta(), lang.value)),
        csv=partial(render_csv, result, lang.value),
    )
    if annotated is not None:
        from flowmatrix.matrixcheck.annotate import annotate

        emit(annotate(check.raw, check.is_xlsx, check.checked, result, lang.value), annotated)
    note(summary_line(result, lang.value))
    exit_findings(result.findings > 0)
