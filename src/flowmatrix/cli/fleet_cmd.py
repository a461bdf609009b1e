"""``flowmatrix fleet``: verify from every source host at once, through Ansible."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowmatrix.cli.app import app
from flowmatrix.cli.common import (
    CatalogOpt,
    LangOpt,
    Language,
    OutputOpt,
    SiteArg,
    TableFormat,
    emit,
    load_plan_for,
    note,
    stdout_is_terminal,
    terminal_width,
)

fleet_app = typer.Typer(
    help="Verify from every source host at once, through Ansible: export an inventory, a "
    "playbook and a self-contained probe, run them, merge the results.",
    no_args_is_help=True,
)
app.add_typer(fleet_app, name="fleet")


@fleet_app.command("export")
def export_command(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Folder to write into (created if missing).",
            show_default=False,
        ),
    ],
    site: SiteArg = None,
    lang: LangOpt = Language.en,
    catalog: CatalogOpt = None,
) -> None:
    """Write the Ansible inventory (source hosts by role), the playbook, the probe and the plans.

    Connection settings stay in your own inventory or group_vars:
    ansible-playbook -i DIR/inventory.yml -i YOUR-INVENTORY DIR/playbook.yml
    """
    from flowmatrix.fleet.export import export_fleet

    exported = export_fleet(load_plan_for(site, lang, catalog), output)
    emit(exported.describe(), None)


@fleet_app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run_command(
    ctx: typer.Context,
    site: SiteArg = None,
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--workdir",
            "-w",
            help="Export here and keep it (default: a temporary folder).",
        ),
    ] = None,
    fmt: Annotated[
        TableFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="Matrix format (default: from the -o suffix, else table).",
        ),
    ] = None,
    lang: LangOpt = Language.en,
    catalog: CatalogOpt = None,
    output: OutputOpt = None,
) -> None:
    """Export, run ansible-playbook, and merge the results into one flow matrix.

    Options after '--' go to ansible-playbook (-i YOUR-INVENTORY, --limit, --forks, --check,
    -e ...). Ansible's output goes to stderr; the matrix to stdout or -o.
    Exit 1 when a required flow failed or a host failed or was unreachable.
    """
    import tempfile

    from flowmatrix.fleet.matrixdoc import format_for, render_matrix, summary_line
    from flowmatrix.fleet.runner import fleet_run

    ansible_args = list(ctx.args)
    if site is not None and site.startswith("-"):
        ansible_args.insert(0, site)  # no SITE given: the first word was for ansible-playbook
        site = None
    plan = load_plan_for(site, lang, catalog)
    with tempfile.TemporaryDirectory(prefix="flowmatrix-fleet-") as scratch:
        outcome = fleet_run(plan, workdir or Path(scratch) / "fleet", ansible_args)
    for line in outcome.notes:
        note(line)
    if outcome.matrix is None:
        raise typer.Exit(int(outcome.exit_code))
    matrix = outcome.matrix
    chosen = format_for(str(output) if output else None, fmt.value if fmt else None)
    color = output is None and stdout_is_terminal()
    emit(render_matrix(matrix, chosen, lang.value, width=terminal_width(), color=color), output)
    for warning in matrix.warnings:
        note(f"warning: {warning}")
    note(summary_line(matrix))
    raise typer.Exit(int(outcome.exit_code))
