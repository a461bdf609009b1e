"""``flowmatrix fleet``: verify from every source host at once, through Ansible."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowmatrix.cli import options as opt
from flowmatrix.cli.common import command_group, emit, emit_matrix, exit_with, load_plan_for, note

fleet_app = command_group(
    "fleet",
    "Verify from every source host at once, through Ansible: export an inventory, a "
    "playbook and a self-contained probe, run them, merge the results.",
)


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
    site: opt.SiteArg = None,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
) -> None:
    """Write the Ansible inventory (source hosts by role), the playbook, the probe and the plans.

    Connection settings stay in your own inventory or group_vars:
    ansible-playbook -i DIR/inventory.yml -i YOUR-INVENTORY DIR/playbook.yml
    """
    from flowmatrix.fleet.export_folder import export_fleet

    exported = export_fleet(load_plan_for(site, lang, catalog), output)
    emit(exported.describe(), None)


@fleet_app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run_command(
    ctx: typer.Context,
    site: opt.SiteArg = None,
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--workdir",
            "-w",
            help="Export here and keep it (default: a temporary folder).",
        ),
    ] = None,
    fmt: opt.MatrixFormatOpt = None,
    lang: opt.LangOpt = opt.Language.en,
    catalog: opt.CatalogOpt = None,
    output: opt.OutputOpt = None,
) -> None:
    """Export, run ansible-playbook, and merge the results into one flow matrix.

    Options after '--' go to ansible-playbook (-i YOUR-INVENTORY, --limit, --forks, --check,
    -e ...). Ansible's output goes to stderr; the matrix to stdout or -o.
    Exit 1 when a required flow failed or a host failed or was unreachable.
    """
    import tempfile

    from flowmatrix.fleet.ansible_run import fleet_run

    ansible_args = list(ctx.args)
    if site is not None and site.startswith("-"):
        ansible_args.insert(0, site)  # no SITE given: the first word was for ansible-playbook
        site = None
    plan = load_plan_for(site, lang, catalog)
    with tempfile.TemporaryDirectory(prefix="flowmatrix-fleet-") as scratch:
        outcome = fleet_run(plan, workdir or Path(scratch) / "fleet", ansible_args)
    for line in outcome.notes:
        note(line)
    if outcome.matrix is not None:
        emit_matrix(outcome.matrix, fmt, lang, output)
    exit_with(outcome.exit_code)
